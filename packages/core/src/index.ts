export { AccessToken, authorizationHeader } from './access-token.js';
// Also `@drillster-auth/core/assertion`, the signer on its own; kept here too.
export {
  type AssertionParams,
  DEFAULT_ASSERTION_LIFETIME,
  importSigningKey,
  MAX_ASSERTION_LIFETIME,
  signAssertion,
  type WebCryptoKey,
} from './assertion.js';
// Also `@drillster-auth/core/cache`; kept here too, as jose keeps its root: one import for an app.
export {
  type CachedToken,
  createEncryptedTokenCache,
  type EncryptedTokenCacheOptions,
  MemoryTokenCache,
  type MemoryTokenCacheOptions,
  parseCachedToken,
  readCachedToken,
  type SingleFlightOptions,
  serializeCachedToken,
  type TokenCache,
} from './cache/index.js';
export {
  createDrillsterAuth,
  DEFAULT_WIDGET_TOKEN_MIN_VALIDITY,
  DrillsterAuth,
  type DrillsterAuthOptions,
  type GetAccessTokenOptions,
  type WidgetTokenOptions,
} from './client.js';
export { DEFAULT_ISSUER } from './discovery.js';
export {
  AbortError,
  type AnyDrillsterAuthError,
  ConfigurationError,
  DiscoveryError,
  DrillsterAuthError,
  type DrillsterAuthErrorCode,
  KeyFileError,
  type KeyFileErrorCode,
  NetworkError,
  ResponseTooLargeError,
  TokenEndpointError,
  TokenResponseError,
} from './errors.js';
export type { DrillsterAuthEvent, DrillsterAuthEventListener } from './events.js';
export {
  MIN_MODULUS_LENGTH,
  parseServiceAccountKey,
  ServiceAccountKey,
  type ServiceAccountKeyFile,
} from './key-file.js';
export {
  DEFAULT_REJECTED_KEY_PAUSE,
  parseServiceAccountKeys,
  type ServiceAccountKeyInput,
} from './key-ring.js';
export { REDACTED, secretForms } from './redact.js';
export type { DrillsterRequestOptions } from './request-options.js';
export type { RetryOptions } from './retry.js';
export { JWT_BEARER_GRANT_TYPE, MAX_TOKEN_LIFETIME } from './token-endpoint.js';
export { DRILLSTER_API_BASE_URL, DRILLSTER_ISSUER, originOf, parseAllowedOrigins } from './urls.js';
export {
  MAX_TIMER_DELAY,
  type NumberOptionRule,
  numberOption,
  textOption,
} from './validate.js';
