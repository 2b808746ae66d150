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

/**
 * The API calls behind the pages' actions, with the least role the server's route declares
 * (`minRole`). dashboard/ui-modules.test.ts checks each against the routes themselves, so a
 * route whose role changes fails the test until this table follows.
 * @type {Readonly<Record<string, string>>}
 */
export const ACTION_ROLES = {
  'POST /api/alerts/{id}/acknowledge': 'maintenance',
  'POST /api/alerts/{id}/resolve': 'maintenance',
  'GET /api/alerts/{id}/work-order': 'viewer',
  'PUT /api/plan': 'technician',
  'POST /api/plan/check': 'technician',
  'POST /api/plan/what-if': 'technician',
  'POST /api/plan/curve': 'technician',
  'POST /api/plan/rollback': 'technician',
  'PUT /api/zones/{zone}': 'technician',
  'POST /api/overrides': 'technician',
  'DELETE /api/overrides/{id}': 'technician',
};

/**
 * Whether `role` may make the API call `action` ("METHOD /path" as in ACTION_ROLES). An action
 * the table does not know needs admin, as a route that declares no role does on the server.
 * @param {string | null | undefined} role
 * @param {string} action
 */
export function mayDo(role, action) {
  return roleAtLeast(role, Object.hasOwn(ACTION_ROLES, action) ? ACTION_ROLES[action] : 'admin');
}

/**
 * Who is signed in, as the header shows it: the user's name (`jeton` for an API token) and role.
 * @param {{ name: string, role: string, kind: string }} me GET /api/session/me
 */
export function whoLabel(me) {
  return `${me.kind === 'token' ? 'jeton' : me.name} · ${ROLE_LABELS[me.role] ?? me.role}`;
}

/**
 * Why the sign-in form is back when a request was refused (401) after signing in.
 * @param {'fresh-token' | 'session' | 'token'} how a token just typed in, or a session or token in use
 */
export function refusedMessage(how) {
  if (how === 'fresh-token') return 'Jeton refusé : vérifiez le jeton d’accès.';
  if (how === 'session') return 'Votre session a expiré ou a été fermée : reconnectez-vous.';
  return 'Jeton d’accès refusé (expiré ou révoqué) : reconnectez-vous.';
}

/**
 * French message when the controller could not be reached while signing in or opening a page.
 * @param {string} detail
 * @param {number | null} retryS when a new try is planned
 */
export function unreachableMessage(detail, retryS) {
  return `Connexion impossible (${detail}).${retryS === null ? '' : ` Nouvel essai dans ${retryS} secondes.`}`;
}
