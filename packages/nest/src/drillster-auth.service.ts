import {
  type AccessToken,
  DEFAULT_WIDGET_TOKEN_MIN_VALIDITY,
  type DrillsterAuth,
  type GetAccessTokenOptions,
  numberOption,
} from '@drillster-auth/core';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DRILLSTER_API_BINDING, DRILLSTER_AUTH } from './drillster-auth.constants.js';
import { DRILLSTER_AUTH_MODULE_OPTIONS } from './drillster-auth.module-definition.js';
import type { DrillsterApiBinding } from './drillster-auth.providers.js';
import type {
  DrillsterAuthModuleOptions,
  WidgetToken,
  WidgetTokenOptions,
} from './interfaces/index.js';

/**
 * Drillster access tokens for the configured service account and the users it manages. Inject
 * it anywhere the module is visible; `client` is the underlying core `DrillsterAuth`.
 */
@Injectable()
export class DrillsterAuthService implements OnApplicationShutdown {
  readonly #widgetMinValidity: number;

  /** @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `widgetTokenMinValidity` is out of range. */
  constructor(
    /** The core client behind this service, for what the service does not wrap. */
    @Inject(DRILLSTER_AUTH) readonly client: DrillsterAuth,
    @Inject(DRILLSTER_API_BINDING) private readonly binding: DrillsterApiBinding,
    @Inject(DRILLSTER_AUTH_MODULE_OPTIONS) options: DrillsterAuthModuleOptions,
  ) {
    // Checked here, so a bad value fails the bootstrap rather than every widget later; the
    // range is core's for `minValidity`.
    this.#widgetMinValidity = numberOption(
      options.widgetTokenMinValidity,
      'widgetTokenMinValidity',
      { default: DEFAULT_WIDGET_TOKEN_MIN_VALIDITY, min: 0, max: 86_400 },
    );
  }

  /**
   * An access token for `options.subject` (default: the service account), cached and refreshed
   * by the core client.
   *
   * @throws {DrillsterAuthError} with a `code` saying what failed.
   */
  getAccessToken(options?: GetAccessTokenOptions): Promise<AccessToken> {
    return this.client.getAccessToken(options);
  }

  /** `Bearer <access token>`, for an `Authorization` header. Options as for {@link getAccessToken}. */
  getAuthorizationHeader(options?: GetAccessTokenOptions): Promise<string> {
    return this.client.getAuthorizationHeader(options);
  }

  /**
   * Forgets the cached token of `subject` (default: the service account), so the next call gets
   * a new one. With `accessToken`, only if that is still the cached token.
   */
  invalidate(subject?: string, options?: { accessToken?: string }): Promise<void> {
    return this.client.invalidate(subject, options);
  }

  /**
   * A token for the managed user `userId` (id, email or third-party id), for a Drillster
   * widget's `drl-token` attribute, with at least `minValidity` seconds left (default the
   * module's `widgetTokenMinValidity`, 900): the widget cannot renew it. Never the service
   * account's own token: that one must not reach a browser, so an empty `userId` or the service
   * account's id is refused.
   *
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `userId` is not a non-empty string,
   * when `minValidity` is out of range, or when the token endpoint's tokens live shorter than it.
   * @throws {DrillsterAuthError} when no token can be had.
   */
  async getWidgetToken(userId: string, options?: WidgetTokenOptions): Promise<WidgetToken> {
    const minValidity = options?.minValidity;
    // The rule (a managed user only, never the service account) is core's.
    const token = await this.client.getWidgetToken(userId, {
      // Only a left-out value falls back; core refuses a null or NaN one.
      minValidity: minValidity === undefined ? this.#widgetMinValidity : minValidity,
      ...(options?.signal === undefined ? {} : { signal: options.signal }),
    });
    return { token: token.accessToken, expiresAt: token.expiresAt };
  }

  /**
   * Stops the client's background work and detaches the API client's interceptors. Runs after
   * every `onModuleDestroy`, so other providers can still call Drillster while shutting down.
   */
  onApplicationShutdown(): void {
    this.binding.detach();
    this.client.close();
  }
}
