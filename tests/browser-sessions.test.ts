import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burnOutLamp, chromiumMode, launchChromium, startBrowserDemo } from './browser-kit.js';
import type { RunningDemo } from '../cli/demo.js';
import type { AlertView } from '../controller/views.js';

/**
 * One sign-in for every page (ui/page-session.js), in Debian's chromium against a demo with a
 * burnt-out lamp: a password sign-in straight on /maintenance and on /politiques, the session
 * carried from page to page of the tab, each role seeing only the actions the server lets it
 * do (and no request of the pages refused with a 403), and a session ended on the server
 * taking the page back to the sign-in form with the reason.
 */
const mode = chromiumMode();
const TOKEN = 'browser-sessions-token-0123456789abcdef';
const PASSWORD = 'un mot de passe assez long';
const USERS = { viewer: 'maire', maintenance: 'equipe', technician: 'technique' } as const;

describe.skipIf(mode === 'skip')('one session for every page, in a real browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let alert: AlertView;

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, demo.server.httpUrl), {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: res.status === 204 ? null : ((await res.json()) as any) };
  };

  /** A fresh tab that records page errors and any request the server refused for the role. */
  const openTab = async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => {
      if (r.status() === 403) problems.push(`403 ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
    return { page, problems };
  };

  const signIn = async (page: Page, username: string) => {
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await page.click('#password-form button');
  };

  const isHidden = (page: Page, selector: string) => page.locator(selector).evaluate((e) => e.closest('[hidden]') !== null);

  beforeAll(async () => {
    demo = await startBrowserDemo(TOKEN, { faults: false });
    for (const [role, username] of Object.entries(USERS)) {
      const res = await admin('POST', '/api/users', { username, role, password: PASSWORD });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    ({ alert } = await burnOutLamp(demo, 2));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('signs a crew member in with a password on /maintenance, then carries the session to /politiques, read-only', async () => {
    const { page, problems } = await openTab();
    await page.goto(new URL('/maintenance', demo.server.httpUrl).href);
    // The account form, in French, on this page too.
    expect(await page.locator('label[for=username]').innerText()).toBe('Nom d’utilisateur');
    await signIn(page, USERS.maintenance);
    await page.waitForSelector('#board:not([hidden])');
    await expect.poll(() => page.locator('[data-testid=who]').innerText()).toBe('equipe · maintenance');

    const item = page.locator(`[data-testid=board-alert][data-id="${alert.id}"]`);
    await item.waitFor({ timeout: 15_000 });
    await item.locator('button').click();
    await page.locator('[data-testid=alert-detail]').waitFor();
    expect(await page.locator('[data-testid=acknowledge]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid=read-only]').isVisible()).toBe(false);
    await page.click('[data-testid=acknowledge]');
    await expect.poll(() => page.locator('[data-testid=detail-state]').innerText()).toBe('prise en charge');
    expect(demo.server.controller.getAlert(alert.id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'equipe' });

    // The header's link to the policies: no second sign-in.
    await page.click('nav.pages a[href="/politiques"]');
    await page.waitForURL('**/politiques');
    await page.waitForSelector('#editor:not([hidden])');
    expect(await page.locator('#sign-in').isHidden()).toBe(true);
    await expect.poll(() => page.locator('[data-testid=who]').innerText()).toBe('equipe · maintenance');
    const zones = (await admin('GET', '/api/zones')).json as unknown[];
    await expect.poll(() => page.locator('[data-testid=zone-row]').count(), { timeout: 10_000 }).toBe(zones.length);

    // Reads the policy, the plan in force drawn; may change nothing, and is told why.
    expect(await page.locator('[data-testid=read-only]').isVisible()).toBe(true);
    await expect.poll(() => page.locator('[data-testid=curve-summary]').innerText(), { timeout: 10_000 }).toMatch(/^En vigueur : /);
    for (const action of ['publish-button', 'check-button', 'whatif-button', 'override-form', 'slot-add']) {
      expect(await isHidden(page, `[data-testid=${action}]`), action).toBe(true);
    }
    await expect.poll(() => page.locator('[data-testid=version-row]').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=version-row] button:not([hidden])').allTextContents()).toEqual(['Voir']);
    expect(await page.locator('[data-testid=zone-row] button', { hasText: 'Décrire' }).first().isVisible()).toBe(false);
    expect(await page.locator('[data-testid=slot-level]').first().isDisabled()).toBe(true);
    expect(await page.locator('[data-testid=zone-profile]').first().isDisabled()).toBe(true);
    expect(await page.locator('[data-testid=presence-on]').isDisabled()).toBe(true);
    expect(await page.locator('#presence input[name=level]').isDisabled()).toBe(true);
    // Another profile is drawn again and stays locked.
    const profiles = await page.locator('[data-testid=profile-select] option').allTextContents();
    await page.selectOption('[data-testid=profile-select]', profiles[profiles.length - 1]!);
    await expect.poll(() => page.locator('[data-testid=curve]').getAttribute('data-profile')).toBe(profiles[profiles.length - 1]);
    await expect.poll(() => page.locator('[data-testid=slot-level]').first().isDisabled()).toBe(true);
    expect(await page.locator('#presence input[name=level]').isDisabled()).toBe(true);

    // Signing out here signs the tab out on every page.
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in:not([hidden])');
    await page.goto(new URL('/maintenance', demo.server.httpUrl).href);
    await page.waitForSelector('#sign-in:not([hidden])');
    expect(await page.locator('#board').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('signs a technician in with a password on /politiques, with every action, and carries it to /maintenance', async () => {
    const { page, problems } = await openTab();
    await page.goto(new URL('/politiques', demo.server.httpUrl).href);
    await signIn(page, USERS.technician);
    await page.waitForSelector('#editor:not([hidden])');
    await expect.poll(() => page.locator('[data-testid=who]').innerText()).toBe('technique · services techniques');
    await expect.poll(() => page.locator('[data-testid=curve-summary]').innerText(), { timeout: 10_000 }).toMatch(/^Brouillon : /);
    for (const action of ['publish-button', 'check-button', 'whatif-button', 'override-form', 'slot-add']) {
      expect(await isHidden(page, `[data-testid=${action}]`), action).toBe(false);
    }
    expect(await page.locator('[data-testid=read-only]').isVisible()).toBe(false);
    expect(await page.locator('[data-testid=slot-level]').first().isEnabled()).toBe(true);

    await page.click('nav.pages a[href="/maintenance"]');
    await page.waitForURL('**/maintenance');
    await page.waitForSelector('#board:not([hidden])');
    await expect.poll(() => page.locator('[data-testid=who]').innerText()).toBe('technique · services techniques');
    await page.locator('[data-testid=board-alert] button').first().click();
    await page.locator('[data-testid=alert-detail]').waitFor();
    expect(await page.locator('#resolve-form').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows a viewer the alerts but no crew action, and takes them back to the form when the session is ended', async () => {
    const { page, problems } = await openTab();
    await page.goto(new URL('/maintenance', demo.server.httpUrl).href);
    await signIn(page, USERS.viewer);
    await page.waitForSelector('#board:not([hidden])');
    await expect.poll(() => page.locator('[data-testid=who]').innerText()).toBe('maire · consultation (élus)');
    const item = page.locator(`[data-testid=board-alert][data-id="${alert.id}"]`);
    await item.waitFor({ timeout: 15_000 });
    await item.locator('button').click();
    await page.locator('[data-testid=alert-detail]').waitFor();
    await expect.poll(() => page.locator('[data-testid=detail-lamp]').innerText()).toBe(alert.lampId);
    expect(await page.locator('[data-testid=acknowledge]').isVisible()).toBe(false);
    expect(await page.locator('[data-testid=resolve]').isVisible()).toBe(false);
    expect(await page.locator('#who').isVisible()).toBe(false);
    expect(await page.locator('[data-testid=read-only]').innerText()).toMatch(/Consultation seule/);
    // The work order is a read: its route lets a viewer have it, so the button stays.
    expect(await page.locator('[data-testid=open-work-order]').isVisible()).toBe(true);

    // An admin ends the session; the next request of the page is refused and the form says why.
    const sessions = (await admin('GET', '/api/sessions')).json as Array<{ id: string; username: string }>;
    const mine = sessions.find((s) => s.username === USERS.viewer)!;
    expect((await admin('DELETE', `/api/sessions/${mine.id}`)).status).toBe(204);
    await item.locator('button').click();
    await page.waitForSelector('#sign-in:not([hidden])', { timeout: 10_000 });
    expect(await page.locator('#sign-in-error').innerText()).toBe('Votre session a expiré ou a été fermée : reconnectez-vous.');
    expect(await page.locator('#board').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    // Signing in again opens the board where it was.
    await signIn(page, USERS.viewer);
    await page.waitForSelector('#board:not([hidden])');
    await item.waitFor({ timeout: 15_000 });
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
