import { inspect } from 'node:util';
import { ConfigurationError, type DrillsterAuth, DrillsterAuthError } from '@drillster-auth/core';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachDrillsterAuth, createDrillsterInterceptors } from '../src/index.js';
import {
  type Fixture,
  type Gateway,
  type Recorder,
  startFixture,
  startGateway,
  startRecorder,
} from './servers.js';

let fixture: Fixture;
let gateway: Gateway;
let elsewhere: Recorder;
let auth: DrillsterAuth;
let api: AxiosInstance;
let detach: () => void;

beforeAll(async () => {
  fixture = await startFixture();
  gateway = await startGateway(fixture.server);
  elsewhere = await startRecorder();
});

afterAll(async () => {
  await Promise.all([fixture.server.close(), gateway.close(), elsewhere.close()]);
});

beforeEach(() => {
  auth = fixture.auth({ retry: false });
  api = axios.create({ baseURL: gateway.apiBaseUrl });
  detach = attachDrillsterAuth(api, auth);
  fixture.server.mock.resetStats();
  fixture.server.mock.clearFaults();
  gateway.requests.length = 0;
  gateway.revoked.clear();
  gateway.rejectAll = false;
  gateway.hold = Promise.resolve();
  elsewhere.requests.length = 0;
});

afterEach(() => {
  detach();
  auth.close();
});

const stats = () => fixture.server.mock.stats;
const bearer = (header: string | undefined) => header?.replace(/^Bearer /, '');

/** Gets a token into `auth`'s cache and tells the gateway to refuse it from now on. */
async function cacheThenRevokeToken(): Promise<string> {
  const { accessToken } = await auth.getAccessToken();
  gateway.revoked.add(accessToken);
  fixture.server.mock.resetStats();
  return accessToken;
}

