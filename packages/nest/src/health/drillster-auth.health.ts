import {
  AbortError,
  type DrillsterAuth,
  DrillsterAuthError,
  type DrillsterAuthErrorCode,
  MAX_TIMER_DELAY,
  numberOption,
} from '@drillster-auth/core';
import { Inject, Injectable } from '@nestjs/common';
import * as terminus from '@nestjs/terminus';
import { DRILLSTER_AUTH } from '../drillster-auth.constants.js';

/** Default `timeout` of {@link DrillsterAuthHealthIndicator.isHealthy}, in milliseconds: 5 seconds. */
export const DEFAULT_HEALTH_CHECK_TIMEOUT = 5000;

/**
 * What {@link DrillsterAuthHealthIndicator.isHealthy} reports under `key`: `up`, or `down` with
 * the error's `code` (`ERR_TIMEOUT` when no answer came within the timeout). A terminus
 * `HealthIndicatorResult`.
 */
export type DrillsterAuthHealthResult<Key extends string = string> = Record<
  Key,
  { status: 'up' } | { status: 'down'; code: DrillsterAuthErrorCode }
>;

/** Options of {@link DrillsterAuthHealthIndicator.isHealthy}. */
export interface DrillsterAuthHealthCheckOptions {
  /**
   * Milliseconds to wait for a token, a whole number from 1 to 2^31 − 1: a health check must
   * answer even while the token endpoint does not. A token request still running then goes on
   * for the callers that share it. Default {@link DEFAULT_HEALTH_CHECK_TIMEOUT} (5000).
   */
  timeout?: number;
}

/** A terminus 10 `HealthCheckError`: how an indicator says `down` there. */
type LegacyHealthCheckError = new (message: string, causes: unknown) => Error;

/**
 * Terminus learns that an indicator is down in two ways, and no major takes both: 10 only from a
 * thrown `HealthCheckError` (a returned `down` counts as up); 12 only from a returned `down` (it
 * has no `HealthCheckError` and fails the whole check on a throw); 11 takes either. Its
 * `HealthIndicatorService`, exported from 11 on, tells them apart.
 */
const legacyHealthCheckError = ((exported: Record<string, unknown>) =>
  exported.HealthIndicatorService === undefined && typeof exported.HealthCheckError === 'function'
    ? (exported.HealthCheckError as LegacyHealthCheckError)
    : undefined)(terminus as unknown as Record<string, unknown>);

/**
 * A `@nestjs/terminus` health indicator (terminus 10, 11 and 12): healthy while the module's
 * client has a token for the service account or can get one, unhealthy with the error's `code`
 * otherwise. It reports nothing else: never a token, a secret or a message. Provide it in a
 * module that sees `DrillsterAuthModule` and call it from a `HealthCheckService` check:
 * `() => this.drillster.isHealthy('drillster')`.
 */
@Injectable()
export class DrillsterAuthHealthIndicator {
  constructor(@Inject(DRILLSTER_AUTH) private readonly auth: DrillsterAuth) {}

  /**
   * `{ [key]: { status: 'up' } }` when the service account's token is cached (a map lookup) or
   * can be had within `timeout`; else `{ [key]: { status: 'down', code } }`, returned (terminus
   * 11 and 12) or thrown as terminus 10's `HealthCheckError`, which is how each major counts an
   * indicator as down.
   *
   * @param key - Name of the indicator in the health check's result. Default `drillster`.
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` for a `timeout` out of range.
   */
  async isHealthy<Key extends string = 'drillster'>(
    key: Key = 'drillster' as Key,
    options?: DrillsterAuthHealthCheckOptions,
  ): Promise<DrillsterAuthHealthResult<Key>> {
    const timeout = numberOption(options?.timeout, 'timeout', {
      default: DEFAULT_HEALTH_CHECK_TIMEOUT,
      min: 1,
      max: MAX_TIMER_DELAY,
      integer: true,
    });
    const signal = AbortSignal.timeout(timeout);
    try {
      await this.auth.getAccessToken({ signal });
      return { [key]: { status: 'up' } } as DrillsterAuthHealthResult<Key>;
    } catch (error) {
      const code: DrillsterAuthErrorCode =
        error instanceof AbortError && signal.aborted
          ? 'ERR_TIMEOUT'
          : error instanceof DrillsterAuthError
            ? error.code
            : 'ERR_UNEXPECTED';
      const down = { [key]: { status: 'down', code } } as DrillsterAuthHealthResult<Key>;
      if (legacyHealthCheckError !== undefined) {
        throw new legacyHealthCheckError(`${key} is down (${code})`, down);
      }
      return down;
    }
  }
}
