import net from 'node:net';
import mqttPacket from 'mqtt-packet';

/** How a raw session ended: the broker closed it, it still answered a probe, or neither in time. */
export type Outcome = 'closed' | 'alive' | 'hung';

/**
 * The probe: a SUBSCRIBE whose SUBACK carries a packet id no fuzzed bytes are likely to hold (a
 * PINGREQ would not do: the fuzzed bytes often hold one, whose PINGRESP would look like an answer).
 */
const PROBE_ID = 0xbeef;
const PROBE = mqttPacket.generate({ cmd: 'subscribe', messageId: PROBE_ID, subscriptions: [{ topic: 'probe', qos: 0 }] });

export function connectPacket(username: string, password: string, keepalive: number): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: `edge-${username}`,
    clean: true,
    keepalive,
    username,
    password: Buffer.from(password),
  });
}

/**
 * Opens a TCP connection, optionally logs in with `login` (a CONNECT, waiting for CONNACK 0),
 * sends `bytes` then a probe SUBSCRIBE, and reports how the session ended within `timeoutMs`.
 */
export function rawSession(port: number, bytes: Buffer, login: Buffer | null, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let phase: 'login' | 'probe' = login ? 'login' : 'probe';
    let settled = false;
    const finish = (outcome: Outcome | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => finish('hung'), timeoutMs);
    const probe = (): void => {
      phase = 'probe';
      socket.write(bytes);
      socket.write(PROBE);
    };
    parser.on('packet', (packet) => {
      if (phase === 'login') {
        if (packet.cmd === 'connack' && packet.returnCode === 0) return probe();
        return finish(new Error(`login refused: ${JSON.stringify(packet)}`));
      }
      if (packet.cmd === 'suback' && packet.messageId === PROBE_ID) finish('alive');
    });
    // What the broker sends back need not parse once we sent garbage: only a close or the SUBACK counts.
    parser.on('error', () => {});
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => {});
    socket.on('close', () => (phase === 'login' ? finish(new Error('closed before CONNACK')) : finish('closed')));
    socket.once('connect', () => (login ? socket.write(login) : probe()));
  });
}

/** What mqtt-packet itself makes of `bytes` after `prefix`: an error, packets left incomplete, or fine. */
export function parserVerdict(prefix: Buffer | null, bytes: Buffer): 'error' | 'incomplete' | 'parsed' {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let error = false;
  parser.on('error', () => (error = true));
  if (prefix) parser.parse(prefix);
  const left = parser.parse(bytes);
  if (error) return 'error';
  return left > 0 ? 'incomplete' : 'parsed';
}

/** Runs `tasks` with at most `concurrency` at once, in order of start. */
export async function pool<T>(tasks: Array<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, () => worker()));
  return results;
}
