// Pins the rules of src/discovery.ts that the behaviour tests pass through without deciding: how
// a metadata document is judged and each refusal worded, what is asked for and where (an issuer
// with a path), which statuses are retried. Found by mutation testing (`pnpm mutation`).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockDrillster } from '@drillster-auth/testing/node';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverTokenEndpoint, readMetadata } from '../src/discovery.js';
import { ConfigurationError, DiscoveryError } from '../src/errors.js';
import { createHttpClient, type HttpClient } from '../src/http.js';

const http = createHttpClient({ timeout: 5000 });
const closers: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const URL_ = 'https://auth.example/.well-known/oauth-authorization-server';
const ISSUER = 'https://auth.example';

function refusal(text: string, issuer = ISSUER): DiscoveryError | ConfigurationError {
  try {
    readMetadata(text, URL_, issuer);
  } catch (error) {
    expect(error instanceof DiscoveryError || error instanceof ConfigurationError).toBe(true);
    return error as DiscoveryError;
  }
  throw new Error('expected a refusal');
}

const doc = (fields: Record<string, unknown>) =>
  JSON.stringify({ issuer: ISSUER, token_endpoint: `${ISSUER}/oauth/token`, ...fields });

describe('readMetadata', () => {
  it('gives the token endpoint as a normalised URL', () => {
    expect(readMetadata(doc({ token_endpoint: 'https://AUTH.example:443/t' }), URL_, ISSUER)).toBe(
      'https://auth.example/t',
    );
  });

  it('forgives one trailing slash on either side, and nothing more', () => {
    expect(readMetadata(doc({ issuer: `${ISSUER}/` }), URL_, ISSUER)).toBe(`${ISSUER}/oauth/token`);
    expect(readMetadata(doc({}), URL_, `${ISSUER}/`)).toBe(`${ISSUER}/oauth/token`);
    expect(refusal(doc({ issuer: `${ISSUER}//` })).code).toBe('ERR_ISSUER_MISMATCH');
    expect(refusal(doc({ issuer: `${ISSUER}/x` })).code).toBe('ERR_ISSUER_MISMATCH');
  });

  it('words each refusal', () => {
    expect(refusal('{"issuer":').message).toBe(`${URL_} did not return JSON`);
    for (const text of ['null', '[]', '"x"', '7']) {
      const error = refusal(text);
      expect(error.code).toBe('ERR_DISCOVERY');
      expect(error.message).toBe(`${URL_} did not return a JSON object`);
    }
    expect(refusal(doc({ issuer: undefined })).message).toBe(
      `${URL_} describes issuer none, not ${ISSUER}`,
    );
    expect(refusal(doc({ issuer: 42 })).code).toBe('ERR_ISSUER_MISMATCH');
    expect(refusal(doc({ issuer: 'https://evil.example' })).message).toBe(
      `${URL_} describes issuer "https://evil.example", not ${ISSUER}`,
    );
    const missing = refusal(doc({ token_endpoint: 42 }));
    expect([missing.code, missing.message]).toEqual([
      'ERR_DISCOVERY',
      `${URL_} has no token_endpoint`,
    ]);
    const invalid = refusal(doc({ token_endpoint: 'not a url' }));
    expect([invalid.code, invalid.message]).toEqual([
      'ERR_DISCOVERY',
      `${URL_} has an invalid token_endpoint`,
    ]);
    const insecure = refusal(doc({ token_endpoint: 'http://auth.example/t' }));
    expect(insecure).toBeInstanceOf(ConfigurationError);
    expect(insecure.code).toBe('ERR_INSECURE_ENDPOINT');
    expect(insecure.message).toBe(
      'token_endpoint must use https (plain http is allowed on loopback only): http://auth.example',
    );
  });

  it('quotes an advertised issuer as printable ASCII, at most 100 characters', () => {
    expect(refusal(doc({ issuer: 'a\u0007b\u00e9c' })).message).toContain('"a?b?c"');
    const hundred = `https://${'x'.repeat(92)}`;
    expect(refusal(doc({ issuer: hundred })).message).toContain(`"${hundred}"`);
    expect(refusal(doc({ issuer: `${hundred}y` })).message).toContain(`"${hundred}..."`);
  });
});

/**
 * A metadata server answering `routes` (path → JSON body), 404 elsewhere; records the paths
 * asked, and each request's method and Accept header.
 */
