import { describe, it, expect, afterEach } from 'vitest';
import type { FaultCode, LampReading } from '../../protocol/index.js';
import type { LampEnergy, LampSample, PresenceRecord, TelemetryRecord, TelemetryStore } from '../../controller/stores.js';

/**
 * The telemetry store contract: the same writes give the same answers on every implementation
 * (energy per night, lamp history, presence counts), duplicates are stored once, order does not
 * matter. Expected answers come from a plain reference model of the generated data below, not
 * from any store.
 */

export interface StoreHarness {
  /** A new, opened store over empty storage. */
  fresh(): Promise<TelemetryStore>;
  /** Closes `store` and opens a new instance over the same storage (a controller restart). */
  reopen(store: TelemetryStore): Promise<TelemetryStore>;
  /** Closes what is open and removes the storage of the test. */
  cleanup(): Promise<void>;
}

const MIN = 60_000;
const HOUR = 3_600_000;
/** Recent enough for any retention policy, hour-aligned for readable windows. */
export const T0 = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR;
const STEPS = 40;

interface LampDef {
  id: string;
  cabinet: string;
  n: number;
}

const LAMPS: LampDef[] = [
  { id: 'LYS-0001', cabinet: 'C1', n: 1 },
  { id: 'LYS-0002', cabinet: 'C1', n: 2 },
  { id: 'LYS-0003', cabinet: 'C1', n: 3 },
  { id: 'LYS-0004', cabinet: 'C2', n: 4 },
  { id: 'LYS-0005', cabinet: 'C2', n: 5 },
];

export const ZONES = new Map(LAMPS.map((l) => [l.id, l.n <= 3 ? 'Centre ville' : 'Quartier,Est']));

/** Message k of a cabinet at T0 + k min, seq 100 + k. Lamp 2 has its counter reset at k = 17. */
export function generate(): { messages: TelemetryRecord[]; presence: PresenceRecord[] } {
  const counters = new Map(LAMPS.map((l) => [l.id, 1000 * l.n]));
  const messages: TelemetryRecord[] = [];
  for (let k = 0; k < STEPS; k++) {
    for (const cabinet of ['C1', 'C2']) {
      const lamps: LampReading[] = [];
      for (const l of LAMPS.filter((x) => x.cabinet === cabinet)) {
        let e = counters.get(l.id)! + ((k * 7 + l.n * 3) % 11) + 1;
        if (l.n === 2 && k === 17) e = 2;
        counters.set(l.id, e);
        const level = (k * 13 + l.n * 29) % 101;
        const fault: FaultCode | null = (k + l.n) % 9 === 0 ? 'overheat' : null;
        lamps.push({ id: l.id, level, powerW: level * 0.25, energyWh: e, fault });
      }
      const ts = T0 + k * MIN;
      messages.push({
        cabinetId: cabinet,
        seq: 100 + k,
        ts,
        periodS: 60,
        receivedAt: ts + 40,
        ...(cabinet === 'C1' ? { cabinet: { voltageV: 230.5, powerW: 64.25, energyWh: 5000 + k } } : {}),
        lamps,
      });
    }
  }
  const presence: PresenceRecord[] = [];
  for (let i = 0; i < 25; i++) {
    const l = LAMPS[(i * 3) % LAMPS.length]!;
    presence.push({
      cabinetId: l.cabinet,
      lampId: l.id,
      sensorId: `S-${l.n}`,
      kind: (['pedestrian', 'cyclist', 'vehicle', 'unknown'] as const)[i % 4]!,
      count: (i % 3) + 1,
      ts: T0 + i * 97_000 + 123,
    });
  }
  return { messages, presence };
}

// ---------------- reference model ----------------

