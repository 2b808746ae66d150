import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMode, launchChromium, startBrowserDemo } from './browser-kit.js';
import type { RunningDemo } from '../cli/demo.js';

/**
 * The policy editor (/politiques) in Debian's chromium against a running demo: a technician
 * edits a slot, sees the curve change, publishes, watches every cabinet ack the new version,
 * and sets an override.
 */
const mode = chromiumMode();
const TOKEN = 'browser-policies-token-0123456789abcdef';

describe.skipIf(mode === 'skip')('policy editor in a real browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  const call = async (path: string): Promise<any> => {
    const res = await fetch(new URL(path, demo.server.httpUrl), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, path).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    demo = await startBrowserDemo(TOKEN, { speed: 60 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // The browser logs every 4xx answer; the refused plan's 422 is one the test asks for.
      if (m.type() === 'error' && !m.text().includes('status of 422')) errors.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('edits a slot, redraws the curve, publishes, sees every cabinet ack it, and sets an override', async () => {
    // Every cabinet runs version 1 before the test touches anything.
    await expect.poll(async () => (await call('/api/plan/rollout')).complete, { timeout: 30_000 }).toBe(true);
    const before = await call('/api/plan');

    await page.goto(new URL('/politiques', demo.server.httpUrl).href);
    await page.fill('#token', TOKEN);
    await page.click('#sign-in-form button');

    const zones = await call('/api/zones');
    await expect.poll(() => page.locator('[data-testid=zone-row]').count(), { timeout: 10_000 }).toBe(zones.length);
    await expect.poll(() => page.locator('[data-testid=draft-state]').getAttribute('data-dirty')).toBe('false');

    // The centre's evening slot, 70 % in the demo plan, down to 55 %.
    await page.selectOption('[data-testid=profile-select]', 'centre');
    await expect.poll(() => page.locator('[data-testid=curve]').getAttribute('data-profile'), { timeout: 10_000 }).toBe('centre');
    const summary = page.locator('[data-testid=curve-summary]');
    await expect.poll(() => summary.innerText(), { timeout: 10_000 }).toMatch(/^Brouillon : .*: 70 %/);
    const drawnBefore = await page.locator('[data-testid=curve-draft]').getAttribute('d');
    expect(await page.locator('[data-testid=curve-dusk]').count()).toBe(1);
    expect(await page.locator('[data-testid=curve-dawn]').count()).toBe(1);
    expect(before.version).toBe(1);
    expect(before.plan.profiles.centre.schedule[0].level).toBe(70);

    await page.locator('[data-testid=slot-level]').first().fill('55');
    await expect.poll(() => summary.innerText(), { timeout: 10_000 }).toMatch(/^Brouillon : [^.]*: 55 %.* En vigueur : .*: 70 %/);
    expect(await page.locator('[data-testid=curve-draft]').getAttribute('d')).not.toBe(drawnBefore);
    // The plan in force is drawn beside the draft, unchanged.
    expect(await page.locator('[data-testid=curve-current]').getAttribute('d')).toBe(drawnBefore);
    expect(await page.locator('[data-testid=draft-state]').getAttribute('data-dirty')).toBe('true');

    await page.click('[data-testid=whatif-button]');
    await page.waitForSelector('[data-testid=whatif-total]', { timeout: 20_000 });
    expect(await page.locator('[data-testid=whatif-night]').count()).toBe(7);
    expect(await page.locator('[data-testid=whatif-summary]').innerText()).toMatch(/kWh sur 7 nuits, contre .* kWh avec la version 1 en vigueur/);

    await page.click('[data-testid=publish-button]');
    await expect.poll(() => page.locator('[data-testid=publish-result]').innerText(), { timeout: 20_000 }).toMatch(/Version 2 publiée vers \d+ armoires/);
    expect(await page.locator('[data-testid=publish-result]').innerText()).toContain('profiles.centre.schedule[0].level');

    // Rollout: every cabinet acks version 2, on the page and through the API.
    const rolloutSummary = page.locator('[data-testid=rollout-summary]');
    await expect.poll(() => rolloutSummary.getAttribute('data-complete'), { timeout: 30_000 }).toBe('true');
    expect(await rolloutSummary.getAttribute('data-version')).toBe('2');
    const rows = page.locator('[data-testid=rollout-row]');
    expect(await rows.count()).toBe(demo.town.cabinets.length);
    expect(await rows.evaluateAll((els) => els.filter((e) => e.getAttribute('data-up-to-date') === 'true').length)).toBe(demo.town.cabinets.length);
    const rollout = await call('/api/plan/rollout');
    expect(rollout).toMatchObject({ plan: { version: 2 }, complete: true, total: demo.town.cabinets.length, acked: demo.town.cabinets.length });
    expect(rollout.cabinets.every((c: any) => c.acked?.version === 2 && c.upToDate)).toBe(true);
    expect((await call('/api/plan')).plan.profiles.centre.schedule[0].level).toBe(55);
    await expect.poll(() => page.locator('[data-testid=version-row]').count()).toBe(2);
    expect(await page.locator('[data-testid=draft-state]').getAttribute('data-dirty')).toBe('false');

    // An override on the park: listed with who set it and why.
    await page.selectOption('[data-testid=override-target-type]', 'zone');
    await page.fill('[data-testid=override-target-id]', 'parc');
    await page.fill('[data-testid=override-level]', '100');
    await page.fill('[data-testid=override-duration]', '30');
    await page.fill('[data-testid=override-reason]', 'essai de maintenance');
    await page.click('[data-testid=override-submit]');
    const row = page.locator('[data-testid=override-row]');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    const text = await row.innerText();
    expect(text).toContain('Zone « parc »');
    expect(text).toContain('essai de maintenance');
    expect(text).toContain('admin');
    expect(text).toContain('100 %');
    const overrides = await call('/api/overrides');
    expect(overrides).toHaveLength(1);
    expect(overrides[0]).toMatchObject({ target: { type: 'zone', id: 'parc' }, level: 100, reason: 'essai de maintenance', actor: 'admin' });
    expect(await row.getAttribute('data-override')).toBe(overrides[0].id);

    expect(errors).toEqual([]);
  }, 90_000);

  it('refuses a park lit past 01:00 with the rule named, describes a zone, and drops the draft', async () => {
    const version = (await call('/api/plan')).version;
    await page.selectOption('[data-testid=profile-select]', 'parc');
    await page.locator('[data-testid=slot-to]').first().fill('03:00');
    await expect.poll(() => page.locator('[data-testid=draft-state]').getAttribute('data-dirty')).toBe('true');
    await page.click('[data-testid=publish-button]');
    const finding = page.locator('[data-testid=finding][data-rule="arrete-2018-12-27.art2.parks-off"]');
    await expect.poll(() => finding.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await finding.first().getAttribute('data-severity')).toBe('error');
    expect(await finding.first().innerText()).toContain('profiles.parc.schedule[0].to');
    expect(await page.locator('[data-testid=findings-summary]').innerText()).toMatch(/^Publication refusée : [1-9]\d* erreurs?/);
    expect(await page.locator('[data-testid=publish-result]').getAttribute('data-kind')).toBe('error');
    expect((await call('/api/plan')).version).toBe(version);

    // A zone's description is saved at once, apart from the draft.
    await page.locator('[data-testid=zone-row][data-zone=parc] button', { hasText: 'Décrire' }).click();
    const form = page.locator('[data-testid=zone-form]');
    await form.locator('input[name=label]').fill('Parc de la mairie');
    await form.locator('input[name=closingTime]').fill('20:30');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('[data-testid=zone-row][data-zone=parc] th').innerText(), { timeout: 10_000 }).toContain('Parc de la mairie');
    expect((await call('/api/zones')).find((z: any) => z.name === 'parc')).toMatchObject({ label: 'Parc de la mairie', category: 'park', closingTime: '20:30' });

    await page.click('[data-testid=reset-button]');
    await expect.poll(() => page.locator('[data-testid=draft-state]').getAttribute('data-dirty')).toBe('false');
    expect(await page.locator('[data-testid=slot-to]').first().inputValue()).toBe('22:00');
    expect(errors).toEqual([]);
  }, 60_000);
});
