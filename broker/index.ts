export { canPublish, canSubscribe, isValidFilter } from './acl.js';
export {
  accountStateSchema,
  CredentialStore,
  DEFAULT_SCRYPT_PARAMS,
  scryptParamsSchema,
  verifiedAccountSchema,
  type AccountState,
  type CredentialInfo,
  type CredentialStoreOptions,
  type ScryptParams,
  type VerifiedAccount,
} from './credentials.js';
export { credentialChange, CredentialWatch, type CredentialChange, type CredentialWatchOptions } from './credential-watch.js';
export { roleSchema, type Identity, type Role } from './identity.js';
export { addressKey, FailedLoginLimiter, failedLoginLimitSchema, type FailedLoginLimitOptions } from './login-limiter.js';
export {
  startBroker,
  type BrokerOptions,
  type BrokerStats,
  type BrokerTlsOptions,
  type RunningBroker,
} from './broker.js';