function samplesOf(messages: readonly TelemetryRecord[]): Map<string, LampSample[]> {
  const out = new Map<string, LampSample[]>();
  for (const m of messages) {
    for (const l of m.lamps) {
      let list = out.get(l.id);
      if (!list) out.set(l.id, (list = []));
      list.push({ ts: m.ts, level: l.level, powerW: l.powerW, energyWh: l.energyWh, fault: l.fault });
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.ts - b.ts);
  return out;
}

export function referenceEnergy(messages: readonly TelemetryRecord[], from: number, to: number): LampEnergy[] {
  const out: LampEnergy[] = [];
  for (const [lampId, list] of samplesOf(messages)) {
    let prev: number | null = null;
    let energy = 0;
    let n = 0;
    for (const s of list) {
      if (s.ts >= to) break;
      if (s.ts >= from) {
        n++;
        if (prev !== null) energy += s.energyWh < prev ? s.energyWh : s.energyWh - prev;
      }
      prev = s.energyWh;
    }
    if (n > 0) out.push({ lampId, energyWh: energy, samples: n });
  }
  return out.sort((a, b) => a.lampId.localeCompare(b.lampId));
}

function referenceHistory(messages: readonly TelemetryRecord[], lampId: string, from: number, to: number): LampSample[] {
  return (samplesOf(messages).get(lampId) ?? []).filter((s) => s.ts >= from && s.ts < to);
}

function referencePresence(presence: readonly PresenceRecord[], from: number, to: number): Array<{ lampId: string; count: number }> {
  const m = new Map<string, number>();
  for (const p of presence) if (p.ts >= from && p.ts < to) m.set(p.lampId, (m.get(p.lampId) ?? 0) + p.count);
  return [...m].map(([lampId, count]) => ({ lampId, count })).sort((a, b) => a.lampId.localeCompare(b.lampId));
}

/** Two "nights" split in the middle of the data, one window not starting at the first sample, and all. */
export const WINDOWS: Array<[number, number]> = [
  [T0, T0 + 20 * MIN],
  [T0 + 20 * MIN, T0 + STEPS * MIN],
  [T0 + 11 * MIN, T0 + 29 * MIN + 1],
  [0, Infinity],
];

/** Checks every answer of `store` against the reference model of `messages` and `presence`. */
export async function expectAnswers(
  store: TelemetryStore,
  messages: readonly TelemetryRecord[],
  presence: readonly PresenceRecord[] = [],
): Promise<void> {
  for (const [from, to] of WINDOWS) {
    expect(await store.energyByLamp(from, to), `energy in [${from - T0}, ${to - T0})`).toEqual(
      referenceEnergy(messages, from, to),
    );
  }
  for (const lampId of ['LYS-0002', 'LYS-0005']) {
    expect(await store.lampHistory(lampId, T0 + 5 * MIN, T0 + 30 * MIN)).toEqual(
      referenceHistory(messages, lampId, T0 + 5 * MIN, T0 + 30 * MIN),
    );
  }
  if (presence.length > 0) {
    for (const [from, to] of [
      [T0, T0 + 20 * MIN],
      [T0 + 7 * MIN, T0 + 60 * MIN],
    ] as const) {
      expect(await store.presenceCounts(from, to)).toEqual(referencePresence(presence, from, to));
      expect(await store.presenceEvents?.(from, to)).toEqual(
        presence
          .filter((p) => p.ts >= from && p.ts < to)
          .map((p) => ({ lampId: p.lampId, ts: p.ts, kind: p.kind }))
          .sort((a, b) => a.ts - b.ts),
      );
    }
  }
}

/** A deterministic shuffle (mulberry32). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function telemetryContract(name: string, harness: () => StoreHarness): void {
  describe(`telemetry store contract: ${name}`, () => {
    let h: StoreHarness;

    afterEach(async () => {
      await h?.cleanup();
    });

    it('answers energy per night, lamp history and presence counts from the counters', async () => {
      h = harness();
      const store = await h.fresh();
      const { messages, presence } = generate();
      let samples = 0;
      for (const b of batches(messages, 7)) samples += (await store.writeTelemetry(b)).samples;
      await store.writePresence(presence);
      expect(samples).toBe(messages.reduce((n, m) => n + m.lamps.length, 0));
      expect(store.queueDepth()).toBe(0);
      await expectAnswers(store, messages, presence);
      // The reset of lamp 2 counts its new counter value, not a negative delta.
      const lamp2 = (await store.energyByLamp(T0 + 17 * MIN, T0 + 18 * MIN)).find((e) => e.lampId === 'LYS-0002');
      expect(lamp2).toEqual({ lampId: 'LYS-0002', energyWh: 2, samples: 1 });
      expect(await store.energyByLamp(T0 - HOUR, T0)).toEqual([]);
      expect(await store.lampHistory('nobody', 0, Infinity)).toEqual([]);
    });

    it('stores a duplicate once, in the same batch, in a later batch and after a restart', async () => {
      h = harness();
      let store = await h.fresh();
      const { messages } = generate();
      const first = await store.writeTelemetry(messages);
      expect(first).toMatchObject({ stored: messages.length, duplicates: 0 });
      // A gateway replays part of its outbox, twice over within one batch.
      const replay = [...messages.slice(10, 30), ...messages.slice(20, 25)];
      expect(await store.writeTelemetry(replay)).toEqual({ stored: 0, duplicates: replay.length, samples: 0 });
      const inOne = generate().messages.slice(0, 3);
      expect(await store.writeTelemetry([...inOne, ...inOne])).toMatchObject({ stored: 0, duplicates: 6 });
      await expectAnswers(store, messages);
      store = await h.reopen(store);
      await store.writeTelemetry(messages.slice(0, 15));
      await expectAnswers(store, messages);
    });

    it('gives the same answers whatever the arrival order and batching', async () => {
      h = harness();
      const store = await h.fresh();
      const { messages, presence } = generate();
      const mixed = shuffled(messages, 42);
      let i = 0;
      for (const size of [1, 9, 3, 14, 2, 30, 5, 100]) {
        if (i >= mixed.length) break;
        await store.writeTelemetry(mixed.slice(i, i + size));
        i += size;
      }
      await store.writePresence(shuffled(presence, 7));
      await expectAnswers(store, messages, presence);
    });

    it('reports stored seq ranges after a restart', async () => {
      h = harness();
      let store = await h.fresh();
      const { messages } = generate();
      const c1 = messages.filter((m) => m.cabinetId === 'C1' && ![105, 106, 120].includes(m.seq));
      await store.writeTelemetry(c1);
      store = await h.reopen(store);
      expect(await store.storedSeqRanges('C1')).toEqual([
        [100, 104],
        [107, 119],
        [121, 100 + STEPS - 1],
      ]);
      expect(await store.storedSeqRanges('C2')).toEqual([]);
      // Known seqs are now duplicates; a gap filled later is stored.
      expect(await store.writeTelemetry(messages.filter((m) => m.cabinetId === 'C1' && m.seq <= 106))).toMatchObject({
        stored: 2,
        duplicates: 5,
      });
    });
  });
}
