// @ts-check
import { ApiError, api, tokenStore } from './api.js';
import { ROLE_LABELS } from './auth-roles.js';
import { SignInError, applyRole, endSession, signInWithPassword, whoAmI } from './auth-session.js';
import { formatClock } from './format.js';
import { startLiveStream } from './live.js';
import { createMap } from './map.js';
import { renderAlerts, renderCabinets, renderEnergy } from './panels.js';

const ENERGY_REFRESH_MS = 5_000;
const HEALTH_REFRESH_MS = 5_000;
const RESYNC_MS = 10_000;

/**
 * @template {Element} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
function byId(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`élément #${id} absent`);
  return /** @type {T} */ (/** @type {unknown} */ (e));
}

const ui = {
  signIn: byId('sign-in'),
  signInForm: /** @type {HTMLFormElement} */ (byId('sign-in-form')),
  tokenInput: /** @type {HTMLInputElement} */ (byId('token')),
  passwordForm: /** @type {HTMLFormElement} */ (byId('password-form')),
  usernameInput: /** @type {HTMLInputElement} */ (byId('username')),
  passwordInput: /** @type {HTMLInputElement} */ (byId('password')),
  who: byId('who'),
  signInError: byId('sign-in-error'),
  dashboard: byId('dashboard'),
  signOut: /** @type {HTMLButtonElement} */ (byId('sign-out')),
  townName: byId('town-name'),
  clock: byId('clock'),
  live: byId('live'),
  map: /** @type {SVGSVGElement} */ (byId('map')),
  cabinets: /** @type {HTMLTableSectionElement} */ (byId('cabinets-body')),
  energyCard: byId('energy-tonight'),
  energyNights: /** @type {HTMLTableSectionElement} */ (byId('energy-nights')),
  alerts: byId('alerts-list'),
  error: byId('load-error'),
};

const map = createMap(ui.map);

/** Everything a signed-in session holds; dropped whole on sign-out. */
const state = {
  timeZone: 'Europe/Paris',
  clockMs: 0,
  /** @type {Map<string, any>} */
  cabinets: new Map(),
  /** @type {Map<string, any>} */
  alerts: new Map(),
  /** @type {Array<() => void>} */
  stops: [],
};

/** @param {number} ts */
function showClock(ts) {
  // Events may arrive slightly out of order; the displayed clock never runs backwards because of them.
  if (ts < state.clockMs) return;
  state.clockMs = ts;
  ui.clock.textContent = formatClock(ts, state.timeZone);
  ui.clock.setAttribute('datetime', new Date(ts).toISOString());
}

/** @param {'connecting' | 'live' | 'reconnecting' | 'off'} s */
function showLive(s) {
  ui.live.dataset.state = s;
  ui.live.textContent =
    s === 'live' ? 'en direct' : s === 'connecting' ? 'connexion…' : s === 'reconnecting' ? 'reconnexion…' : 'hors ligne';
}

/** @param {string | null} message */
function showError(message) {
  ui.error.textContent = message ?? '';
  ui.error.hidden = message === null;
}

const renderCabinetTable = () => renderCabinets(ui.cabinets, [...state.cabinets.values()], state.timeZone);
const renderAlertList = () => renderAlerts(ui.alerts, [...state.alerts.values()], state.timeZone);

/**
 * Runs `task` now and every `periodMs`, stopped on sign-out.
 * @param {() => Promise<void>} task
 * @param {number} periodMs
 */
function repeat(task, periodMs) {
  const run = () => {
    task().catch(onFailure);
  };
  run();
  const timer = setInterval(run, periodMs);
  state.stops.push(() => clearInterval(timer));
}

async function refreshHealth() {
  const health = await api.get('/api/health');
  state.clockMs = 0;
  showClock(health.time);
}

async function refreshEnergy() {
  renderEnergy(ui.energyCard, ui.energyNights, await api.get('/api/energy?nights=8'));
}

/** Reloads what the live stream updates, after a (re)connection may have missed events. */
async function resync() {
  const [lamps, cabinets, alerts] = await Promise.all([api.get('/api/lamps'), api.get('/api/cabinets'), api.get('/api/alerts')]);
  state.cabinets = new Map(cabinets.map((/** @type {any} */ c) => [c.id, c]));
  state.alerts = new Map(alerts.map((/** @type {any} */ a) => [a.id, a]));
  map.render(lamps, cabinets);
  renderCabinetTable();
  renderAlertList();
  showError(null);
}

