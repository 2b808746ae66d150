import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMode, launchChromium } from './browser-kit.js';
import { scaledClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { startServer, type RunningServer } from '../cli/server.js';
import { tempDir } from './helpers.js';

/**
 * Sign-in by account in Debian's chromium: a wrong password is refused in French, the right one
 * opens the dashboard with the user's role shown, actions above the role are hidden, and signing
 * out ends the session on the server.
 */
const mode = chromiumMode();
const TOKEN = 'browser-auth-token-0123456789abcdef';
const PASSWORD = 'mot de passe du maire';

describe.skipIf(mode === 'skip')('sign-in by account in a real browser', () => {
  const tmp = tempDir('browser-auth');
  let server: RunningServer;
  let browser: Browser;
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, server.httpUrl), {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  beforeAll(async () => {
    server = await startServer(
      { dataDir: tmp.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', periodS: 3600, adminToken: TOKEN },
      { clock: scaledClock(Date.now(), 1), logger: silentLogger() },
    );
    expect((await admin('POST', '/api/users', { username: 'maire', role: 'viewer', password: PASSWORD })).status).toBe(201);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    tmp.remove();
  });

  it('refuses a wrong password, signs in as a viewer, hides what the role cannot do, and signs out', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.httpUrl);

    await page.fill('#username', 'maire');
    await page.fill('#password', 'pas le bon mot de passe');
    await page.click('#password-form button');
    await expect.poll(() => page.locator('#sign-in-error').innerText(), { timeout: 5_000 }).toBe('Nom d’utilisateur ou mot de passe incorrect.');

    await page.fill('#password', PASSWORD);
    await page.click('#password-form button');
    await page.waitForSelector('#dashboard:not([hidden])');
    await expect.poll(() => page.locator('[data-testid=who]').innerText()).toBe('maire · consultation (élus)');
    expect(await page.evaluate(() => document.documentElement.dataset.role)).toBe('viewer');
    // A page's actions carry data-min-role: the module hides those above the role.
    // Given as a string: vitest would rewrite a dynamic import() inside a function.
    const hidden = await page.evaluate(`(async () => {
      document.body.insertAdjacentHTML('beforeend', '<button id="t-tech" data-min-role="technician">x</button><button id="t-view" data-min-role="viewer">y</button>');
      const mod = await import('/ui/auth-session.js');
      mod.applyRole(document.documentElement.dataset.role);
      return [document.getElementById('t-tech').hidden, document.getElementById('t-view').hidden];
    })()`);
    expect(hidden).toEqual([true, false]);
    // Actions named by their API call; a lock disables controls and gives back only those it took.
    const marks = await page.evaluate(`(async () => {
      document.body.insertAdjacentHTML('beforeend', '<button id="t-pub" data-needs="PUT /api/plan">p</button>'
        + '<p id="t-why" data-lacks="PUT /api/plan">lecture seule</p><button id="t-unknown" data-needs="POST /api/nothing">u</button>'
        + '<div id="t-lock" data-locked-unless="PUT /api/plan"><input id="t-in"><button id="t-off" disabled>o</button></div>');
      const mod = await import('/ui/auth-session.js');
      const state = () => ['t-pub', 't-why', 't-unknown'].map((id) => document.getElementById(id).hidden)
        .concat(['t-in', 't-off'].map((id) => document.getElementById(id).disabled));
      mod.applyRole('maintenance');
      const below = state();
      mod.applyRole('technician');
      const at = state();
      mod.applyRole(document.documentElement.dataset.role);
      return { below, at };
    })()`);
    expect(marks).toEqual({ below: [true, false, true, true, true], at: [false, true, true, false, true] });
    // The password is not kept anywhere in the page's storage; only the session token is.
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    expect(stored).not.toContain(PASSWORD);
    expect(stored).toMatch(/lus_/);
    expect((await admin('GET', '/api/sessions')).json.map((s: any) => s.username)).toEqual(['maire']);

    await page.click('#sign-out');
    await page.waitForSelector('#sign-in:not([hidden])');
    await expect.poll(async () => (await admin('GET', '/api/sessions')).json.length, { timeout: 5_000 }).toBe(0);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
