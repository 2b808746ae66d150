import path from 'node:path';
import { z } from 'zod';
import {
  firstIssue,
  idSchema,
  lampSelectionSchema,
  levelSchema,
  policySchema,
  tsSchema,
  type Policy,
} from '../protocol/index.js';
import type { ActiveOverride } from './dimming/types.js';
import { readFileIfExists, writeFileAtomic } from './atomic-file.js';
import { nodeFs, type EdgeFs } from './fs-port.js';

const seqRecordSchema = z.object({ v: z.literal(1), reservedUpTo: z.number().int().min(-1) });

export const storedOverrideSchema = z.object({
  commandId: idSchema,
  lamps: lampSelectionSchema,
  level: levelSchema,
  until: tsSchema,
});
const storedOverridesSchema = z.array(storedOverrideSchema);

const appliedCommandSchema = z.object({ id: idSchema, expiresAt: tsSchema });
const appliedCommandsSchema = z.array(appliedCommandSchema);

const commandSeqSchema = z.object({ v: z.literal(1), lastSeq: z.number().int().nonnegative() });

// The stored form must stay what the engine takes.
type StoredOverride = z.infer<typeof storedOverrideSchema>;
const _overrideFits = (o: StoredOverride): ActiveOverride => o;
void _overrideFits;

export interface StateStoreOptions {
  /** Seqs reserved per disk write; a crash skips at most this many, never reuses one. */
  seqBlock?: number;
  /** Applied command ids remembered, at most. */
  maxCommandIds?: number;
  /** How long past its expiresAt an applied id is still remembered (clock jumps). */
  commandRetentionMs?: number;
  /** The file calls, for tests that make the disk fail. Default node:fs. */
  fs?: EdgeFs;
}

export interface StateLoadResult {
  /** Why the stored policy was discarded (the gateway is in fail-safe), or null. */
  policyError: string | null;
  /** Why the seq record was unreadable (seqs restart above any possible earlier one), or null. */
  seqError: string | null;
  /**
   * Why the last accepted command seq was unreadable, or null. It restarts at 0: until the next
   * accepted command, a replay is stopped only by its expiry and the remembered command ids.
   */
  commandSeqError: string | null;
}

/**
 * What a gateway must remember across reboots, each in its own small file written atomically:
 * the last valid policy, the telemetry seq high-water mark, active overrides and the ids of
 * recently applied commands. A damaged file never stops the gateway: it falls back to safe
 * defaults (no policy = fail-safe lighting).
 */
export class StateStore {
  private readonly seqBlock: number;
  private readonly maxCommandIds: number;
  private readonly retentionMs: number;
  private currentPolicy: Policy | null = null;
  private next = 0;
  private reservedUpTo = -1;
  private storedOverrides: ActiveOverride[] = [];
  private readonly applied = new Map<string, number>();
  private lastCommandSeq = 0;
  private loaded = false;
  private readonly fs: EdgeFs;

