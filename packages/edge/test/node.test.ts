/**
 * The same package in Node, for what needs no other runtime: option validation, pass-through
 * rules, errors, memoization. The runtime behaviour is in edge.test.ts.
 */
import { ConfigurationError, createDrillsterAuth, TokenEndpointError } from '@drillster-auth/core';
import {
  createDrillsterFetch,
  createKvTokenCache,
  getDrillsterAuth,
  type KvNamespaceLike,
} from '@drillster-auth/edge';
import {
  type MockClient,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type EchoServer, startEchoServer } from './echo-server.js';

let server: RunningMockDrillster;
let echo: EchoServer;
let account: MockServiceAccount;
let client: MockClient;

beforeAll(async () => {
  [server, echo] = await Promise.all([startMockDrillster(), startEchoServer()]);
  ({ account, client } = await server.provision());
});
afterAll(() => Promise.all([server?.close(), echo?.close()]));
beforeEach(() => server.mock.resetStats());

const authOptions = () => ({
  key: account.keyFileJson,
  clientId: client.clientId,
  clientSecret: client.clientSecret,
  issuer: server.issuer,
});

/** A fetch that records what it was asked to send. */
function recordingFetch() {
  const calls: { url: string; authorization: string | null }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    calls.push({ url: request.url, authorization: request.headers.get('authorization') });
    return fetch(request);
  };
  return { calls, fetch: recording };
}

