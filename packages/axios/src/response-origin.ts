import { originOf } from '@drillster-auth/core';
import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/**
 * Final URLs of the `Request`s axios' fetch adapter sent. That adapter puts the `Request` it
 * built on the answer but not the `Response`'s `url`, so after a redirect the answer alone does
 * not say who gave it; {@link trackFinalUrl} records it on the way back.
 */
const finalUrls = new WeakMap<object, string>();

/** One wrapper per underlying fetch: axios caches an adapter per `env.fetch` function, forever. */
const wrappers = new WeakMap<typeof fetch, typeof fetch>();
const ours = new WeakSet<typeof fetch>();
let globalWrapper: typeof fetch | undefined;

/**
 * Makes axios' fetch adapter (the only one that reads `config.env.fetch`) send `config` through a
 * fetch that records where its answer came from. The caller's own `env.fetch` is kept inside.
 * Without any fetch in the environment nothing changes, so the fetch adapter stays unavailable.
 */
export function trackFinalUrl(config: InternalAxiosRequestConfig): void {
  const env = config.env;
  const own = env && Object.hasOwn(env, 'fetch') ? (env.fetch as typeof fetch | null) : undefined;
  if (own && ours.has(own)) return;
  let wrapper: typeof fetch | undefined;
  if (typeof own === 'function') {
    wrapper = wrappers.get(own) ?? wrap(own);
    wrappers.set(own, wrapper);
  } else if (typeof globalThis.fetch === 'function') {
    // Looked up at each call, as axios does when `env.fetch` is not set.
    globalWrapper ??= wrap((input, init) => globalThis.fetch(input, init));
    wrapper = globalWrapper;
  }
  if (wrapper === undefined) return;
  // A copy, since the config's `env` may be shared; `Object.assign` rather than a spread, which
  // V8 runs on its slow path for axios' `env` (about 1.5 µs a request, against 60 ns).
  const copy: Record<string, unknown> = Object.assign(Object.create(null), env);
  copy.fetch = wrapper;
  config.env = copy;
}

function wrap(send: typeof fetch): typeof fetch {
  const wrapper: typeof fetch = async (input, init) => {
    const response = await send(input, init);
    if (typeof input === 'object' && input !== null && response.url) {
      finalUrls.set(input, response.url);
    }
    return response;
  };
  ours.add(wrapper);
  return wrapper;
}

/**
 * The origin that gave `response`, or `undefined` when that cannot be told. Each adapter keeps
 * it somewhere else:
 * - fetch: the `Request` it sent, whose final URL {@link trackFinalUrl} recorded;
 * - http: the last `ClientRequest`; follow-redirects (used unless `maxRedirects` is 0) puts the
 *   final URL on its response as `responseUrl`, and with `maxRedirects: 0` nothing was followed;
 * - xhr: `XMLHttpRequest.responseURL`.
 *
 * @param sentTo - The origin the request was sent to, the answer's origin when no redirect
 *   could have been followed.
 */
export function answerOrigin(response: AxiosResponse, sentTo: string): string | undefined {
  const request: unknown = response.request;
  if (typeof request === 'object' && request !== null) {
    const recorded = finalUrls.get(request);
    if (recorded !== undefined) return originOf(recorded);
    const { res, responseURL } = request as {
      res?: { responseUrl?: unknown };
      responseURL?: unknown;
    };
    if (typeof res?.responseUrl === 'string') return originOf(res.responseUrl);
    if (typeof responseURL === 'string' && responseURL !== '') return originOf(responseURL);
  }
  return response.config.maxRedirects === 0 ? sentTo : undefined;
}
