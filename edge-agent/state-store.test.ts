import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Policy } from '../protocol/index.js';
import { StateStore } from './state-store.js';
import { removeDir, tempDir } from './test-support.js';

const NOW = 1_763_758_800_000;
const policy: Policy = {
  v: 1,
  id: 'rue-residentielle',
  version: 7,
  issuedAt: NOW - 1000,
  site: { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' },
  failsafeLevel: 100,
  profiles: { residential: { schedule: [{ from: 'dusk', to: 'dawn', level: 50 }] } },
  lamps: { 'LYS-0001': { profile: 'residential' } },
};

describe('StateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => removeDir(dir));

  it('keeps a valid policy across re-open', () => {
    const a = new StateStore(dir);
    a.load(NOW);
    a.savePolicy(policy);
    const b = new StateStore(dir);
    expect(b.load(NOW).policyError).toBeNull();
    expect(b.policy()).toEqual(policy);
  });

  it('a corrupt stored policy loads as null (fail-safe), with the reason', () => {
    fs.writeFileSync(path.join(dir, 'policy.json'), '{"v":1,"id":"x", trunc');
    const s = new StateStore(dir);
    const r = s.load(NOW);
    expect(s.policy()).toBeNull();
    expect(r.policyError).toMatch(/not JSON/);
  });

  it('a stored policy that no longer validates loads as null, the field named', () => {
    fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({ ...policy, lamps: { L1: { profile: 'nope' } } }));
    const s = new StateStore(dir);
    expect(s.load(NOW).policyError).toMatch(/lamps\.L1\.profile/);
    expect(s.policy()).toBeNull();
  });

  it('never reuses a seq after re-open, even without a clean shutdown', () => {
    const used = new Set<number>();
    let last = -1;
    for (let boot = 0; boot < 5; boot++) {
      // Each boot is a fresh object on the same folder: nothing is flushed at "shutdown".
      const s = new StateStore(dir, { seqBlock: 4 });
      s.load(NOW);
      for (let i = 0; i < boot + 2; i++) {
        const seq = s.nextSeq();
        expect(used.has(seq)).toBe(false);
        expect(seq).toBeGreaterThan(last);
        used.add(seq);
        last = seq;
      }
    }
    expect(used.size).toBe(2 + 3 + 4 + 5 + 6);
  });

  it('a new or wiped gateway starts its seqs from the clock, above any earlier life', () => {
    const a = new StateStore(dir);
    a.load(NOW, null);
    expect(a.nextSeq()).toBe(NOW);
    const b = new StateStore(fs.mkdtempSync(path.join(dir, 'wiped-')));
    b.load(NOW, NOW + 41);
    expect(b.nextSeq()).toBe(NOW + 42);
  });

  it('seq stays above the outbox floor and above the clock when its record is corrupt', () => {
    const a = new StateStore(dir);
    a.load(NOW, 41);
    expect(a.nextSeq()).toBe(NOW);
    fs.writeFileSync(path.join(dir, 'seq.json'), 'xx');
    const b = new StateStore(dir);
    expect(b.load(NOW, 42).seqError).not.toBeNull();
    expect(b.nextSeq()).toBe(NOW);
  });

  it('persists overrides, dropping expired ones at load', () => {
    const a = new StateStore(dir);
    a.load(NOW);
    a.saveOverrides([
      { commandId: 'c1', lamps: 'all', level: 100, until: NOW + 60_000 },
      { commandId: 'c2', lamps: ['L1'], level: 0, until: NOW + 3_600_000 },
    ]);
    const b = new StateStore(dir);
    b.load(NOW + 120_000);
    expect(b.overrides(NOW + 120_000)).toEqual([{ commandId: 'c2', lamps: ['L1'], level: 0, until: NOW + 3_600_000 }]);
  });

  it('remembers applied command ids across re-open, bounded and expiring', () => {
    const a = new StateStore(dir, { maxCommandIds: 3, commandRetentionMs: 1000 });
    a.load(NOW);
    a.markApplied('c1', NOW + 10_000, NOW);
    a.markApplied('c2', NOW + 10_000, NOW);
    const b = new StateStore(dir, { maxCommandIds: 3, commandRetentionMs: 1000 });
    b.load(NOW);
    expect(b.isApplied('c1')).toBe(true);
    expect(b.isApplied('c3')).toBe(false);
    b.markApplied('c3', NOW + 10_000, NOW);
    b.markApplied('c4', NOW + 10_000, NOW);
    expect(b.isApplied('c1')).toBe(false); // oldest dropped past the bound
    expect(b.isApplied('c4')).toBe(true);
    b.markApplied('c5', NOW + 100_000, NOW + 20_000);
    expect(b.isApplied('c2')).toBe(false); // expired long ago
    expect(b.isApplied('c5')).toBe(true);
  });
});
