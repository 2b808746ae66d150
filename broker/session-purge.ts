import type { Readable } from 'node:stream';

/**
 * The part of aedes's persistence (aedes-persistence's promise API; aedes types it `any`) that
 * holds a client's session: its offline subscriptions, queued QoS 1/2 messages, half-received
 * QoS 2 messages and its will.
 */
export interface SessionPersistence {
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
  outgoingStream(client: { id: string }): Readable;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
  cleanIncoming?(client: { id: string }): Promise<unknown>;
  delWill(client: { id: string; brokerId: string }): Promise<unknown>;
}

/**
 * Forgets everything aedes kept for `clientId` as if it had connected with cleanSession=true:
 * nothing queued for it is served to whoever connects next under that id. The subscriptions go
 * first so that nothing is queued again while the queue is emptied.
 */
export async function purgeSession(persistence: SessionPersistence, clientId: string, brokerId: string): Promise<number> {
  const client = { id: clientId };
  await persistence.cleanSubscriptions(client);
  let dropped = 0;
  // A snapshot: the stream is read to the end before anything is removed from the queue.
  const queued: unknown[] = [];
  for await (const packet of persistence.outgoingStream(client)) queued.push(packet);
  for (const packet of queued) {
    await persistence.outgoingClearMessageId(client, packet);
    dropped++;
  }
  await persistence.cleanIncoming?.(client);
  await persistence.delWill({ id: clientId, brokerId });
  return dropped;
}
