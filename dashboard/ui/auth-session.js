// @ts-check
/**
 * Sign-in with a username and password (a session token, kept like an access token for this
 * tab), sign-out that ends the session on the server, and the role of whoever is signed in:
 * elements marked `data-min-role="technician"` (say) are hidden from lesser roles.
 */
import { api } from './api.js';
import { roleAtLeast, signInErrorMessage } from './auth-roles.js';

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

/**
 * Hides what the role cannot use and shows the rest; `data-role` on <html> lets CSS follow.
 * @param {string} role
 * @param {ParentNode} [root]
 */
export function applyRole(role, root = document) {
  document.documentElement.dataset.role = role;
  for (const el of root.querySelectorAll('[data-min-role]')) {
    if (el instanceof HTMLElement) el.hidden = !roleAtLeast(role, el.dataset.minRole);
  }
}
