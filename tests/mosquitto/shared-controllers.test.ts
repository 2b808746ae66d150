import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { openConfigStore } from '../../controller/config-store.js';
import { Controller } from '../../controller/controller.js';
import { SeqRangeSet } from '../../controller/seq-ranges.js';
import { SqliteTelemetryStore } from '../../controller/sqlite-telemetry-store.js';
import type { ConfigStore } from '../../controller/stores.js';
import { cabinetTopic, receiptSchema } from '../../protocol/index.js';
import { mosquittoMode, startMosquittoTown, telemetry, type MosquittoTown } from './setup.js';

const mode = mosquittoMode();
const MESSAGES_PER_CABINET = 150;

describe.skipIf(mode === 'skip')('two controllers behind Mosquitto with an MQTT 5 shared subscription', () => {
  let town: MosquittoTown;
  const stores: SqliteTelemetryStore[] = [];
  const configs: ConfigStore[] = [];
  const controllers: Controller[] = [];

  beforeEach(async () => {
    town = await startMosquittoTown();
    for (let i = 0; i < 2; i++) {
      // Separate connections to the same files, as two processes on one host would have.
      const configStore = i === 0 ? town.configStore : openConfigStore(join(town.dir, 'config.db'));
      if (i > 0) configs.push(configStore);
      const store = new SqliteTelemetryStore({ file: join(town.dir, 'telemetry.db') });
      await store.open();
      stores.push(store);
      const c = new Controller({
        brokerUrl: town.mosquitto.url,
        username: 'controller',
        password: town.secrets.get('controller')!,
        configStore,
        telemetryStore: store,
        clock: systemClock(),
        logger: silentLogger(),
        batchMs: 20,
        receiptMs: 50,
        shared: { group: 'controllers', member: `c${i}` },
      });
      await c.start();
      controllers.push(c);
    }
  });

  afterEach(async () => {
    for (const c of controllers.splice(0)) await c.stop();
    for (const s of stores.splice(0)) await s.close();
    for (const c of configs.splice(0)) c.close();
    await town.close();
  });

  it('stores every sample exactly once, resends included, and the receipts of both cover every seq', async () => {
    const lampsOf: Record<string, string[]> = { CA: ['A1', 'A2'], CB: ['B1'] };
    const receipted: Record<string, SeqRangeSet> = { CA: new SeqRangeSet(), CB: new SeqRangeSet() };
    const publishes: Array<Promise<unknown>> = [];
    for (const id of ['CA', 'CB']) {
      const client = await town.connect(id, town.secrets.get(id)!, { clientId: `edge-${id}`, clean: false });
      client.on('message', (_topic, payload) => {
        for (const [a, b] of receiptSchema.parse(JSON.parse(payload.toString())).seqs) receipted[id]!.addRange(a, b);
      });
      await client.subscribeAsync(cabinetTopic(id, 'receipt'), { qos: 1 });
      const topic = cabinetTopic(id, 'telemetry');
      for (let seq = 1; seq <= MESSAGES_PER_CABINET; seq++) {
        publishes.push(client.publishAsync(topic, JSON.stringify(telemetry(seq, 1_763_758_800_000 + seq * 60_000, lampsOf[id]!)), { qos: 1 }));
      }
      // A gateway resending after a reconnect: the same seqs again, likely to the other controller.
      for (let seq = 1; seq <= MESSAGES_PER_CABINET; seq += 3) {
        publishes.push(client.publishAsync(topic, JSON.stringify(telemetry(seq, 1_763_758_800_000 + seq * 60_000, lampsOf[id]!)), { qos: 1 }));
      }
    }
    await Promise.all(publishes);
    const all: Array<[number, number]> = [[1, MESSAGES_PER_CABINET]];
    const deadline = Date.now() + 10_000;
    while (!(receipted.CA!.ranges().length === 1 && sameRanges(receipted.CA!.ranges(), all) && sameRanges(receipted.CB!.ranges(), all))) {
      if (Date.now() > deadline) throw new Error(`receipts incomplete: ${JSON.stringify({ CA: receipted.CA!.ranges(), CB: receipted.CB!.ranges() })}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const [s0, s1] = controllers.map((c) => c.stats());
    // The broker shared the stream: both took part.
    const in0 = s0!.messagesIn.telemetry ?? 0;
    const in1 = s1!.messagesIn.telemetry ?? 0;
    expect(in0).toBeGreaterThan(0);
    expect(in1).toBeGreaterThan(0);
    const resends = 2 * Math.ceil(MESSAGES_PER_CABINET / 3);
    expect(in0 + in1).toBe(2 * MESSAGES_PER_CABINET + resends);
    // Exactly once, counted by the controllers and in the file.
    expect(s0!.samplesStored + s1!.samplesStored).toBe(MESSAGES_PER_CABINET * 3);
    expect(s0!.duplicates + s1!.duplicates).toBe(resends);
    const db = new Database(join(town.dir, 'telemetry.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT cabinet_id AS c, COUNT(*) AS n, COUNT(DISTINCT seq) AS d FROM telemetry_messages GROUP BY cabinet_id ORDER BY c').all();
      expect(rows).toEqual([
        { c: 'CA', n: MESSAGES_PER_CABINET, d: MESSAGES_PER_CABINET },
        { c: 'CB', n: MESSAGES_PER_CABINET, d: MESSAGES_PER_CABINET },
      ]);
      const samples = db.prepare('SELECT lamp_id AS l, COUNT(*) AS n, COUNT(DISTINCT ts) AS d FROM lamp_samples GROUP BY lamp_id ORDER BY l').all();
      expect(samples).toEqual(['A1', 'A2', 'B1'].map((l) => ({ l, n: MESSAGES_PER_CABINET, d: MESSAGES_PER_CABINET })));
    } finally {
      db.close();
    }
  });
});

function sameRanges(a: Array<[number, number]>, b: Array<[number, number]>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
