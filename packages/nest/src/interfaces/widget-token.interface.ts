/** A managed user's token for a Drillster widget's `drl-token` attribute. */
export interface WidgetToken {
  /** The access token. It is a credential: hand it only to that user's page. */
  token: string;
  /** When it expires, in milliseconds since the epoch. */
  expiresAt: number;
}
