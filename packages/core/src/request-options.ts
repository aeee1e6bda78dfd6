/**
 * Per-request token options of the adapters that send requests (`@drillster-auth/axios` under
 * `config.drillster`, `@drillster-auth/edge` under `init.drillster`): one type, so a helper that
 * picks the subject works with either.
 */
export interface DrillsterRequestOptions {
  /**
   * Whom the token is for: a managed user's id, email or third-party id. Default (only when left
   * out or `undefined`): the adapter's `subject` option, else the service account. `null`, `''`
   * or a non-string is refused with {@link ConfigurationError} `ERR_INVALID_OPTIONS`, never read
   * as the service account.
   */
  subject?: string;
  /** Send this request as it is, without a token. Default `false`. */
  skip?: boolean;
}
