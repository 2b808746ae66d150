import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startDemo, type RunningDemo } from '../cli/demo.js';
import type { AlertView } from '../controller/views.js';
import { silentLogger } from '../core/log.js';
import { eventually, requireBinary } from './helpers.js';

/** Debian's chromium (no browser download at run time); LUCIOLE_CHROMIUM names another. */
export const CHROMIUM = process.env.LUCIOLE_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser suites run here: skipped without chromium, a failure with CI=true. */
export function chromiumMode(): 'run' | 'skip' {
  return requireBinary(CHROMIUM, existsSync(CHROMIUM));
}

/** Headless, offline: no sandbox (containers), no GPU, no background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * The demo town on free loopback ports for a browser suite: two minutes of town time a second,
 * one night of history, the demo's default traffic; `extra` changes what a suite needs changed.
 */
export function startBrowserDemo(adminToken: string, extra: Partial<Parameters<typeof startDemo>[0]> = {}): Promise<RunningDemo> {
  return startDemo({
    speed: 120,
    httpPort: 0,
    mqttPort: 0,
    host: '127.0.0.1',
    historyNights: 1,
    traffic: 0.3,
    adminToken,
    logger: silentLogger(),
    ...extra,
  });
}

/** Burns out the `nth` lamp of the town's first cabinet and waits for its lamp_failure alert. */
export async function burnOutLamp(demo: RunningDemo, nth: number): Promise<{ cabinetId: string; lampId: string; alert: AlertView }> {
  const cabinetId = demo.town.cabinets[0]!.id;
  const lampId = demo.town.lamps.filter((l) => l.cabinetId === cabinetId)[nth]!.id;
  demo.agents.get(cabinetId)!.driver.injectFault(lampId, 'lamp_out');
  let alert: AlertView | undefined;
  await eventually(() => {
    alert = demo.server.controller.listAlerts({ state: 'active', kind: 'lamp_failure' }).find((a) => a.lampId === lampId);
    return alert !== undefined;
  }, 'the lamp_failure alert', 30_000);
  return { cabinetId, lampId, alert: alert! };
}
