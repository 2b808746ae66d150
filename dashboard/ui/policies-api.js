// @ts-check
import { ApiError, tokenStore } from './api.js';

/**
 * The policy routes' calls. api.js throws away an error's body, and the editor needs it: a 422
 * carries the compliance findings and a 400 the field at fault. It has no DELETE either.
 */

export class PolicyApiError extends ApiError {
  /**
   * @param {number} status
   * @param {any} body the error body: `{code, message, field?, findings?}`
   */
  constructor(status, body) {
    const code = body && typeof body.code === 'string' ? body.code : 'LUCIOLE_ERR_HTTP';
    const message = body && typeof body.message === 'string' ? body.message : `erreur HTTP ${status}`;
    super(status, code, message);
    /** @type {string | undefined} */
    this.field = body && typeof body.field === 'string' && body.field !== '' ? body.field : undefined;
    /** @type {any[] | undefined} */
    this.findings = body && Array.isArray(body.findings) ? body.findings : undefined;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json', Authorization: `Bearer ${tokenStore.get() ?? ''}` };
  /** @type {RequestInit} */
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!res.ok) throw new PolicyApiError(res.status, payload);
  return payload;
}

export const policiesApi = {
  town: () => call('GET', '/api/town'),
  health: () => call('GET', '/api/health'),
  /** @returns {Promise<any | null>} the version in force, null before the first */
  currentPlan: () =>
    call('GET', '/api/plan').catch((e) => {
      if (e instanceof PolicyApiError && e.status === 404) return null;
      throw e;
    }),
  zones: () => call('GET', '/api/zones'),
  /** @param {string} zone @param {any} meta */
  updateZone: (zone, meta) => call('PUT', `/api/zones/${encodeURIComponent(zone)}`, meta),
  groups: () => call('GET', '/api/groups'),
  lamps: () => call('GET', '/api/lamps'),
  /** @param {any} plan */
  check: (plan) => call('POST', '/api/plan/check', { plan }),
  /** @param {any} plan */
  whatIf: (plan) => call('POST', '/api/plan/what-if', { plan }),
  /** @param {string} profile @param {string} date @param {any} [plan] a draft; absent: the plan in force */
  curve: (profile, date, plan) =>
    plan === undefined
      ? call('GET', `/api/plan/curve?profile=${encodeURIComponent(profile)}&date=${encodeURIComponent(date)}`)
      : call('POST', '/api/plan/curve', { profile, date, plan }),
  /** @param {any} plan */
  publish: (plan) => call('PUT', '/api/plan', plan),
  rollout: () => call('GET', '/api/plan/rollout'),
  versions: () => call('GET', '/api/plan/versions'),
  /** @param {number} v */
  version: (v) => call('GET', `/api/plan/versions/${v}`),
  /** @param {number} version */
  rollback: (version) => call('POST', '/api/plan/rollback', { version }),
  overrides: () => call('GET', '/api/overrides'),
  /** @param {any} request */
  setOverride: (request) => call('POST', '/api/overrides', request),
  /** @param {string} id */
  clearOverride: (id) => call('DELETE', `/api/overrides/${encodeURIComponent(id)}`),
};
