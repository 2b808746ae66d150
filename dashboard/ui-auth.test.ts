import { describe, expect, it } from 'vitest';
import { ROLES as SERVER_ROLES } from '../controller/stores.js';
import { roleAtLeast as serverRoleAtLeast } from './auth.js';
import { ROLE_LABELS, ROLES, roleAtLeast, signInErrorMessage } from './ui/auth-roles.js';

/** The sign-in page's pure helpers (ui/auth-roles.js), run as the ES module the browser loads. */
describe('UI roles (ui/auth-roles.js)', () => {
  it('knows the server’s roles in the server’s order, each with a French label', () => {
    expect([...ROLES]).toEqual([...SERVER_ROLES]);
    for (const r of ROLES) expect(ROLE_LABELS[r]).toMatch(/\S/);
  });

  it('decides as the server does, and hides from an unknown role', () => {
    for (const a of SERVER_ROLES) for (const b of SERVER_ROLES) expect(roleAtLeast(a, b)).toBe(serverRoleAtLeast(a, b));
    expect(roleAtLeast('root', 'viewer')).toBe(false);
    expect(roleAtLeast(undefined, 'viewer')).toBe(false);
    expect(roleAtLeast('viewer', undefined)).toBe(true);
  });

  it('explains a refused sign-in in French, with the wait when rate-limited', () => {
    expect(signInErrorMessage(401, null)).toBe('Nom d’utilisateur ou mot de passe incorrect.');
    expect(signInErrorMessage(429, 900)).toBe('Trop d’essais : réessayez dans 15 minutes.');
    expect(signInErrorMessage(429, 30)).toBe('Trop d’essais : réessayez dans 1 minute.');
    expect(signInErrorMessage(501, null)).toMatch(/jeton d’accès/);
    expect(signInErrorMessage(503, null)).toMatch(/503/);
  });
});
