import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burnOutLamp, chromiumMode, launchChromium, startBrowserDemo } from './browser-kit.js';
import type { RunningDemo } from '../cli/demo.js';
import type { AlertView } from '../controller/views.js';

/**
 * The maintenance board in Debian's chromium against a running demo with a burnt-out lamp:
 * the crew sees the alert (list and map), its evidence and the lamp's chart, takes it in hand,
 * prints the work order, and closes it with a note.
 */
const mode = chromiumMode();
const TOKEN = 'browser-maint-token-0123456789abcdef';

describe.skipIf(mode === 'skip')('maintenance board in a real browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let alert: AlertView;
  let lampId: string;
  let cabinetId: string;

  beforeAll(async () => {
    demo = await startBrowserDemo(TOKEN, { faults: false });
    ({ cabinetId, lampId, alert } = await burnOutLamp(demo, 3));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('shows the alert, acknowledges it, prints its work order and closes it with a note', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(new URL('/maintenance', demo.server.httpUrl).href);
    await page.fill('#token', TOKEN);
    await page.click('#sign-in-form button');

    const item = page.locator(`[data-testid=board-alert][data-id="${alert.id}"]`);
    await item.waitFor({ timeout: 15_000 });
    expect(await item.innerText()).toContain(lampId);
    expect(await item.innerText()).toContain('Lampe éteinte');
    await expect.poll(() => page.locator(`[data-testid=alert-marker][data-id="${alert.id}"]`).count()).toBe(1);

    // Filters: another kind hides it, back to all shows it.
    await page.selectOption('#f-kind', 'door_open');
    await expect.poll(() => item.count()).toBe(0);
    await page.selectOption('#f-kind', 'all');
    await expect.poll(() => item.count()).toBe(1);

    await item.locator('button').click();
    const detail = page.locator('[data-testid=alert-detail]');
    await detail.waitFor();
    expect(await page.locator('[data-testid=detail-lamp]').innerText()).toBe(lampId);
    expect(await detail.innerText()).toContain('Règle');
    // The controller's own transitions read as Luciole's, not as the data's `system`.
    expect(await detail.innerText()).toContain('par Luciole (automatique)');
    expect(await detail.innerText()).not.toContain('par system');
    // The lamp's week: level and power lines, the anomaly marked.
    await expect.poll(async () => ((await page.locator('[data-testid=power-line]').getAttribute('d')) ?? '').length, { timeout: 15_000 }).toBeGreaterThan(20);
    expect(await page.locator('[data-testid=anomaly-band]').count()).toBe(1);

    await page.fill('#who', 'Claire');
    await page.click('[data-testid=acknowledge]');
    await expect.poll(() => page.locator('[data-testid=detail-state]').innerText()).toBe('prise en charge');
    expect(demo.server.controller.getAlert(alert.id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'Claire (admin)' });

    await page.click('[data-testid=open-work-order]');
    const order = page.locator('[data-testid=work-order-panel]');
    await order.locator('[data-testid=work-order]').waitFor();
    await page.emulateMedia({ media: 'print' });
    expect(await order.isVisible()).toBe(true);
    expect(await page.locator('.mt-list').isVisible()).toBe(false);
    const printed = await order.innerText();
    expect(printed).toContain(lampId);
    expect(printed).toContain("Bon d'intervention");
    expect(printed).toContain(alert.cabinetId);
    await page.emulateMedia({ media: 'screen' });
    if (process.env.LUCIOLE_SCREENSHOT) await page.screenshot({ path: process.env.LUCIOLE_SCREENSHOT, fullPage: true });

    // The crew replaces the lamp, then closes the alert.
    demo.agents.get(cabinetId)!.driver.clearFault(lampId);
    await page.fill('#note', 'lampe remplacée');
    await page.click('[data-testid=resolve]');
    await expect.poll(() => page.locator('[data-testid=detail-state]').innerText()).toBe('résolue');
    await expect.poll(() => item.count()).toBe(0);
    expect(demo.server.controller.getAlert(alert.id)).toMatchObject({ state: 'resolved', note: 'lampe remplacée', resolvedBy: 'Claire (admin)' });
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
