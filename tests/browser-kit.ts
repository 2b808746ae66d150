import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
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