async function metadataServer(
  routes: (origin: string) => Record<string, unknown>,
): Promise<{ origin: string; asked: string[]; requests: string[] }> {
  const asked: string[] = [];
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    asked.push(request.url ?? '');
    requests.push(`${request.method} accept=${request.headers.accept}`);
    const body = routes(origin)[request.url ?? ''];
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    response.end(body === undefined ? '{"error":"not_found"}' : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { origin, asked, requests };
}

describe('discoverTokenEndpoint', () => {
  it('looks up an issuer with a path and a trailing slash under both well-known names, in order', async () => {
    const { origin, asked } = await metadataServer((o) => ({
      '/tenant/.well-known/openid-configuration': {
        issuer: `${o}/tenant`,
        token_endpoint: `${o}/tenant/token`,
      },
    }));
    expect(await discoverTokenEndpoint(http, `${origin}/tenant/`)).toBe(`${origin}/tenant/token`);
    expect(asked).toEqual([
      '/.well-known/oauth-authorization-server/tenant',
      '/tenant/.well-known/openid-configuration',
    ]);
  });

  it('asks for JSON with a GET', async () => {
    const { origin, requests } = await metadataServer((o) => ({
      '/.well-known/openid-configuration': { issuer: o, token_endpoint: `${o}/token` },
    }));
    expect(await discoverTokenEndpoint(http, origin)).toBe(`${origin}/token`);
    expect(requests).toEqual(['GET accept=application/json', 'GET accept=application/json']);
  });

  it('refuses an issuer that is not a secure URL, naming the issuer, before any request', async () => {
    const urls: string[] = [];
    const recorder: HttpClient = {
      request: (url) => {
        urls.push(url);
        return Promise.reject(new Error('no request was expected'));
      },
    };
    const insecure = await discoverTokenEndpoint(recorder, 'http://auth.example/tenant').catch(
      (e: unknown) => e,
    );
    expect(insecure).toBeInstanceOf(ConfigurationError);
    expect(insecure).toMatchObject({
      code: 'ERR_INSECURE_ENDPOINT',
      message:
        'issuer must use https (plain http is allowed on loopback only): http://auth.example',
    });
    await expect(discoverTokenEndpoint(recorder, 'not a url')).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: 'issuer must be an absolute URL',
    });
    expect(urls).toEqual([]);
  });

  it('says where it looked when neither document exists', async () => {
    const { origin } = await metadataServer(() => ({}));
    const error = await discoverTokenEndpoint(http, origin).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as DiscoveryError).code).toBe('ERR_DISCOVERY');
    expect((error as DiscoveryError).status).toBeUndefined();
    expect((error as DiscoveryError).message).toBe(
      `No authorization server metadata for ${origin} (HTTP 404 at ${origin}/.well-known/oauth-authorization-server and ${origin}/.well-known/openid-configuration)`,
    );
  });

  it('retries a 408 and a 500, and words an HTTP error with its URL and status', async () => {
    const server = await startMockDrillster();
    closers.push(() => server.close());
    const retry = { attempts: 3, baseDelay: 1, maxDelay: 1000 };
    server.mock.injectFault({ endpoint: 'metadata', status: 408 });
    server.mock.injectFault({ endpoint: 'metadata', status: 500 });
    expect(await discoverTokenEndpoint(http, server.issuer, { retry })).toBe(server.tokenEndpoint);
    expect(server.mock.stats.metadataRequests).toBe(3);

    server.mock.injectFault({ endpoint: 'metadata', status: 403 });
    const error = await discoverTokenEndpoint(http, server.issuer, { retry }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_DISCOVERY', status: 403, retryAfter: undefined });
    expect((error as DiscoveryError).message).toBe(
      `${server.issuer}/.well-known/oauth-authorization-server answered HTTP 403`,
    );
    expect(server.mock.stats.metadataRequests).toBe(4);
  });

  it('reads a Retry-After date against the clock it was given', async () => {
    const server = await startMockDrillster();
    closers.push(() => server.close());
    const T = Date.UTC(2030, 0, 1, 12);
    server.mock.injectFault({
      endpoint: 'metadata',
      status: 503,
      retryAfter: new Date(T + 20_000).toUTCString(),
    });
    const error = await discoverTokenEndpoint(http, server.issuer, { clock: () => T }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_DISCOVERY', status: 503, retryAfter: 20 });
  });
});
