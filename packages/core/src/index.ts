export { AccessToken, authorizationHeader } from './access-token.js';
export {
  type AssertionParams,
  DEFAULT_ASSERTION_LIFETIME,
  importSigningKey,
  MAX_ASSERTION_LIFETIME,
  signAssertion,
  type WebCryptoKey,
} from './assertion.js';
export { createEncryptedTokenCache, type EncryptedTokenCacheOptions } from './cache/encrypted.js';
export { MemoryTokenCache, type MemoryTokenCacheOptions } from './cache/memory.js';
export { parseCachedToken, readCachedToken, serializeCachedToken } from './cache/serialize.js';
export type { CachedToken, SingleFlightOptions, TokenCache } from './cache/types.js';
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
export type { RetryOptions } from './retry.js';
export { JWT_BEARER_GRANT_TYPE, MAX_TOKEN_LIFETIME } from './token-endpoint.js';
export { DRILLSTER_API_BASE_URL, DRILLSTER_ISSUER, originOf } from './urls.js';
export {
  MAX_TIMER_DELAY,
  type NumberOptionRule,
  numberOption,
  textOption,
} from './validate.js';