describe('createDrillsterFetch options', () => {
  test.each([
    [{ allowedOrigins: ['not a url'] }],
    [{ allowedOrigins: ['ftp://files.example.com'] }],
    [{ allowedOrigins: 'https://www.drillster.com' as unknown as string[] }],
  ])('rejects invalid allowedOrigins %j with ERR_INVALID_OPTIONS', (options) => {
    expect(() => createDrillsterFetch({ auth: authOptions(), ...options })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
  });

  // The same entries and messages as axios' attach.test.ts: both read the list with core's
  // parseAllowedOrigins.
  test.each([
    ['ftp://files.example.com', 'allowedOrigins[1] must be an http(s) URL; got ftp:'],
    ['ws://www.drillster.com', 'allowedOrigins[1] must be an http(s) URL; got ws:'],
    [
      'blob:https://www.drillster.com/5c9a1f3e-0d7b-4d43-9a55-0f5f1d0c1a2b',
      'allowedOrigins[1] must be an http(s) URL; got blob:',
    ],
    ['ftp://user:s3cret@files.example.com', 'allowedOrigins[1] must be an http(s) URL; got ftp:'],
    ['https://user:s3cret@', 'allowedOrigins[1] must be an absolute http(s) URL'],
    ['www.drillster.com', 'allowedOrigins[1] must be an absolute http(s) URL'],
  ])(
    'refuses the allowedOrigins entry %j with ConfigurationError naming its index',
    (entry, message) => {
      const error = (() => {
        try {
          createDrillsterFetch({
            auth: authOptions(),
            allowedOrigins: ['https://www.drillster.com', entry],
          });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS', message });
    },
  );

  test('takes plain http origins for any host, as axios does', () => {
    expect(() =>
      createDrillsterFetch({ auth: authOptions(), allowedOrigins: ['http://api.example.com'] }),
    ).not.toThrow();
  });

  test('rejects a missing auth with ERR_INVALID_OPTIONS', () => {
    expect(() => createDrillsterFetch({ auth: undefined as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
  });

  test('creates its own client from core options and uses the given fetch', async () => {
    const recording = recordingFetch();
    const api = createDrillsterFetch({
      auth: authOptions(),
      allowedOrigins: [`${server.url}/ignored/path`],
      fetch: recording.fetch,
    });
    // Wherever a fetch goes, this one fits (checked by typecheck).
    const asFetch: typeof fetch = api;
    const response = await asFetch(new URL('user', server.apiBaseUrl));
    expect(response.status).toBe(200);
    expect(recording.calls).toEqual([
      { url: `${server.apiBaseUrl}user`, authorization: expect.stringMatching(/^Bearer /) },
    ]);
    expect(server.mock.stats.tokenRequests).toBe(1);
  });

  test.each([[null], [{}], [{ waitUntil: 'later' }], [() => {}]])(
    'rejects ctx %j, which has no waitUntil method, with ERR_INVALID_OPTIONS',
    (ctx) => {
      expect(() => createDrillsterFetch({ auth: authOptions(), ctx: ctx as never })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
      );
    },
  );

  test('hands the token request it starts to ctx.waitUntil, called on ctx', async () => {
    const handed: Promise<unknown>[] = [];
    // workerd's waitUntil throws "Illegal invocation" when called without its context.
    const ctx = {
      waitUntil(this: unknown, promise: Promise<unknown>) {
        if (this !== ctx) throw new TypeError('Illegal invocation');
        handed.push(promise);
      },
    };
    const api = createDrillsterFetch({
      auth: authOptions(),
      allowedOrigins: [server.apiBaseUrl],
      ctx,
    });
    const response = await api(`${server.apiBaseUrl}user`);
    expect(response.status).toBe(200);
    expect(handed).toHaveLength(1);
    await expect(handed[0]).resolves.toBeUndefined();
    expect(server.mock.stats.tokenRequests).toBe(1);
  });

  test('by default sends tokens to www.drillster.com only', async () => {
    const recording = recordingFetch();
    const api = createDrillsterFetch({ auth: authOptions(), fetch: recording.fetch });
    const response = await api(`${server.apiBaseUrl}user`);
    expect(response.status).toBe(401);
    expect(recording.calls).toEqual([{ url: `${server.apiBaseUrl}user`, authorization: null }]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  test('passes a relative URL to the underlying fetch as it is', async () => {
    const seen: unknown[] = [];
    const api = createDrillsterFetch({
      auth: authOptions(),
      allowedOrigins: [server.url],
      fetch: async (input) => {
        seen.push(input);
        return new Response('ok');
      },
    });
    expect(await (await api('/api/2.1.1/user')).text()).toBe('ok');
    expect(seen).toEqual(['/api/2.1.1/user']);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  test('rejects with the client error when no token can be had, sending nothing', async () => {
    const recording = recordingFetch();
    const api = createDrillsterFetch({
      auth: createDrillsterAuth({ ...authOptions(), clientSecret: 'wrong', retry: false }),
      allowedOrigins: [server.url],
      fetch: recording.fetch,
    });
    const error = await api(`${server.apiBaseUrl}user`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_client' });
    expect(recording.calls).toEqual([]);
  });
});

describe('the request checked is the request sent (issue 7 item 19)', () => {
  /** A fetch for the mock server's origin only, and a URL on the echo server, another origin. */
  function setUp() {
    const recording = recordingFetch();
    const api = createDrillsterFetch({
      auth: authOptions(),
      allowedOrigins: [server.url],
      fetch: recording.fetch,
    });
    return {
      api,
      calls: recording.calls,
      foreign: `${echo.url}/collect`,
      allowed: `${server.apiBaseUrl}user`,
    };
  }

  test('a URL whose toString names another origin gets no token', async () => {
    const { api, calls, foreign, allowed } = setUp();
    const url = new URL(allowed);
    Object.defineProperty(url, 'toString', { value: () => foreign });
    expect((await api(url)).status).toBe(200);
    expect(calls).toEqual([{ url: foreign, authorization: null }]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  test('a Request whose url getter names an allowed origin gets no token', async () => {
    const { api, calls, foreign, allowed } = setUp();
    class Disguised extends Request {
      override get url() {
        return allowed;
      }
    }
    expect((await api(new Disguised(foreign))).status).toBe(200);
    expect(calls).toEqual([{ url: foreign, authorization: null }]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  test('input that reads differently the second time is read once: the token goes where checked', async () => {
    const { api, calls, foreign, allowed } = setUp();
    let reads = 0;
    const shifty = { toString: () => (++reads === 1 ? allowed : foreign) };
    expect((await api(shifty as unknown as string)).status).toBe(200);
    expect(calls).toEqual([{ url: allowed, authorization: expect.stringMatching(/^Bearer /) }]);
    expect(reads).toBe(1);
  });

  test('a Request object for the allowed origin gets a token, and its body is sent once', async () => {
    const { api, calls, foreign } = setUp();
    const passed = await api(new Request(foreign, { method: 'POST', body: 'kept' }));
    expect(await passed.json()).toMatchObject({ method: 'POST', body: 'kept' });
    const { calls: apiCalls, fetch: apiFetch } = recordingFetch();
    const authorized = createDrillsterFetch({
      auth: authOptions(),
      allowedOrigins: [server.url],
      fetch: apiFetch,
    });
    const response = await authorized(new Request(new URL('user', server.apiBaseUrl)));
    expect(response.status).toBe(200);
    expect(apiCalls).toEqual([
      { url: `${server.apiBaseUrl}user`, authorization: expect.stringMatching(/^Bearer \S+$/) },
    ]);
    expect(calls).toEqual([{ url: foreign, authorization: null }]);
  });
});

describe('a 401 after a redirect (issue 7 items 9 and 19)', () => {
  test('counts only from the origin that got the token, even if the other is allowed too', async () => {
    const recording = recordingFetch();
    const auth = createDrillsterAuth(authOptions());
    const api = createDrillsterFetch({
      auth,
      allowedOrigins: [echo.url, server.url],
      fetch: recording.fetch,
    });
    const { accessToken } = await auth.getAccessToken();
    server.mock.resetStats();
    const target = encodeURIComponent(`${server.apiBaseUrl}user`);
    // fetch drops Authorization on the way to the other origin, which answers 401.
    const response = await api(`${echo.url}/redirect?run=edge-node-redirect&to=${target}`);
    expect(response.status).toBe(401);
    expect(echo.requests('edge-node-redirect')).toEqual([
      expect.objectContaining({ path: '/redirect', authorization: `Bearer ${accessToken}` }),
    ]);
    expect(recording.calls).toHaveLength(1);
    expect(server.mock.stats.tokenRequests).toBe(0);
    expect((await auth.getAccessToken()).accessToken).toBe(accessToken);
    auth.close();
  });
});

describe('subjects (issue 7 item 11)', () => {
  test.each([
    ['null', null],
    ['empty', ''],
    ['a number', 42],
  ])(
    'refuses a request subject that is %s with ERR_INVALID_OPTIONS, sending nothing',
    async (_, subject) => {
      const recording = recordingFetch();
      const api = createDrillsterFetch({
        auth: authOptions(),
        allowedOrigins: [server.url],
        subject: 'ignored-default@example.com',
        fetch: recording.fetch,
      });
      const error = await api(`${server.apiBaseUrl}user`, {
        drillster: { subject: subject as unknown as string },
      }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' });
      expect(recording.calls).toEqual([]);
      expect(server.mock.stats.tokenRequests).toBe(0);
    },
  );

  test.each([null, '', '  ', 7])('refuses a subject option of %j', (subject) => {
    expect(() =>
      createDrillsterFetch({ auth: authOptions(), subject: subject as unknown as string }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }));
  });
});

describe('getDrillsterAuth', () => {
  test('returns one client per issuer, client and key', () => {
    const first = getDrillsterAuth(authOptions());
    expect(getDrillsterAuth({ ...authOptions(), key: account.keyFile })).toBe(first);
    const other = server.mock.registerClient();
    expect(getDrillsterAuth({ ...authOptions(), clientId: other.clientId })).not.toBe(first);
    expect(getDrillsterAuth({ ...authOptions(), tokenEndpoint: server.tokenEndpoint })).not.toBe(
      first,
    );
    expect(getDrillsterAuth({ ...authOptions(), clientSecret: 'rotated' })).not.toBe(first);
  });

  test('tells key lists apart by their key ids in order, and takes a list of one as the key', async () => {
    const next = await server.mock.addKey(account.serviceAccountId);
    const single = getDrillsterAuth(authOptions());
    expect(getDrillsterAuth({ ...authOptions(), key: [account.keyFileJson] })).toBe(single);
    const rotating = getDrillsterAuth({ ...authOptions(), key: [next.keyFile, account.keyFile] });
    expect(rotating).not.toBe(single);
    expect(
      getDrillsterAuth({ ...authOptions(), key: [next.keyFileJson, account.keyFileJson] }),
    ).toBe(rotating);
    expect(getDrillsterAuth({ ...authOptions(), key: [account.keyFile, next.keyFile] })).not.toBe(
      rotating,
    );
    expect(rotating.toJSON().keyId).toBe(`${next.keyId}, ${account.keyId}`);
  });

  test('refuses a key list of two service accounts', async () => {
    const stranger = await server.mock.createServiceAccount();
    expect(() =>
      getDrillsterAuth({ ...authOptions(), key: [account.keyFile, stranger.keyFile] }),
    ).toThrow(expect.objectContaining({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' }));
  });

  test('throws KeyFileError codes for an unusable key', () => {
    expect(() => getDrillsterAuth({ ...authOptions(), key: '{"privateKey":' })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_FILE_INVALID_JSON' }),
    );
  });
});

describe('createKvTokenCache', () => {
  /** An in-memory KV that, like Workers KV, refuses an expirationTtl under 60 seconds. */
  function strictKv() {
    const puts: { key: string; expirationTtl: number | undefined }[] = [];
    const namespace: KvNamespaceLike = {
      async get() {
        return null;
      },
      async put(key, _value, options) {
        if (options?.expirationTtl !== undefined && options.expirationTtl < 60) {
          throw new Error(`KV PUT failed: 400 Invalid expiration_ttl of ${options.expirationTtl}`);
        }
        puts.push({ key, expirationTtl: options?.expirationTtl });
      },
      async delete() {},
    };
    return { namespace, puts };
  }

  const token = (lifetimeSeconds: number) => ({
    accessToken: 'token-value',
    expiresAt: 1_000_000 + lifetimeSeconds * 1000,
    issuedAt: 1_000_000,
    subject: 'subject',
  });

  test('raises minTtlSeconds to the KV minimum and sets expirationTtl from expiresAt', async () => {
    const { namespace, puts } = strictKv();
    const cache = createKvTokenCache(namespace, {
      minTtlSeconds: 10,
      expiryMarginSeconds: 0,
      clock: () => 1_000_000,
    });
    await cache.set('short', token(59));
    await cache.set('enough', token(60));
    await cache.set('long', token(3600));
    expect(puts.map((put) => put.expirationTtl)).toEqual([60, 3600]);
    for (const put of puts) expect(put.key).toMatch(/^drillster-auth:[0-9a-f]{64}$/);
  });

  test('keeps the expiry margin off the TTL', async () => {
    const { namespace, puts } = strictKv();
    const cache = createKvTokenCache(namespace, { clock: () => 1_000_000 });
    await cache.set('k', token(89));
    await cache.set('k', token(90));
    expect(puts.map((put) => put.expirationTtl)).toEqual([60]);
  });

  test.each([
    ['minTtlSeconds', Number.NaN],
    ['minTtlSeconds', Number.POSITIVE_INFINITY],
    ['minTtlSeconds', -1],
    ['minTtlSeconds', 90.5],
    ['minTtlSeconds', '60'],
    ['expiryMarginSeconds', Number.NaN],
    ['expiryMarginSeconds', Number.POSITIVE_INFINITY],
    ['expiryMarginSeconds', -30],
    ['expiryMarginSeconds', 1.5],
    ['expiryMarginSeconds', 2 ** 32],
  ])('rejects %s %j with ERR_INVALID_OPTIONS naming it (issue 7 item 13)', (name, value) => {
    const { namespace } = strictKv();
    let error: unknown;
    try {
      createKvTokenCache(namespace, { [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' });
    expect((error as Error).message).toContain(name);
  });

  test('rejects a prefix or clock of the wrong type', () => {
    const { namespace } = strictKv();
    for (const options of [{ prefix: 7 }, { clock: 'now' }]) {
      expect(() => createKvTokenCache(namespace, options as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
      );
    }
  });

  test('needs a KV binding', () => {
    expect(() => createKvTokenCache(undefined as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
  });
});
