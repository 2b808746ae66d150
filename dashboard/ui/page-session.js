// @ts-check
/**
 * The sign-in and session of every page (dashboard, policies, maintenance, report): the sign-in
 * form (account or access token), the tab's session shared by all pages (api.js tokenStore, in
 * sessionStorage: signing in on one page signs in on the others of the tab), sign-out, a refused
 * token (401) taking the page back to the form with the reason, and the role applied to the
 * page's marked actions (auth-session.js).
 *
 * A page gives its content element and an `enter` that loads it; what `enter` starts (timers,
 * the live stream) is registered with `session.onLeave` and stopped on sign-out.
 */
import { ApiError, tokenStore } from './api.js';
import { mayDo, refusedMessage, unreachableMessage, whoLabel } from './auth-roles.js';
import { SignInError, applyRole, endSession, signInWithPassword, watchRole, whoAmI } from './auth-session.js';

const RETRY_S = 5;

/** @param {unknown} e */
const messageOf = (e) => (e instanceof Error ? e.message : String(e));

/** The form, the same on every page; no data goes in, so a constant is safe as markup. */
const SIGN_IN_FORM = `
  <h1 id="sign-in-title">Connexion</h1>
  <form id="password-form" aria-label="Connexion par compte">
    <label for="username">Nom d’utilisateur</label>
    <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required>
    <label for="password">Mot de passe</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Se connecter</button>
  </form>
  <h2 class="sign-in-or" id="token-title">Ou avec un jeton d’accès</h2>
  <form id="sign-in-form" aria-labelledby="token-title">
    <!-- Lets password managers file the token under a name of its own. -->
    <input type="text" name="token-name" autocomplete="username" value="jeton" hidden>
    <label for="token">Jeton d’accès</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit" class="secondary">Se connecter avec le jeton</button>
  </form>
  <p id="sign-in-error" class="error" role="alert" data-testid="sign-in-error"></p>
  <p class="hint">La connexion est gardée pour cet onglet, sur toutes les pages de Luciole, et oubliée à sa fermeture ; une session se ferme après 12&nbsp;h, ou une heure sans activité.</p>`;

/**
 * @typedef {{ name: string, role: string, kind: string }} Me GET /api/session/me
 * @typedef {{
 *   me: () => Me | null,
 *   may: (action: string) => boolean,
 *   onLeave: (stop: () => void) => void,
 *   repeat: (task: () => Promise<void>, periodMs: number, onError: (e: unknown) => void) => void,
 *   refused: (e: unknown) => boolean,
 *   expire: () => void,
 *   signOut: () => void,
 * }} PageSession
 */

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

/**
 * Takes over the page's `#sign-in` section, `#sign-out` button and `[data-testid=who]` label,
 * then opens the page when the tab is signed in, else shows the form.
 * @param {{
 *   content: HTMLElement,
 *   enter: (me: Me, session: PageSession) => Promise<void>,
 * }} opts `content` is shown only while signed in
 * @returns {PageSession}
 */
