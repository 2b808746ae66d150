export { canPublish, canSubscribe, isValidFilter } from './acl.js';
export {
  CredentialStore,
  DEFAULT_SCRYPT_PARAMS,
  scryptParamsSchema,
  type CredentialInfo,
  type CredentialStoreOptions,
  type ScryptParams,
} from './credentials.js';
export { roleSchema, type Identity, type Role } from './identity.js';
export { addressKey, FailedLoginLimiter, failedLoginLimitSchema, type FailedLoginLimitOptions } from './login-limiter.js';
export {
  startBroker,
  type BrokerOptions,
  type BrokerStats,
  type BrokerTlsOptions,
  type RunningBroker,
} from './broker.js';
