import type { DrillsterAuth } from '@drillster-auth/core';
import { type AuthSource, parseOrigins, resolveAuth } from './options.js';

/** Per-request options of a {@link DrillsterFetch}, under `init.drillster`. */
export interface DrillsterRequestOptions {
  /** Whom the token is for: a managed user's id, email or third-party id. Default: the fetch's `subject`, else the service account. */
  subject?: string;
  /** Send this request as it is, without a token. Default `false`. */
  skip?: boolean;
}

/** `RequestInit` plus the per-request {@link DrillsterRequestOptions}. */
export interface DrillsterRequestInit extends RequestInit {
  /** Per-request token options. */
  drillster?: DrillsterRequestOptions;
}

/** A `fetch` that authenticates requests to the Drillster API. */
export type DrillsterFetch = (
  input: RequestInfo | URL,
  init?: DrillsterRequestInit,
) => Promise<Response>;

/** Options of {@link createDrillsterFetch}. */
export interface DrillsterFetchOptions {
  /** The client that supplies tokens, or the options to create one with. */
  auth: AuthSource;
  /**
   * Origins (`https://host[:port]`; URLs are reduced to their origin) that get a token.
   * Requests elsewhere pass through untouched and never cause a token request.
   * Default `['https://www.drillster.com']`.
   */
  allowedOrigins?: string[];
  /** Whom tokens are for when a request does not say. Default: the service account. */
  subject?: string;
  /** The `fetch` that sends requests. Default `globalThis.fetch`, looked up at each call. */
  fetch?: typeof fetch;
}

/**
 * Creates a `fetch` that adds `Authorization: Bearer <token>` to requests for the allowed
 * origins, unless a request already carries an `Authorization` header.
 *
 * When such a request is answered 401, the token it used is invalidated and the request is sent
 * once more with a new token; a second 401 is returned as it is. To be able to resend it, the
 * request is cloned before it is sent. A request whose `init.body` is a `ReadableStream` cannot
 * be replayed: it is sent once, and a 401 is returned (the token is still invalidated, so the
 * next request gets a new one). A 401 from another origin, after a redirect, is returned as it is;
 * `fetch` itself drops `Authorization` on a redirect to another origin.
 *
 * @throws {ConfigurationError} for invalid options. The returned function rejects with the
 * client's `DrillsterAuthError` when no token can be had, and with the underlying `fetch`'s
 * errors otherwise.
 */
export function createDrillsterFetch(options: DrillsterFetchOptions): DrillsterFetch {
  const auth = resolveAuth(options.auth);
  const origins = parseOrigins(options.allowedOrigins);
  const defaultSubject = options.subject;
  const send: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return async function drillsterFetch(input, init) {
    const { drillster, ...fetchInit } = init ?? {};
    if (drillster?.skip === true || !origins.has(originOf(input))) {
      return send(input, fetchInit);
    }
    const request = new Request(input, fetchInit);
    if (request.headers.has('authorization')) return send(request);

    const subject = drillster?.subject ?? defaultSubject;
    const replayable = !(fetchInit.body instanceof ReadableStream);
    const spare = replayable ? request.clone() : undefined;
    const used = await authorize(auth, request, subject);
    const response = await send(request);
    // After a redirect the 401 may come from elsewhere; only the allowed origins' judge our token.
    if (response.status !== 401 || !origins.has(originOf(response.url || request.url))) {
      return response;
    }

    await auth.invalidate(subject, { accessToken: used });
    if (spare === undefined) return response;
    let fresh: string;
    try {
      fresh = await authorize(auth, spare, subject);
      // A shared cache that is only eventually consistent may hand back the rejected token.
      if (fresh === used) fresh = await authorize(auth, spare, subject, true);
    } catch (error) {
      await discard(response);
      throw error;
    }
    if (fresh === used) return response;
    await discard(response);
    return send(spare);
  };
}

/** Sets the bearer token on `request` and returns the token. */
async function authorize(
  auth: DrillsterAuth,
  request: Request,
  subject: string | undefined,
  forceRefresh = false,
): Promise<string> {
  const token = await auth.getAccessToken({
    ...(subject === undefined ? {} : { subject }),
    forceRefresh,
  });
  request.headers.set('authorization', `Bearer ${token.accessToken}`);
  return token.accessToken;
}

/** Frees the connection of an answer that is replaced by the retry's (or by an error). */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/** The origin `input` is for; `''` when it is no absolute URL (which `fetch` then rejects). */
function originOf(input: RequestInfo | URL): string {
  if (input instanceof URL) return input.origin;
  const url = input instanceof Request ? input.url : String(input);
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