export function startPageSession(opts) {
  const host = byId('sign-in');
  host.innerHTML = SIGN_IN_FORM;
  const ui = {
    host,
    passwordForm: /** @type {HTMLFormElement} */ (byId('password-form')),
    username: /** @type {HTMLInputElement} */ (byId('username')),
    password: /** @type {HTMLInputElement} */ (byId('password')),
    tokenForm: /** @type {HTMLFormElement} */ (byId('sign-in-form')),
    token: /** @type {HTMLInputElement} */ (byId('token')),
    error: byId('sign-in-error'),
    signOut: /** @type {HTMLButtonElement} */ (byId('sign-out')),
    who: /** @type {HTMLElement | null} */ (document.querySelector('[data-testid=who]')),
  };

  /** @type {Me | null} */
  let me = null;
  /** @type {Array<() => void>} */
  let stops = [];
  /** Bumped on each sign-in and sign-out: a page load still running for an older one is ignored. */
  let generation = 0;

  const stopAll = () => {
    for (const stop of stops.splice(0).reverse()) stop();
  };

  /** @param {string | null} message */
  const showForm = (message) => {
    generation += 1;
    stopAll();
    me = null;
    delete document.documentElement.dataset.role;
    opts.content.hidden = true;
    ui.signOut.hidden = true;
    if (ui.who) ui.who.hidden = true;
    ui.host.hidden = false;
    ui.error.textContent = message ?? '';
    ui.token.value = '';
    ui.password.value = '';
    ui.username.focus();
  };

  /**
   * Drops the tab's token (the server already refused it) and says why.
   * @param {'fresh-token' | 'session' | 'token'} how
   */
  const refusedAs = (how) => {
    tokenStore.clear();
    showForm(refusedMessage(how));
  };

  const expire = () => {
    if (me === null && tokenStore.get() === null) return;
    refusedAs(me?.kind === 'session' || (tokenStore.get() ?? '').startsWith('lus_') ? 'session' : 'token');
  };

  /** @type {PageSession} */
  const session = {
    me: () => me,
    may: (action) => me !== null && mayDo(me.role, action),
    onLeave: (stop) => {
      stops.push(stop);
    },
    repeat: (task, periodMs, onError) => {
      const run = () => {
        task().catch(onError);
      };
      run();
      const timer = setInterval(run, periodMs);
      stops.push(() => clearInterval(timer));
    },
    refused: (e) => {
      if (!(e instanceof ApiError && e.status === 401)) return false;
      expire();
      return true;
    },
    expire,
    signOut: () => {
      // The session ends on the server too; a failure there leaves it to expire on its own.
      endSession(tokenStore.get()).catch(() => undefined);
      tokenStore.clear();
      showForm(null);
    },
  };

  /** @param {'fresh-token' | 'stored'} how */
  const enter = async (how) => {
    const mine = ++generation;
    stopAll();
    let who;
    try {
      who = await whoAmI();
    } catch (e) {
      if (mine !== generation) return;
      if (e instanceof ApiError && e.status === 401) {
        refusedAs(how === 'fresh-token' ? 'fresh-token' : tokenStore.get()?.startsWith('lus_') ? 'session' : 'token');
        return;
      }
      retryLater(e, how);
      return;
    }
    if (mine !== generation) return;
    me = who;
    applyRole(who.role);
    stops.push(watchRole(() => (me ? me.role : null)));
    if (ui.who) {
      ui.who.textContent = whoLabel(who);
      ui.who.hidden = false;
    }
    ui.error.textContent = '';
    ui.host.hidden = true;
    opts.content.hidden = false;
    ui.signOut.hidden = false;
    try {
      await opts.enter(who, session);
    } catch (e) {
      if (mine !== generation || session.refused(e)) return;
      retryLater(e, 'stored');
    }
  };

  /**
   * The token may be right and the controller merely away: keep it and try again shortly.
   * @param {unknown} e
   * @param {'fresh-token' | 'stored'} how
   */
  const retryLater = (e, how) => {
    showForm(unreachableMessage(messageOf(e), RETRY_S));
    const retry = setTimeout(() => start(how), RETRY_S * 1000);
    stops.push(() => clearTimeout(retry));
  };

  /**
   * `enter` handles its failures; this catches only a fault of the page's own code.
   * @param {'fresh-token' | 'stored'} how
   */
  const start = (how) => {
    enter(how).catch((e) => retryLater(e, how));
  };

  ui.tokenForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = ui.token.value.trim();
    if (token === '') return;
    tokenStore.set(token);
    ui.error.textContent = '';
    start('fresh-token');
  });

  ui.passwordForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const username = ui.username.value.trim().toLowerCase();
    const password = ui.password.value;
    if (username === '' || password === '') return;
    ui.error.textContent = '';
    const button = /** @type {HTMLButtonElement} */ (ui.passwordForm.querySelector('button'));
    button.disabled = true;
    signInWithPassword(username, password)
      .then((s) => {
        tokenStore.set(s.token);
        ui.password.value = '';
        return enter('stored');
      })
      .catch((e) => {
        ui.password.value = '';
        ui.password.focus();
        ui.error.textContent = e instanceof SignInError ? e.message : unreachableMessage(messageOf(e), null);
      })
      .finally(() => {
        button.disabled = false;
      });
  });

  ui.signOut.addEventListener('click', () => session.signOut());

  if (tokenStore.get()) {
    start('stored');
  } else {
    showForm(null);
  }
  return session;
}
