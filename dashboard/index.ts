export { buildApp, BODY_LIMIT_BYTES, type BuildAppOptions } from './app.js';
export { MIN_TOKEN_LENGTH } from './auth.js';
