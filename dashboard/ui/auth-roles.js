// @ts-check
/**
 * The API's roles as the UI shows them, and which of them may use an action. Pure: tested with
 * vitest (auth-roles.d.ts). The server decides; hiding an action only spares a 403.
 */

export const ROLES = /** @type {const} */ (['viewer', 'maintenance', 'technician', 'admin']);

/** @type {Readonly<Record<string, string>>} */
export const ROLE_LABELS = {
  viewer: 'consultation (élus)',
  maintenance: 'maintenance',
  technician: 'services techniques',
  admin: 'administration',
};

/**
 * @param {string | null | undefined} role
 * @param {string | null | undefined} min
 * @returns {boolean} false for an unknown role; true when no minimum is given
 */
export function roleAtLeast(role, min) {
  if (min === null || min === undefined || min === '') return true;
  const r = ROLES.indexOf(/** @type {any} */ (role));
  const m = ROLES.indexOf(/** @type {any} */ (min));
  return r >= 0 && m >= 0 && r >= m;
}

/**
 * French message for a failed sign-in.
 * @param {number} status
 * @param {number | null} retryAfterS
 */
export function signInErrorMessage(status, retryAfterS) {
  if (status === 401) return 'Nom d’utilisateur ou mot de passe incorrect.';
  if (status === 429) {
    const min = Math.max(1, Math.ceil((retryAfterS ?? 60) / 60));
    return `Trop d’essais : réessayez dans ${min} minute${min > 1 ? 's' : ''}.`;
  }
  if (status === 400) return 'Saisissez un nom d’utilisateur et un mot de passe.';
  if (status === 501) return 'Ce serveur n’a pas de comptes utilisateurs : connectez-vous avec un jeton d’accès.';
  return `Connexion impossible (erreur ${status}).`;
}
