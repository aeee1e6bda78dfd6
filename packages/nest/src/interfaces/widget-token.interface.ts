/** A managed user's token for a Drillster widget's `drl-token` attribute. */
export interface WidgetToken {
  /** The access token. It is a credential: hand it only to that user's page. */
  token: string;
  /** When it expires, in milliseconds since the epoch. */
  expiresAt: number;
}

/** Options of `DrillsterAuthService.getWidgetToken`. */
export interface WidgetTokenOptions {
  /** Stops waiting for the token. */
  signal?: AbortSignal;
  /**
   * Seconds the token has left at least, from 0 to 86400. Default: the module's
   * `widgetTokenMinValidity` (900).
   */
  minValidity?: number;
}
