import {
  authorizationHeader,
  ConfigurationError,
  type DrillsterAuth,
  type DrillsterRequestOptions,
  type GetAccessTokenOptions,
  originOf,
  parseAllowedOrigins,
  textOption,
} from '@drillster-auth/core';
import { type AuthSource, DEFAULT_ALLOWED_ORIGINS, resolveAuth } from './options.js';

/** `RequestInit` plus core's per-request `DrillsterRequestOptions`. */
export interface DrillsterRequestInit extends RequestInit {
  /** Per-request token options; `subject` defaults to the fetch's `subject`. */
  drillster?: DrillsterRequestOptions;
}

/** A `fetch` that authenticates requests to the Drillster API. */
export type DrillsterFetch = (
  // Spelled out: `RequestInfo` is DOM-only, and @types/node does not declare it.
  input: Request | string | URL,
  init?: DrillsterRequestInit,
) => Promise<Response>;

/** Options of {@link createDrillsterFetch}. */
export interface DrillsterFetchOptions {
  /** The client that supplies tokens, or the options to create one with. */
  auth: AuthSource;
  /**
   * Origins (`https://host[:port]`; URLs are reduced to their origin) that get a token: absolute
   * `http:` or `https:` URLs only, read by core's `parseAllowedOrigins` (as the axios adapter
   * does). Requests elsewhere pass through untouched and never cause a token request.
   * Default `['https://www.drillster.com']` ({@link DEFAULT_ALLOWED_ORIGINS}).
   */
  allowedOrigins?: readonly string[];
  /** Whom tokens are for when a request does not say; a non-empty string. Default: the service account. */
  subject?: string;
  /** The `fetch` that sends requests. Default `globalThis.fetch`, looked up at each call. */
  fetch?: typeof fetch;
  /**
   * The Worker's `ExecutionContext` (the handler's `ctx`), or anything with its `waitUntil`
   * method (`{ waitUntil }` from `cloudflare:workers`). Token work that must outlive the request
   * (a background refresh, a token request other requests share) is handed to its `waitUntil`
   * (core's `waitUntil` option); without it, workerd drops that work when the response is done,
   * and refreshes ahead of expiry never land. Create the fetch in each request with that
   * request's `ctx`. Default: none (Deno and Bun need none).
   */
  ctx?: { waitUntil(promise: Promise<unknown>): void };
}

/**
 * Creates a `fetch` that adds `Authorization: Bearer <token>` to requests for the allowed
 * origins, unless a request already carries an `Authorization` header.
 *
 * When such a request is answered 401, the token it used is invalidated and the request is sent
 * once more with a new token (core's `getReplacementToken`: never the rejected one); a second 401
 * is returned as it is. To be able to resend it, the
 * request is cloned before it is sent. A request whose `init.body` is a `ReadableStream` cannot
 * be replayed: it is sent once, and a 401 is returned (the token is still invalidated, so the
 * next request gets a new one). A 401 from another origin, after a redirect, is returned as it is;
 * `fetch` itself drops `Authorization` on a redirect to another origin.
 *
 * The origin is checked on the `Request` that is then sent, built once from `input` and `init`,
 * so what is checked is what goes out (a `URL` or `Request` whose `toString` or `url` says
 * otherwise cannot steer the token). Input that makes no `Request` here (a relative URL outside a
 * browser) is passed on untouched, without a token.
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` for invalid options (an `allowedOrigins`
 * entry is named by its index, never quoted). The returned function rejects with the
 * client's `DrillsterAuthError` when no token can be had (after a 401, `TokenResponseError`
 * `ERR_INVALID_TOKEN_RESPONSE` when the token endpoint issues the rejected token again), and with
 * the underlying `fetch`'s errors otherwise.
 */
export function createDrillsterFetch(options: DrillsterFetchOptions): DrillsterFetch {
  const auth = resolveAuth(options.auth);
  const origins = parseAllowedOrigins(options.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS);
  const defaultSubject =
    options.subject === undefined ? undefined : textOption(options.subject, 'subject');
  const send: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const waitUntil = waitUntilOf(options.ctx);

  return async function drillsterFetch(input, init) {
    const { drillster, ...fetchInit } = init ?? {};
    if (drillster?.skip === true) return send(input, fetchInit);
    const request = toRequest(input, fetchInit);
    if (request === undefined) return send(input, fetchInit);
    // `input`'s body, if any, now belongs to `request`: from here on only `request` is sent.
    const origin = new URL(request.url).origin;
    if (!origins.has(origin) || request.headers.has('authorization')) return send(request);

    // Only `undefined` falls back: a `null` or `''` goes to core, which refuses it.
    const requested = drillster?.subject;
    const subject = requested === undefined ? defaultSubject : requested;
    const replayable = !(fetchInit.body instanceof ReadableStream);
    const spare = replayable ? request.clone() : undefined;
    const tokenOptions: GetAccessTokenOptions = {
      ...(subject === undefined ? {} : { subject }),
      ...(waitUntil === undefined ? {} : { waitUntil }),
    };
    const used = await authorize(auth, request, tokenOptions);
    const response = await send(request);
    // After a redirect the 401 may come from elsewhere; only the origin that got the token can
    // say it is bad. A Response made up by a custom fetch has no url: then it is the request's.
    if (response.status !== 401 || originOf(response.url || request.url) !== origin) {
      return response;
    }

    if (spare === undefined) {
      await auth.invalidate(subject, { accessToken: used });
      return response;
    }
    try {
      // Core forgets the rejected token and never hands it back, even from a stale shared cache.
      const fresh = await auth.getReplacementToken(used, tokenOptions);
      spare.headers.set('authorization', authorizationHeader(fresh));
    } catch (error) {
      await discard(response);
      throw error;
    }
    await discard(response);
    return send(spare);
  };
}

/** `ctx.waitUntil` as core's `waitUntil` hook (called as a method: workerd's needs its `this`). */
function waitUntilOf(
  ctx: DrillsterFetchOptions['ctx'],
): ((promise: Promise<unknown>) => void) | undefined {
  if (ctx === undefined) return undefined;
  if (typeof ctx !== 'object' || ctx === null || typeof ctx.waitUntil !== 'function') {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      'ctx must be an ExecutionContext: an object with a waitUntil method',
    );
  }
  return (promise) => ctx.waitUntil(promise);
}

/** Sets the bearer token on `request` and returns the token. */
async function authorize(
  auth: DrillsterAuth,
  request: Request,
  options: GetAccessTokenOptions,
): Promise<string> {
  const token = await auth.getAccessToken(options);
  request.headers.set('authorization', authorizationHeader(token));
  return token.accessToken;
}

/** Frees the connection of an answer that is replaced by the retry's (or by an error). */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/** The `Request` that `fetch(input, init)` would send, or `undefined` when none can be made here. */
function toRequest(input: RequestInfo | URL, init: RequestInit): Request | undefined {
  try {
    return new Request(input, init);
  } catch {
    return undefined;
  }
}
