import { describe, expect, it } from 'vitest';
import { deriveCommandKey, signCommand } from '../controller/command-signing.js';
import { commandSchema, commandSigningInput, type InputOf } from '../protocol/index.js';
import { checkCommand, commandKeyFromSecret } from './command-auth.js';

const SECRET = 'c2VjcmV0LW9mLXRoZS1jYWJpbmV0';
const key = commandKeyFromSecret(SECRET);
const override: InputOf<'command'> = {
  v: 1, id: 'c1', ts: 1_763_758_800_000, expiresAt: 1_763_758_860_000, kind: 'override', lamps: ['L1'], level: 40, durationS: 600,
};
const presence: InputOf<'command'> = {
  v: 1, id: 'p1', ts: 1_763_758_800_000, expiresAt: 1_763_758_810_000, kind: 'presence', lampId: 'L2', count: 1, hops: 1, roadUser: 'vehicle',
};
const parse = (c: unknown) => commandSchema.parse(c);

describe('command signatures', () => {
  it('the gateway derives from its password the key the controller stored', () => {
    expect(commandKeyFromSecret(SECRET).equals(deriveCommandKey(SECRET))).toBe(true);
    expect(commandKeyFromSecret(`${SECRET}x`).equals(key)).toBe(false);
  });

  it('accepts a command signed for this cabinet with a seq above the last', () => {
    for (const c of [override, presence, { v: 1, id: 'k', ts: 1, expiresAt: 2, kind: 'clear-override' } as const]) {
      const signed = parse(signCommand(key, 'CAB-1', c, 42));
      expect(checkCommand(key, 'CAB-1', signed, 41)).toEqual({ ok: true, seq: 42 });
    }
  });

  it('refuses unsigned, foreign, replayed and reordered commands', () => {
    expect(checkCommand(key, 'CAB-1', parse(override), 0)).toEqual({ ok: false, error: 'unsigned' });
    expect(checkCommand(key, 'CAB-1', parse({ ...override, seq: 5 }), 0)).toEqual({ ok: false, error: 'unsigned' });
    const signed = parse(signCommand(key, 'CAB-1', override, 10));
    // Signed for another cabinet, or with another cabinet's key.
    expect(checkCommand(key, 'CAB-2', signed, 0)).toEqual({ ok: false, error: 'bad_signature' });
    expect(checkCommand(commandKeyFromSecret('other'), 'CAB-1', signed, 0)).toEqual({ ok: false, error: 'bad_signature' });
    // The same seq again, or an older one arriving after a newer.
    expect(checkCommand(key, 'CAB-1', signed, 10)).toEqual({ ok: false, error: 'replayed' });
    expect(checkCommand(key, 'CAB-1', signed, 11)).toEqual({ ok: false, error: 'replayed' });
  });

  it('every field the gateway acts on is covered: changing any one breaks the signature', () => {
    const tampered: Array<[InputOf<'command'>, Record<string, unknown>]> = [
      [override, { id: 'c2' }], [override, { seq: 11 }], [override, { ts: 1 }], [override, { expiresAt: 1_863_758_860_000 }],
      [override, { lamps: 'all' }], [override, { lamps: ['L1', 'L2'] }], [override, { level: 0 }], [override, { durationS: 2_678_400 }],
      [override, { kind: 'clear-override' }],
      [presence, { lampId: 'L3' }], [presence, { count: 9 }], [presence, { hops: 5 }], [presence, { roadUser: 'pedestrian' }],
    ];
    for (const [base, change] of tampered) {
      const signed = signCommand(key, 'CAB-1', base, 10);
      const parsed = commandSchema.safeParse({ ...signed, ...change });
      expect(parsed.success, JSON.stringify(change)).toBe(true);
      const r = checkCommand(key, 'CAB-1', parsed.data!, 0);
      expect(r, JSON.stringify(change)).toEqual({ ok: false, error: 'bad_signature' });
    }
  });

  it('the signed text is the documented JSON array, absent fields as null', () => {
    expect(commandSigningInput('CAB-1', parse(override), 7)).toBe(
      '["luciole-command-v1","CAB-1","c1",7,1763758800000,1763758860000,"override",["L1"],40,600,null,null,null,null]',
    );
    expect(commandSigningInput('CAB-1', parse({ v: 1, id: 'k', ts: 1, expiresAt: 2, kind: 'clear-override' }), 8)).toBe(
      '["luciole-command-v1","CAB-1","k",8,1,2,"clear-override","all",null,null,null,null,null,null]',
    );
  });
});

describe('docs/protocol.md test vector', () => {
  it('the documented key and signature are what the code computes', () => {
    const k = commandKeyFromSecret('example-secret');
    expect(k.toString('hex')).toBe('167d58e2584a0735f90de00d69de5505505e8c4dca3eb4aeba654f3d2d74c74f');
    const c = parse({ v: 1, id: '9f1c2c', ts: 1763758800000, expiresAt: 1763758860000, kind: 'override', lamps: ['LYS-0001'], level: 100, durationS: 3600 });
    const signed = signCommand(k, 'CAB-01', c, 1763758800000000);
    expect(signed.sig).toBe('cfe770a046216960b8096287b0e075ac846e7adb4ce3fae0c3b2ed595db4fb37');
  });
});
