// @ts-check
/**
 * Sign-in with a username and password (a session token, kept like an access token for this
 * tab), sign-out that ends the session on the server, and what the signed-in role may use.
 * Pages mark their actions instead of testing the role in code:
 * - `data-needs="PUT /api/plan"`: hidden unless the role may make that call (auth-roles.js);
 * - `data-min-role="technician"`: hidden from lesser roles;
 * - `data-lacks="PUT /api/plan"`: shown only when the role may not (the explanation);
 * - `data-locked-unless="PUT /api/plan"`: the form controls inside are disabled unless it may.
 */
import { api } from './api.js';
import { mayDo, roleAtLeast, signInErrorMessage } from './auth-roles.js';

export class SignInError extends Error {}

/**
 * @param {string} username
 * @param {string} password
 * @returns {Promise<{ token: string, role: string, username: string, expiresAt: number }>}
 */
export async function signInWithPassword(username, password) {
  const res = await fetch('/api/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password }),
    cache: 'no-store',
  });
  if (res.status !== 201) {
    const retry = Number(res.headers.get('Retry-After'));
    throw new SignInError(signInErrorMessage(res.status, Number.isFinite(retry) && retry > 0 ? retry : null));
  }
  return res.json();
}

/**
 * Ends the session on the server when the token is one (an access token stays valid).
 * @param {string | null} token
 */
export async function endSession(token) {
  if (!token || !token.startsWith('lus_')) return;
  await fetch('/api/session', { method: 'DELETE', headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
}

/** @returns {Promise<{ name: string, role: string, kind: string }>} */
export function whoAmI() {
  return api.get('/api/session/me');
}

const MARKS = '[data-min-role],[data-needs],[data-lacks],[data-locked-unless]';
const CONTROLS = 'input,select,textarea,button,fieldset';
/** Set on the controls a lock disabled, so that only those are enabled again. */
const LOCKED = 'roleLocked';

/**
 * @param {string} role
 * @param {HTMLElement} el
 */
function applyMarks(role, el) {
  const d = el.dataset;
  if (d.needs !== undefined) el.hidden = !mayDo(role, d.needs);
  else if (d.minRole !== undefined) el.hidden = !roleAtLeast(role, d.minRole);
  if (d.lacks !== undefined) el.hidden = mayDo(role, d.lacks);
  if (d.lockedUnless !== undefined) lockControls(el, !mayDo(role, d.lockedUnless));
}

/**
 * @param {Element} root
 * @param {boolean} locked
 */
function lockControls(root, locked) {
  // A disabled fieldset holds its controls disabled whatever the page sets on them (an editor
  // drawn again enables its fields); only its legend's controls need their own lock.
  const fieldset = root instanceof HTMLFieldSetElement;
  const controls = fieldset
    ? [root, ...root.querySelectorAll(`:scope > legend :is(${CONTROLS})`)]
    : [...(root.matches(CONTROLS) ? [root] : []), ...root.querySelectorAll(CONTROLS)];
  for (const c of controls) {
    if (!(c instanceof HTMLElement) || !('disabled' in c)) continue;
    const control = /** @type {HTMLInputElement} */ (c);
    if (locked && !control.disabled) {
      control.disabled = true;
      control.dataset[LOCKED] = '';
    } else if (!locked && control.dataset[LOCKED] !== undefined) {
      control.disabled = false;
      delete control.dataset[LOCKED];
    }
  }
}

/**
 * Applies the role to the marked elements of `root` (itself included); `data-role` on <html>
 * lets CSS follow. Content drawn later inside a lock is locked by `watchRole`.
 * @param {string} role
 * @param {ParentNode} [root]
 */
export function applyRole(role, root = document) {
  document.documentElement.dataset.role = role;
  const marked = [...(root instanceof HTMLElement && root.matches(MARKS) ? [root] : []), ...root.querySelectorAll(MARKS)];
  for (const el of marked) if (el instanceof HTMLElement) applyMarks(role, el);
}

/**
 * Keeps the marks applied to what pages draw after signing in (table rows, buttons of a list).
 * @param {() => string | null} role the role now, null when signed out
 * @returns {() => void} stops watching
 */
export function watchRole(role) {
  const observer = new MutationObserver((records) => {
    const r = role();
    if (r === null) return;
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!(node instanceof HTMLElement)) continue;
        applyRole(r, node);
        const lock = node.parentElement?.closest('[data-locked-unless]');
        if (lock instanceof HTMLElement && !mayDo(r, lock.dataset.lockedUnless ?? '')) lockControls(node, true);
      }
    }
  });
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
