import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMode, launchChromium, startBrowserDemo } from './browser-kit.js';
import type { RunningDemo } from '../cli/demo.js';
import { energyReportSchema, type EnergyReport } from '../controller/reports/report-schema.js';
import { addDays, localDate } from '../core/astro.js';
import { buildApp } from '../dashboard/app.js';
import { fmtCompleteness, fmtKwh, fmtPct, headlineCards } from '../dashboard/ui/report-view.js';

/**
 * The energy report page in Debian's chromium against a demo with two nights of history: the
 * numbers a person reads are the API's, formatted the French way.
 */
const mode = chromiumMode();
const TOKEN = 'browser-report-token-0123456789abcdef';

/** Intl may put a no-break or a narrow no-break space; the reader sees a space either way. */
const spaces = (s: string): string => s.replace(/\s+/g, ' ').trim();

describe.skipIf(mode === 'skip')('energy report page in a real browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  /** The demo's own app when it serves reports, else one built on the demo's stores. */
  let extra: FastifyInstance | null = null;
  let baseUrl: string;

  beforeAll(async () => {
    demo = await startBrowserDemo(TOKEN, { speed: 60, historyNights: 2 });
    baseUrl = demo.server.httpUrl.replace(/\/$/, '');
    const probe = await fetch(`${baseUrl}/api/reports/settings`, { headers: { authorization: `Bearer ${TOKEN}` } });
    if (probe.status === 501) {
      extra = await buildApp({
        controller: demo.server.controller,
        adminToken: TOKEN,
        reports: { telemetry: demo.server.telemetryStore, config: demo.server.configStore, periodS: 60 },
      });
      await extra.listen({ port: 0, host: '127.0.0.1' });
      const address = extra.server.address();
      baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    }
    const put = await fetch(`${baseUrl}/api/reports/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tariffs: [{ from: '2020-01-01', to: null, eurPerKWh: 0.2 }], emissionFactorKgPerKWh: 0.053 }),
    });
    expect(put.status).toBe(200);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await extra?.close();
    await demo?.stop();
  });

  it('shows the API’s figures for a past night: headline, zones, chart, year before, method', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${baseUrl}/rapport`);
    await page.fill('#token', TOKEN);
    await page.click('#sign-in-form button');
    // The default view (this month) loads first.
    await page.waitForSelector('article[data-loaded]');

    // Yesterday's night: history, closed, so its figures no longer move.
    const night = addDays(localDate(demo.clock.now(), demo.town.site.timezone), -1);
    await page.selectOption('#period', 'night');
    await page.fill('#from', night);
    await page.click('#period-form button[type=submit]');
    await page.waitForSelector(`article[data-loaded="${night}/${night}/zone"]`);

    const res = await fetch(`${baseUrl}/api/reports/energy?period=night&from=${night}&groupBy=zone`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const report: EnergyReport = energyReportSchema.parse(await res.json());
    expect(report.headline.energyKWh).toBeGreaterThan(0);
    expect(report.headline.savedVsBeforeRenovation.eur).not.toBeNull();

    for (const card of headlineCards(report.headline)) {
      expect(spaces(await page.locator(`#headline dd[data-field="${card.field}"]`).innerText())).toBe(spaces(card.value));
    }
    const rows = page.locator('[data-testid=groups] tbody tr');
    expect(await rows.count()).toBe(report.groups.length);
    for (const g of report.groups) {
      const row = page.locator(`[data-testid=groups] tr[data-key="${g.key}"]`);
      expect(spaces(await row.locator('[data-field=energy]').innerText())).toBe(spaces(fmtKwh(g.energyKWh)));
      expect(spaces(await row.locator('[data-field=saved-before]').innerText())).toBe(
        spaces(`${fmtKwh(g.savedVsBeforeRenovation.kWh)} (${fmtPct(g.savedVsBeforeRenovation.pct)})`),
      );
      expect(spaces(await row.locator('[data-field=completeness]').innerText())).toBe(spaces(fmtCompleteness(g.completeness)));
    }
    expect(await page.locator('#chart rect.bar').count()).toBe(report.nights.filter((n) => n.energyKWh !== null).length);
    expect(await page.locator('#year-before').innerText()).toMatch(/Pas de données/);
    expect(await page.locator('#method').innerText()).toBe(report.method);
    expect(await page.locator('#report-period').innerText()).toContain(demo.town.name);
    // Print view: the controls are hidden on paper.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('#period-form').isVisible()).toBe(false);
    expect(await page.locator('#headline').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