describe('attachDrillsterAuth', () => {
  it('adds a bearer token the protected resource accepts', async () => {
    const response = await api.get('user');
    expect(response.data).toMatchObject({
      id: fixture.account.serviceAccountId,
      serviceAccount: true,
    });
    const token = bearer(gateway.requests[0]?.authorization);
    expect(gateway.requests[0]?.authorization).toMatch(/^Bearer \S+$/);
    expect(await fixture.server.mock.verifyAccessToken(token!)).toMatchObject({
      subject: fixture.account.serviceAccountId,
    });
    expect(stats().tokenRequests).toBe(1);
  });

  it('reuses the cached token for later requests', async () => {
    await api.get('user');
    await api.get('groups');
    expect(stats().tokenRequests).toBe(1);
    expect(gateway.requests[1]?.authorization).toBe(gateway.requests[0]?.authorization);
  });

  it('shares one token request among concurrent first requests', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => api.get('user')));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(stats().tokenRequests).toBe(1);
    expect(new Set(gateway.requests.map((r) => r.authorization)).size).toBe(1);
  });

  it.each(['Authorization', 'authorization', 'AUTHORIZATION'])(
    'keeps a caller-supplied %s header, fetches no token and does not retry its 401',
    async (name) => {
      const error = await api
        .get('user', { headers: { [name]: 'Bearer caller-token' } })
        .catch((e: unknown) => e);
      expect(isAxiosError(error) && error.response?.status).toBe(401);
      expect(gateway.requests).toEqual([
        { path: '/api/2.1.1/user', authorization: 'Bearer caller-token' },
      ]);
      expect(stats().tokenRequests).toBe(0);
    },
  );

  it('keeps an Authorization header set in the instance defaults', async () => {
    api.defaults.headers.common.Authorization = 'Bearer default-token';
    await api.get('user').catch(() => undefined);
    expect(gateway.requests[0]?.authorization).toBe('Bearer default-token');
    expect(stats().tokenRequests).toBe(0);
  });

  it('gets a token for the subject named in the request config', async () => {
    const { userId, email } = fixture.managedUser;
    const asUser = await api.get('user', { drillster: { subject: userId } });
    const asEmail = await api.get('user', { drillster: { subject: email } });
    const asAccount = await api.get('user');
    expect(asUser.data).toMatchObject({ id: userId, serviceAccount: false });
    expect(asEmail.data).toMatchObject({ id: userId, email });
    expect(asAccount.data).toMatchObject({ id: fixture.account.serviceAccountId });
    expect(stats().tokenRequestsBySubject).toEqual({
      [userId]: 1,
      [email]: 1,
      [fixture.account.serviceAccountId]: 1,
    });
  });

  it('uses the subject option as the default subject', async () => {
    detach();
    detach = attachDrillsterAuth(api, auth, { subject: fixture.managedUser.userId });
    const asUser = await api.get('user');
    const asAccount = await api.get('user', {
      drillster: { subject: fixture.account.serviceAccountId },
    });
    expect(asUser.data).toMatchObject({ id: fixture.managedUser.userId });
    expect(asAccount.data).toMatchObject({ id: fixture.account.serviceAccountId });
  });

  it('sends a request with drillster.skip without a token', async () => {
    const error = await api.get('user', { drillster: { skip: true } }).catch((e: unknown) => e);
    expect(isAxiosError(error) && error.response?.status).toBe(401);
    expect(gateway.requests[0]?.authorization).toBeUndefined();
    expect(stats().tokenRequests).toBe(0);
  });

  it('rejects an aborted request with ERR_ABORTED and starts no token request', async () => {
    const controller = new AbortController();
    const pending = api.get('user', { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(gateway.requests).toEqual([]);
    expect(stats().tokenRequests).toBe(0);
  });

  it('stops waiting for the token when the request is aborted meanwhile', async () => {
    fixture.server.mock.injectFault({ delayMs: 2000 });
    const controller = new AbortController();
    const pending = api.get('user', { signal: controller.signal });
    await expect.poll(() => stats().tokenRequests).toBe(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(gateway.requests).toEqual([]);
  });

  describe('origins', () => {
    it('sends no token, and fetches none, for an absolute URL on another origin', async () => {
      await api.get(`${elsewhere.url}/collect`);
      expect(elsewhere.requests).toEqual([{ path: '/collect', authorization: undefined }]);
      expect(stats().tokenRequests).toBe(0);
    });

    it('sends no token when a request overrides baseURL with another origin', async () => {
      await api.get('collect', { baseURL: `${elsewhere.url}/` });
      expect(elsewhere.requests).toEqual([{ path: '/collect', authorization: undefined }]);
      expect(stats().tokenRequests).toBe(0);
    });

    it('sends no token for a protocol-relative URL to another host', async () => {
      const other = elsewhere.url.replace('http:', '');
      const error = await api.get(`${other}/collect`).catch((e: unknown) => e);
      // axios on Node cannot resolve it without a page; what matters is no token was fetched.
      expect(error).toBeInstanceOf(Error);
      expect(elsewhere.requests).toEqual([]);
      expect(stats().tokenRequests).toBe(0);
    });

    it('follows allowAbsoluteUrls: false the way axios does', async () => {
      // axios appends the absolute URL to baseURL, so the request stays on the gateway.
      const error = await api
        .get(`${elsewhere.url}/user`, { allowAbsoluteUrls: false })
        .catch((e: unknown) => e);
      expect(isAxiosError(error) && error.response?.status).toBe(404);
      expect(elsewhere.requests).toEqual([]);
      expect(gateway.requests[0]?.authorization).toMatch(/^Bearer /);
    });

    it('sends tokens only to allowedOrigins when given', async () => {
      detach();
      detach = attachDrillsterAuth(api, auth, {
        allowedOrigins: [`${elsewhere.url}/ignored/path`],
      });
      await api.get(`${elsewhere.url}/collect`);
      const error = await api.get('user').catch((e: unknown) => e);
      expect(bearer(elsewhere.requests[0]?.authorization)).toMatch(/\S/);
      expect(isAxiosError(error) && error.response?.status).toBe(401);
      expect(gateway.requests[0]?.authorization).toBeUndefined();
    });

    it('sends no token to a local server from an instance without baseURL (Drillster only)', async () => {
      const bare = axios.create();
      const off = attachDrillsterAuth(bare, auth);
      try {
        await bare.get(`${elsewhere.url}/collect`);
        expect(elsewhere.requests).toEqual([{ path: '/collect', authorization: undefined }]);
        expect(stats().tokenRequests).toBe(0);
      } finally {
        off();
      }
    });

    it('checks the origin again when the baseURL changes between requests for one url', async () => {
      detach();
      detach = attachDrillsterAuth(api, auth, { allowedOrigins: [gateway.apiBaseUrl] });
      await api.get('user');
      api.defaults.baseURL = `${elsewhere.url}/`;
      await api.get('user');
      expect(bearer(gateway.requests[0]?.authorization)).toMatch(/\S/);
      expect(elsewhere.requests).toEqual([{ path: '/user', authorization: undefined }]);
    });

    it('drops our redacted header from a config sent again to another origin', async () => {
      const response = await api.get('user');
      await api.request({ ...response.config, url: `${elsewhere.url}/collect` });
      expect(elsewhere.requests).toEqual([{ path: '/collect', authorization: undefined }]);
    });

    it('rejects an allowedOrigins entry that is not a URL with ERR_INVALID_OPTIONS', () => {
      expect(() =>
        attachDrillsterAuth(api, auth, { allowedOrigins: ['www.drillster.com'] }),
      ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }));
    });

    // The same entries and messages as edge's node.test.ts: both read the list with core's
    // parseAllowedOrigins. Axios used to take any URL with an origin (ftp:, ws:, blob:https:).
    it.each([
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
            createDrillsterInterceptors(api, auth, {
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

    it('takes plain http origins for any host, as edge does', () => {
      expect(() =>
        createDrillsterInterceptors(api, auth, { allowedOrigins: ['http://api.example.com'] }),
      ).not.toThrow();
    });

    it('refuses allowedOrigins that is not an array with ConfigurationError', () => {
      const allowedOrigins = 'https://www.drillster.com' as unknown as string[];
      expect(() => attachDrillsterAuth(api, auth, { allowedOrigins })).toThrow(
        expect.objectContaining({
          name: 'ConfigurationError',
          code: 'ERR_INVALID_OPTIONS',
          message: 'allowedOrigins must be an array of URLs',
        }),
      );
    });
  });

  describe('401 answers', () => {
    it('forgets the rejected token and retries once with a new one', async () => {
      const old = await cacheThenRevokeToken();
      const response = await api.get('user');
      expect(response.data).toMatchObject({ id: fixture.account.serviceAccountId });
      expect(gateway.requests.map((r) => bearer(r.authorization))).toEqual([
        old,
        expect.not.stringMatching(old),
      ]);
      expect(stats().tokenRequests).toBe(1);
      expect((await auth.getAccessToken()).accessToken).toBe(
        bearer(gateway.requests[1]?.authorization),
      );
    });

    it('retries with a token for the same subject', async () => {
      const { userId } = fixture.managedUser;
      const old = await auth.getAccessToken({ subject: userId });
      gateway.revoked.add(old.accessToken);
      fixture.server.mock.resetStats();
      const response = await api.get('user', { drillster: { subject: userId } });
      expect(response.data).toMatchObject({ id: userId });
      expect(stats().tokenRequestsBySubject).toEqual({ [userId]: 1 });
    });

    it('answers 20 concurrent 401s with one token request, and all succeed', async () => {
      const old = await cacheThenRevokeToken();
      const responses = await Promise.all(Array.from({ length: 20 }, () => api.get('user')));
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(stats().tokenRequests).toBe(1);
      const retries = gateway.requests.filter((r) => bearer(r.authorization) !== old);
      expect(retries).toHaveLength(20);
      expect(new Set(retries.map((r) => r.authorization)).size).toBe(1);
    });

    it('does not forget the new token when a late 401 for the old one arrives', async () => {
      const old = await cacheThenRevokeToken();
      let release!: () => void;
      gateway.hold = new Promise((resolve) => {
        release = resolve;
      });
      const late = api.get('user', { params: { hold: 1 } });
      await expect.poll(() => gateway.requests.length).toBe(1);
      const early = await api.get('user');
      expect(stats().tokenRequests).toBe(1);
      release();
      expect((await late).status).toBe(200);
      expect(early.status).toBe(200);
      expect(stats().tokenRequests).toBe(1);
      expect(bearer(gateway.requests.at(-1)?.authorization)).not.toBe(old);
    });

    it('shares one token request among instances sharing one auth', async () => {
      await cacheThenRevokeToken();
      const second = axios.create({ baseURL: gateway.apiBaseUrl });
      const off = attachDrillsterAuth(second, auth);
      try {
        const responses = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? api : second).get('user')),
        );
        expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
        expect(stats().tokenRequests).toBe(1);
      } finally {
        off();
      }
    });

    it('rejects every pending request with the core error when the new token cannot be had', async () => {
      await cacheThenRevokeToken();
      fixture.server.mock.injectFault({ status: 401, count: 5 });
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('user')));
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(DrillsterAuthError);
        expect(reason).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', status: 401 });
      }
      expect(stats().tokenRequests).toBe(1);
    });

    it('rejects new requests with the core error while no token can be had', async () => {
      fixture.server.mock.injectFault({ status: 400, count: 5 });
      const results = await Promise.allSettled([api.get('user'), api.get('groups')]);
      expect(results.map((r) => r.status === 'rejected' && r.reason.code)).toEqual([
        'ERR_TOKEN_ENDPOINT',
        'ERR_TOKEN_ENDPOINT',
      ]);
      expect(gateway.requests).toEqual([]);
      expect(stats().tokenRequests).toBe(1);
    });

    it('returns a second 401 to the caller instead of looping', async () => {
      await auth.getAccessToken();
      fixture.server.mock.resetStats();
      gateway.rejectAll = true;
      const error = await api.get('user').catch((e: unknown) => e);
      expect(isAxiosError(error) && error.response?.status).toBe(401);
      expect(gateway.requests).toHaveLength(2);
      expect(stats().tokenRequests).toBe(1);
    });

    it('keeps the token out of what a logged error shows', async () => {
      const { accessToken } = await auth.getAccessToken();
      gateway.rejectAll = true;
      const unauthorized = await api.get('user').catch((e: unknown) => e);
      gateway.rejectAll = false;
      const notFound = await api.get('nowhere').catch((e: unknown) => e);
      const closed = axios.create({ baseURL: 'http://127.0.0.1:9/' });
      const detachClosed = attachDrillsterAuth(closed, auth);
      const unreachable = await closed.get('user').catch((e: unknown) => e);
      detachClosed();
      expect(isAxiosError(unauthorized) && unauthorized.response?.status).toBe(401);
      expect(isAxiosError(notFound) && notFound.response?.status).toBe(404);
      expect(isAxiosError(unreachable) && unreachable.code).toBe('ECONNREFUSED');
      const tokens = [accessToken, ...gateway.requests.map((r) => bearer(r.authorization))];
      for (const error of [unauthorized, notFound, unreachable]) {
        const shown = `${inspect(error, { depth: 8 })}\n${JSON.stringify(error)}`;
        for (const token of tokens) expect(shown).not.toContain(token);
        expect(shown).toContain('Bearer [redacted]');
        expect(isAxiosError(error) && error.request).toBeTruthy();
      }
    });

    it('does not retry a request with drillster.retry: false', async () => {
      await cacheThenRevokeToken();
      const error = await api.get('user', { drillster: { retry: false } }).catch((e: unknown) => e);
      expect(isAxiosError(error) && error.response?.status).toBe(401);
      expect(gateway.requests).toHaveLength(1);
      expect(stats().tokenRequests).toBe(0);
    });

    it('does not retry other error statuses', async () => {
      const error = await api.get('nowhere').catch((e: unknown) => e);
      expect(isAxiosError(error) && error.response?.status).toBe(404);
      expect(gateway.requests).toHaveLength(1);
    });
  });

  it('stops adding tokens and retrying once detached', async () => {
    await cacheThenRevokeToken();
    detach();
    const error = await api.get('user').catch((e: unknown) => e);
    expect(isAxiosError(error) && error.response?.status).toBe(401);
    expect(gateway.requests).toEqual([{ path: '/api/2.1.1/user', authorization: undefined }]);
    expect(stats().tokenRequests).toBe(0);
  });
});

describe('createDrillsterInterceptors', () => {
  it('works when registered by hand', async () => {
    detach();
    const old = await cacheThenRevokeToken();
    const { onRequest, onResponseError } = createDrillsterInterceptors(api, auth);
    const request = api.interceptors.request.use(onRequest);
    const response = api.interceptors.response.use(undefined, onResponseError);
    try {
      const answer = await api.get('user');
      expect(answer.data).toMatchObject({ id: fixture.account.serviceAccountId });
      expect(bearer(gateway.requests[0]?.authorization)).toBe(old);
      expect(gateway.requests).toHaveLength(2);
    } finally {
      api.interceptors.request.eject(request);
      api.interceptors.response.eject(response);
    }
  });

  it('passes errors that are not 401 answers on unchanged', async () => {
    const { onResponseError } = createDrillsterInterceptors(api, auth);
    const failure = new Error('boom');
    await expect(onResponseError(failure)).rejects.toBe(failure);
  });
});
