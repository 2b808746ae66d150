import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { Controller } from '../../controller/controller.js';
import { SqliteTelemetryStore } from '../../controller/sqlite-telemetry-store.js';
import { Inbox, until } from '../../controller/test-kit.js';
import { cabinetTopic, commandSchema, policySchema, receiptSchema } from '../../protocol/index.js';
import { mosquittoMode, plan, startMosquittoTown, telemetry, type MosquittoTown } from './setup.js';

const mode = mosquittoMode();

describe.skipIf(mode === 'skip')('the controller, unchanged, behind Mosquitto with generated password and ACL files', () => {
  let town: MosquittoTown;
  let store: SqliteTelemetryStore;
  let controller: Controller;

  beforeEach(async () => {
    town = await startMosquittoTown();
    store = new SqliteTelemetryStore({ file: join(town.dir, 'telemetry.db') });
    await store.open();
    controller = new Controller({
      brokerUrl: town.mosquitto.url,
      username: 'controller',
      password: town.secrets.get('controller')!,
      configStore: town.configStore,
      telemetryStore: store,
      clock: systemClock(),
      logger: silentLogger(),
      batchMs: 20,
      receiptMs: 50,
    });
    await controller.start();
  });

  afterEach(async () => {
    await controller.stop();
    await store.close();
    await town.close();
  });

  const cabinet = (id: string, password = town.secrets.get(id)!) => town.connect(id, password, { clientId: `edge-${id}`, clean: false });

  it('publishes policies, stores telemetry, receipts it, and relays presence across cabinets', async () => {
    const ca = await cabinet('CA');
    const cb = await cabinet('CB');
    const inboxA = new Inbox(ca);
    const inboxB = new Inbox(cb);
    await ca.subscribeAsync([cabinetTopic('CA', 'policy'), cabinetTopic('CA', 'receipt')], { qos: 1 });
    await cb.subscribeAsync([cabinetTopic('CB', 'policy'), cabinetTopic('CB', 'command')], { qos: 1 });

    await controller.publishPlan(plan, 'test');
    const policy = policySchema.parse(JSON.parse((await inboxA.next((m) => m.topic.endsWith('/policy'))).payload));
    expect(Object.keys(policy.lamps).sort()).toEqual(['A1', 'A2']);

    await ca.publishAsync(cabinetTopic('CA', 'telemetry'), JSON.stringify(telemetry(7, Date.now(), ['A1', 'A2'])), { qos: 1 });
    const receipt = receiptSchema.parse(JSON.parse((await inboxA.next((m) => m.topic.endsWith('/receipt'))).payload));
    expect(receipt.seqs).toEqual([[7, 7]]);
    expect(await store.storedSeqRanges('CA')).toEqual([[7, 7]]);
    expect(controller.stats().samplesStored).toBe(2);

    await ca.publishAsync(
      cabinetTopic('CA', 'presence'),
      JSON.stringify({ v: 1, ts: Date.now(), sensorId: 'S-1', lampId: 'A2', kind: 'pedestrian', count: 1 }),
      { qos: 1 },
    );
    const command = commandSchema.parse(JSON.parse((await inboxB.next((m) => m.topic.endsWith('/command'))).payload));
    expect(command).toMatchObject({ kind: 'presence', lampId: 'B1' });
  });

  it("keeps a cabinet off another cabinet's topics, and out with a wrong secret", async () => {
    const ca = await cabinet('CA');
    // Forged telemetry for CB, then a genuine message: Mosquitto keeps a client's order, so once the
    // genuine one is stored the forged one would have arrived before it.
    await ca.publishAsync(cabinetTopic('CB', 'telemetry'), JSON.stringify(telemetry(1, Date.now(), ['B1'])), { qos: 1 });
    await ca.publishAsync(cabinetTopic('CA', 'telemetry'), JSON.stringify(telemetry(2, Date.now(), ['A1'])), { qos: 1 });
    await until(() => controller.stats().samplesStored === 1);
    expect(controller.stats().messagesIn.telemetry).toBe(1);
    expect(await store.storedSeqRanges('CB')).toEqual([]);

    // Nor may it publish a down channel (a forged command to CB) or read another cabinet's messages:
    // Mosquitto 2.0 grants the subscription but its ACL filters every delivery on it.
    const cb = await cabinet('CB');
    const inboxA = new Inbox(ca);
    const inboxB = new Inbox(cb);
    await cb.subscribeAsync(cabinetTopic('CB', 'command'), { qos: 1 });
    await ca.subscribeAsync([cabinetTopic('CB', 'command'), 'luciole/v1/cabinets/+/telemetry', cabinetTopic('CA', 'receipt')], { qos: 1 });
    await ca.publishAsync(cabinetTopic('CB', 'command'), '{"v":1}', { qos: 1 });
    await controller.publishPlan(plan, 'test');
    await cb.publishAsync(cabinetTopic('CB', 'telemetry'), JSON.stringify(telemetry(3, Date.now(), ['B1'])), { qos: 1 });
    await ca.publishAsync(
      cabinetTopic('CA', 'presence'),
      JSON.stringify({ v: 1, ts: Date.now(), sensorId: 'S-1', lampId: 'A2', kind: 'pedestrian', count: 1 }),
      { qos: 1 },
    );
    await ca.publishAsync(cabinetTopic('CA', 'telemetry'), JSON.stringify(telemetry(4, Date.now(), ['A1'])), { qos: 1 });
    await inboxB.next((m) => m.topic.endsWith('/command'));
    // The controller sent CB's command before CA's receipt for seq 4, on one connection: in order.
    await inboxA.next(
      (m) => m.topic.endsWith('/receipt') && receiptSchema.parse(JSON.parse(m.payload)).seqs.some(([a, b]) => a <= 4 && 4 <= b),
    );
    expect(inboxB.messages.map((m) => commandSchema.safeParse(JSON.parse(m.payload)).success)).toEqual([true]);
    expect(new Set(inboxA.messages.map((m) => m.topic))).toEqual(new Set([cabinetTopic('CA', 'receipt')]));

    await expect(cabinet('CA', 'not-the-secret')).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(town.connect('CA', town.secrets.get('CB')!, { clientId: 'edge-CA' })).rejects.toThrow(/Bad username or password|Not authorized/i);
  });
});