/** @param {any} event a LiveEvent */
function onLiveEvent(event) {
  switch (event.type) {
    case 'lamps':
      for (const lamp of event.lamps) map.updateLamp(lamp);
      showClock(event.ts);
      break;
    case 'cabinet':
      state.cabinets.set(event.cabinet.id, event.cabinet);
      map.updateCabinet(event.cabinet);
      renderCabinetTable();
      break;
    case 'presence':
      map.flash(event.lampId);
      showClock(event.ts);
      break;
    case 'alert':
      state.alerts.set(event.alert.id, event.alert);
      renderAlertList();
      break;
    default:
      break;
  }
}

/** @param {unknown} e */
function onFailure(e) {
  if (e instanceof ApiError && e.status === 401) {
    signOut('Session expirée ou jeton refusé : reconnectez-vous.');
    return;
  }
  showError(`Impossible de joindre le contrôleur (${e instanceof Error ? e.message : String(e)}). Nouvel essai automatique.`);
}

async function enter() {
  const town = await api.get('/api/town');
  state.timeZone = town.site.timezone;
  ui.townName.textContent = town.name;
  document.title = `Luciole — ${town.name}`;
  const me = await whoAmI();
  applyRole(me.role);
  ui.who.textContent = `${me.kind === 'token' ? 'jeton' : me.name} · ${ROLE_LABELS[me.role] ?? me.role}`;
  ui.who.hidden = false;
  ui.signIn.hidden = true;
  ui.dashboard.hidden = false;
  ui.signOut.hidden = false;

  await resync();
  repeat(refreshHealth, HEALTH_REFRESH_MS);
  repeat(refreshEnergy, ENERGY_REFRESH_MS);
  const resyncTimer = setInterval(() => resync().catch(onFailure), RESYNC_MS);
  state.stops.push(() => clearInterval(resyncTimer));

  let connectedOnce = false;
  const stopStream = startLiveStream({
    token: () => tokenStore.get(),
    onEvent: onLiveEvent,
    onState: (s) => {
      showLive(s);
      if (s === 'live') {
        if (connectedOnce) resync().catch(onFailure);
        connectedOnce = true;
      }
    },
    onUnauthorized: () => signOut('Session expirée ou jeton refusé : reconnectez-vous.'),
  });
  state.stops.push(stopStream);
}

/** @param {string | null} message */
function showSignIn(message) {
  for (const stop of state.stops.splice(0)) stop();
  showLive('off');
  ui.dashboard.hidden = true;
  ui.signOut.hidden = true;
  ui.who.hidden = true;
  ui.signIn.hidden = false;
  ui.signInError.textContent = message ?? '';
  ui.tokenInput.value = '';
  ui.passwordInput.value = '';
  ui.usernameInput.focus();
}

/** @param {string | null} message */
function signOut(message) {
  // The session ends on the server too; a failure there leaves it to expire on its own.
  endSession(tokenStore.get()).catch(() => undefined);
  tokenStore.clear();
  showSignIn(message);
}

/** @param {unknown} e */
function onEnterFailure(e) {
  if (e instanceof ApiError && e.status === 401) {
    signOut('Jeton refusé : vérifiez le jeton d’accès.');
    return;
  }
  // The token may be right and the controller merely away: keep it and try again shortly.
  showSignIn(`Connexion impossible (${e instanceof Error ? e.message : String(e)}). Nouvel essai dans 5 secondes.`);
  const retry = setTimeout(() => enter().catch(onEnterFailure), 5_000);
  state.stops.push(() => clearTimeout(retry));
}

ui.signInForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = ui.tokenInput.value.trim();
  if (token === '') return;
  for (const stop of state.stops.splice(0)) stop();
  tokenStore.set(token);
  ui.signInError.textContent = '';
  enter().catch(onEnterFailure);
});

ui.passwordForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const username = ui.usernameInput.value.trim().toLowerCase();
  const password = ui.passwordInput.value;
  if (username === '' || password === '') return;
  for (const stop of state.stops.splice(0)) stop();
  ui.signInError.textContent = '';
  const button = /** @type {HTMLButtonElement} */ (ui.passwordForm.querySelector('button'));
  button.disabled = true;
  signInWithPassword(username, password)
    .then((session) => {
      tokenStore.set(session.token);
      ui.passwordInput.value = '';
      return enter();
    })
    .catch((e) => {
      if (e instanceof SignInError) {
        ui.signInError.textContent = e.message;
        ui.passwordInput.value = '';
        ui.passwordInput.focus();
        return;
      }
      onEnterFailure(e);
    })
    .finally(() => {
      button.disabled = false;
    });
});

ui.signOut.addEventListener('click', () => signOut(null));

showLive('off');
if (tokenStore.get()) {
  enter().catch(onEnterFailure);
} else {
  ui.signIn.hidden = false;
  ui.usernameInput.focus();
}
