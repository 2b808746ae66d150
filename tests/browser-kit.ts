import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startDemo, type RunningDemo } from '../cli/demo.js';
import { silentLogger } from '../core/log.js';
import { requireBinary } from './helpers.js';

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