  constructor(
    private readonly dir: string,
    opts: StateStoreOptions = {},
  ) {
    this.seqBlock = opts.seqBlock ?? 1000;
    this.maxCommandIds = opts.maxCommandIds ?? 2000;
    this.retentionMs = opts.commandRetentionMs ?? 3_600_000;
    this.fs = opts.fs ?? nodeFs;
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * `seqFloor`: highest seq known to be used elsewhere (the outbox), so a lost seq record
   * still never reuses one.
   */
  load(now: number, seqFloor: number | null = null): StateLoadResult {
    this.fs.mkdirSync(this.dir, { recursive: true });
    const result: StateLoadResult = { policyError: null, seqError: null, commandSeqError: null };

    this.currentPolicy = null;
    const policyText = readFileIfExists(this.file('policy.json'), this.fs);
    if (policyText !== null) {
      const parsed = parseJson(policyText, policySchema);
      if (parsed.ok) this.currentPolicy = parsed.value;
      else result.policyError = parsed.error;
    }

    const seqText = readFileIfExists(this.file('seq.json'), this.fs);
    const floor = seqFloor ?? -1;
    if (seqText === null) {
      // A new gateway, or one whose data folder was wiped (card replaced): start from clock
      // milliseconds, above any seq an earlier life of this cabinet can have used, so the
      // controller does not drop the new telemetry as already stored.
      this.next = Math.max(floor + 1, now);
    } else {
      const parsed = parseJson(seqText, seqRecordSchema);
      if (parsed.ok) {
        // Skip whatever was left of the reserved block: it may have been used before a crash.
        this.next = Math.max(parsed.value.reservedUpTo, floor) + 1;
      } else {
        // Nothing says how far the seqs went; clock milliseconds are above any count of
        // telemetry messages since the epoch, so they cannot collide with an earlier seq.
        result.seqError = parsed.error;
        this.next = Math.max(floor + 1, now);
      }
    }
    this.reservedUpTo = this.next - 1;

    this.storedOverrides = [];
    const ovText = readFileIfExists(this.file('overrides.json'), this.fs);
    if (ovText !== null) {
      const parsed = parseJson(ovText, storedOverridesSchema);
      if (parsed.ok) this.storedOverrides = parsed.value.filter((o) => o.until > now);
    }

    this.applied.clear();
    const cmdText = readFileIfExists(this.file('commands.json'), this.fs);
    if (cmdText !== null) {
      const parsed = parseJson(cmdText, appliedCommandsSchema);
      if (parsed.ok) for (const c of parsed.value) this.applied.set(c.id, c.expiresAt);
    }
    this.lastCommandSeq = 0;
    const cmdSeqText = readFileIfExists(this.file('command-seq.json'), this.fs);
    if (cmdSeqText !== null) {
      const parsed = parseJson(cmdSeqText, commandSeqSchema);
      if (parsed.ok) this.lastCommandSeq = parsed.value.lastSeq;
      else result.commandSeqError = parsed.error;
    }
    this.prune(now);
    this.loaded = true;
    return result;
  }

  policy(): Policy | null {
    return this.currentPolicy;
  }

  savePolicy(p: Policy | null): void {
    this.assertLoaded();
    if (p === null) this.fs.rmSync(this.file('policy.json'), { force: true });
    else writeFileAtomic(this.file('policy.json'), JSON.stringify(p), this.fs);
    this.currentPolicy = p;
  }

  /** The next telemetry seq: strictly increasing, never reused, even across a kill -9. */
  nextSeq(): number {
    this.assertLoaded();
    const seq = this.next;
    if (seq > this.reservedUpTo) {
      const reservedUpTo = seq + this.seqBlock - 1;
      writeFileAtomic(this.file('seq.json'), JSON.stringify({ v: 1, reservedUpTo }), this.fs);
      this.reservedUpTo = reservedUpTo;
    }
    this.next = seq + 1;
    return seq;
  }

  overrides(now: number): ActiveOverride[] {
    return this.storedOverrides.filter((o) => o.until > now);
  }

  saveOverrides(list: readonly ActiveOverride[]): void {
    this.assertLoaded();
    writeFileAtomic(this.file('overrides.json'), JSON.stringify(list), this.fs);
    this.storedOverrides = [...list];
  }

  isApplied(commandId: string): boolean {
    return this.applied.has(commandId);
  }

  markApplied(commandId: string, expiresAt: number, now: number): void {
    this.assertLoaded();
    this.applied.delete(commandId);
    this.applied.set(commandId, expiresAt);
    this.prune(now);
    const list = [...this.applied].map(([id, exp]) => ({ id, expiresAt: exp }));
    writeFileAtomic(this.file('commands.json'), JSON.stringify(list), this.fs);
  }

  /** The highest command seq accepted so far (0: none), as on disk. */
  commandSeq(): number {
    return this.lastCommandSeq;
  }

  /**
   * Records `seq` as the last accepted command seq, on disk before it counts: if the write fails
   * (full disk) this throws and the command must not be applied, or a restart would accept its
   * replay.
   */
  saveCommandSeq(seq: number): void {
    this.assertLoaded();
    if (!(seq > this.lastCommandSeq)) throw new Error(`command seq ${seq} is not above ${this.lastCommandSeq}`);
    writeFileAtomic(this.file('command-seq.json'), JSON.stringify({ v: 1, lastSeq: seq }), this.fs);
    this.lastCommandSeq = seq;
  }

  private prune(now: number): void {
    for (const [id, exp] of this.applied) {
      // Past its expiry a replay is refused as expired anyway.
      if (exp + this.retentionMs < now) this.applied.delete(id);
    }
    while (this.applied.size > this.maxCommandIds) {
      const oldest = this.applied.keys().next().value as string;
      this.applied.delete(oldest);
    }
  }

  private assertLoaded(): void {
    if (!this.loaded) throw new Error('state store not loaded');
  }
}

function parseJson<T>(text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: firstIssue(parsed.error).message };
}
