import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextMessage, startFixture, type BrokerFixture } from '../../broker/test-fixture.js';
import { alertTopic, allCabinetsFilter, cabinetTopic, DOWN_CHANNELS, UP_CHANNELS } from '../../protocol/index.js';

/**
 * 20 gateways each try every other gateway's topics: publish on each of their channels, up and
 * down, subscribe to each of them, plus `#`, `$SYS/#` and wildcards. Nothing forged may reach
 * anyone, and the legitimate traffic around it must still flow.
 */

const GATEWAYS = Array.from({ length: 20 }, (_, i) => `GW-${String(i).padStart(2, '0')}`);
const WILDCARDS = ['#', '$SYS/#', 'luciole/#', 'luciole/v1/cabinets/+/command', allCabinetsFilter('telemetry'), '+/+/+/+/+'];

interface Received {
  by: string;
  topic: string;
  payload: string;
}

describe('battery: topic isolation', () => {
  let fx: BrokerFixture;
  const clients = new Map<string, MqttClient>();
  const received: Received[] = [];

  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  /** Subscribes and returns the granted QoS per filter (128: refused), as the SUBACK said. */
  function subscribe(client: MqttClient, filters: string[]): Promise<number[]> {
    return new Promise((resolve) => {
      client.subscribe(filters, { qos: 1 }, (err, granted) => {
        // On a refusal MQTT.js reports the error with the SUBACK; its `granted` then echoes the request.
        const fromSuback = (err as { packet?: { granted?: number[] } } | null | undefined)?.packet?.granted;
        resolve(fromSuback ?? granted?.map((x) => x.qos) ?? []);
      });
    });
  }

  it('delivers 0 forged messages and refuses every foreign or wildcard subscription', async () => {
    const ctl = await fx.connect('controller', fx.credentials.issue('controller', 'controller'), { clientId: 'luciole-controller' });
    ctl.on('message', (topic, payload) => received.push({ by: 'controller', topic, payload: payload.toString() }));
    await subscribe(ctl, UP_CHANNELS.map((ch) => allCabinetsFilter(ch)));

    for (const id of GATEWAYS) {
      const c = await fx.cabinet(id, fx.credentials.issue(id, 'cabinet'));
      c.on('message', (topic, payload) => received.push({ by: id, topic, payload: payload.toString() }));
      clients.set(id, c);
      const own = await subscribe(c, DOWN_CHANNELS.map((ch) => cabinetTopic(id, ch)));
      expect(own).toEqual(DOWN_CHANNELS.map(() => 1));
    }

    const before = fx.broker.stats();
    let attemptedSubs = 0;
    let grantedForeign = 0;
    let forgedSent = 0;
    await Promise.all(
      GATEWAYS.map(async (id) => {
        const c = clients.get(id)!;
        const others = GATEWAYS.filter((o) => o !== id);
        const filters = [
          ...others.flatMap((o) => [...UP_CHANNELS, ...DOWN_CHANNELS].map((ch) => cabinetTopic(o, ch))),
          ...UP_CHANNELS.map((ch) => cabinetTopic(id, ch)),
          ...WILDCARDS,
        ];
        attemptedSubs += filters.length;
        const granted = await subscribe(c, filters);
        grantedForeign += granted.filter((q) => q !== 128).length;
        const forged = [
          ...others.flatMap((o) => [...UP_CHANNELS, ...DOWN_CHANNELS].map((ch) => cabinetTopic(o, ch))),
          ...DOWN_CHANNELS.map((ch) => cabinetTopic(id, ch)),
          alertTopic(`forged-${id}`),
        ];
        for (const topic of forged) {
          await c.publishAsync(topic, JSON.stringify({ v: 1, forgedBy: id }), { qos: 1, retain: topic.endsWith('/policy') || topic.endsWith('/status') });
          forgedSent++;
        }
      }),
    );
    // A late joiner makes the broker publish `$SYS/.../new/clients`, which a `$SYS/#` subscriber would see.
    await fx.cabinet('GW-LATE', fx.credentials.issue('GW-LATE', 'cabinet'));

    // Legitimate traffic after the attack, as the barrier: each gateway's own event reaches the
    // controller and the controller's command reaches each gateway. Same connections, in order.
    const legitUp = Promise.all(GATEWAYS.map((id) => nextMessage(ctl, (t) => t === cabinetTopic(id, 'event'), 5000)));
    const legitDown = Promise.all(GATEWAYS.map((id) => nextMessage(clients.get(id)!, (t) => t === cabinetTopic(id, 'command'), 5000)));
    await Promise.all(GATEWAYS.map((id) => clients.get(id)!.publishAsync(cabinetTopic(id, 'event'), '{"v":1,"legit":true}', { qos: 1 })));
    for (const id of GATEWAYS) await ctl.publishAsync(cabinetTopic(id, 'command'), '{"v":1,"legit":true}', { qos: 1 });
    await Promise.all([legitUp, legitDown]);

    const forgedDelivered = received.filter((r) => r.payload.includes('forgedBy'));
    const misdelivered = received.filter((r) => r.by !== 'controller' && !r.topic.startsWith(`luciole/v1/cabinets/${r.by}/`));
    const after = fx.broker.stats();
    console.log(
      `[battery] topic isolation: ${GATEWAYS.length} gateways, ${forgedSent} forged publishes, ${attemptedSubs} foreign/wildcard ` +
        `subscriptions, ${grantedForeign} granted, ${forgedDelivered.length} forged delivered, ${misdelivered.length} foreign messages ` +
        `seen by a gateway, ${received.length} legitimate deliveries`,
    );
    expect(forgedDelivered).toEqual([]);
    expect(misdelivered).toEqual([]);
    expect(grantedForeign).toBe(0);
    expect(after.refusedSubscriptions - before.refusedSubscriptions).toBe(attemptedSubs);
    expect(after.refusedPublishes - before.refusedPublishes).toBe(forgedSent);
    expect(received).toHaveLength(GATEWAYS.length * 2);
    // Nothing forged was retained either: a fresh subscriber to everything gets the one legitimate
    // retained status, and no forgery with it.
    await clients.get('GW-00')!.publishAsync(cabinetTopic('GW-00', 'status'), '{"v":1,"online":true}', { qos: 1, retain: true });
    const fresh = await fx.connect('controller', fx.credentials.issue('controller', 'controller'), { clientId: 'ctl-2' });
    const retained: string[] = [];
    fresh.on('message', (_t, p, packet) => packet.retain && retained.push(p.toString()));
    const legitRetained = nextMessage(fresh, (t) => t === cabinetTopic('GW-00', 'status'));
    await subscribe(fresh, ['luciole/v1/#']);
    await legitRetained;
    expect(retained).toEqual(['{"v":1,"online":true}']);
  });
});
