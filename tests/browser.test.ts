import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMode, launchChromium, startBrowserDemo } from './browser-kit.js';
import type { RunningDemo } from '../cli/demo.js';

/**
 * Debian's chromium, driven by playwright-core (no browser download), against a running demo:
 * what a person sees after `npm start`.
 */
const mode = chromiumMode();
const TOKEN = 'browser-test-token-0123456789abcdef';

describe.skipIf(mode === 'skip')('dashboard in a real browser', () => {
  let demo: RunningDemo;
  let browser: Browser;

  beforeAll(async () => {
    demo = await startBrowserDemo(TOKEN);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('refuses a wrong token, then shows the lamps, the cabinets and the energy of tonight', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.server.httpUrl);

    await page.fill('#token', 'wrong-token-wrong-token-wrong');
    await page.click('#sign-in-form button');
    await expect.poll(() => page.locator('#sign-in-error').innerText(), { timeout: 5_000 }).toMatch(/Jeton refusé/);
    expect(await page.locator('[data-testid=lamp]').count()).toBe(0);

    await page.fill('#token', TOKEN);
    await page.click('#sign-in-form button');
    await page.waitForSelector('[data-testid=lamp]');
    await expect
      .poll(() => page.locator('[data-testid=lamp]').count(), { timeout: 15_000 })
      .toBe(demo.town.lamps.length);
    await expect
      .poll(() => page.locator('[data-testid=cabinet]').count(), { timeout: 15_000 })
      .toBe(demo.town.cabinets.length);

    // Lamps are coloured by their level once telemetry flows (dusk has passed at this speed).
    await expect
      .poll(
        async () =>
          page
            .locator('[data-testid=lamp]')
            .evaluateAll((els) => els.filter((e) => Number(e.getAttribute('data-level')) > 0).length),
        { timeout: 30_000 },
      )
      .toBeGreaterThan(demo.town.lamps.length / 2);

    const energy = page.locator('[data-testid=energy-tonight]');
    await expect.poll(async () => (await energy.innerText()).match(/(\d[\d\s\u202f]*,\d) kWh/)?.[1] ?? null, {
      timeout: 30_000,
    }).not.toBeNull();
    const text = await energy.innerText();
    expect(text).toContain('pleine puissance');
    expect(text).toMatch(/Économie\s+\d+\s?%/);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
