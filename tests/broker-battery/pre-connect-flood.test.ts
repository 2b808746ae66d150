import net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../broker/broker.js';
import { startFixture, type BrokerFixture } from '../../broker/test-fixture.js';

/**
 * Sockets that never complete a CONNECT and stream megabytes: the broker's memory must grow less
 * than 20 MiB. Measured in this process (heap + external memory, which holds socket buffers) with
 * garbage collection forced before the baseline; the same flood against a broker without the cap
 * shows that the measurement sees what the cap prevents.
 */

const SOCKETS = 16;
const BYTES_PER_SOCKET = 4 * 1024 * 1024;
const MIB = 1024 * 1024;
/** A CONNECT fixed header announcing 256 MiB: aedes keeps everything until it is complete. */
const HUGE_CONNECT_HEADER = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]);

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

interface Flood {
  peakGrowthMiB: number;
  closedByBroker: number;
  bytesAccepted: number;
}

async function flood(fx: BrokerFixture): Promise<Flood> {
  gc();
  const baseline = used();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, used())), 5);
  let closedByBroker = 0;
  let bytesAccepted = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const sockets: net.Socket[] = [];
  try {
    await Promise.all(
      Array.from({ length: SOCKETS }, async () => {
        const s = net.connect(fx.broker.port, '127.0.0.1');
        sockets.push(s);
        s.on('error', () => {});
        await new Promise<void>((resolve) => s.once('connect', () => resolve()));
        let sent = 0;
        let closed = false;
        s.once('close', () => (closed = true));
        s.write(HUGE_CONNECT_HEADER);
        while (sent < BYTES_PER_SOCKET && !closed) {
          const ok = s.write(chunk);
          sent += chunk.length;
          if (!ok) await new Promise<void>((resolve) => (s.once('drain', resolve), s.once('close', resolve)));
        }
        // The last bytes written may still be on their way: give the broker a round trip.
        if (!closed) await new Promise<void>((resolve) => setTimeout(resolve, 50));
        if (closed) closedByBroker++;
        else bytesAccepted += sent;
      }),
    );
    peak = Math.max(peak, used());
  } finally {
    clearInterval(sampler);
    for (const s of sockets) s.destroy();
  }
  return { peakGrowthMiB: (peak - baseline) / MIB, closedByBroker, bytesAccepted };
}

describe('battery: pre-CONNECT flood', () => {
  let fx: BrokerFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  async function run(opts: Partial<BrokerOptions>): Promise<Flood> {
    fx = await startFixture({ connectTimeoutMs: 60_000, ...opts });
    return flood(fx);
  }

  it('with the 64 KiB cap: memory grows less than 20 MiB and every flooding socket is closed', async () => {
    const capped = await run({});
    const overflows = fx!.broker.stats().preConnectOverflows;
    console.log(
      `[battery] pre-CONNECT flood: ${SOCKETS} sockets x ${BYTES_PER_SOCKET / MIB} MiB, peak growth ` +
        `${capped.peakGrowthMiB.toFixed(1)} MiB (heap+external), ${capped.closedByBroker}/${SOCKETS} closed by the broker (${overflows} at the byte cap)`,
    );
    expect(capped.peakGrowthMiB).toBeLessThan(20);
    expect(capped.closedByBroker).toBe(SOCKETS);
    expect(overflows).toBe(SOCKETS);
  });

  it('without the cap the same measurement sees the growth (the control)', async () => {
    const uncapped = await run({ preConnectByteCap: 0 });
    console.log(
      `[battery] pre-CONNECT flood, control without the cap: peak growth ${uncapped.peakGrowthMiB.toFixed(1)} MiB, ` +
        `${uncapped.closedByBroker}/${SOCKETS} closed by the broker`,
    );
    expect(uncapped.closedByBroker).toBe(0);
    expect(uncapped.peakGrowthMiB).toBeGreaterThan(20);
  });
});
