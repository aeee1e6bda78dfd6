/**
 * What an outside review broke (issue 7): a 401 from a foreign origin after a redirect, tokens in
 * logged answers, and subjects that quietly became the service account.
 */
import { inspect } from 'node:util';
import type { DrillsterAuth } from '@drillster-auth/core';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachDrillsterAuth } from '../src/index.js';
import {
  type Fixture,
  type Gateway,
  REDIRECT_PARAM,
  type Recorder,
  startFixture,
  startGateway,
  startRefuser,
} from './servers.js';

const ADAPTERS = ['http', 'fetch'] as const;

let fixture: Fixture;
let gateway: Gateway;
let foreign: Recorder;
let auth: DrillsterAuth;
let api: AxiosInstance;
let detach: () => void;

beforeAll(async () => {
  fixture = await startFixture();
  gateway = await startGateway(fixture.server);
  foreign = await startRefuser();
});

afterAll(async () => {
  await Promise.all([fixture.server.close(), gateway.close(), foreign.close()]);
});

beforeEach(() => {
  auth = fixture.auth({ retry: false });
  api = axios.create({ baseURL: gateway.apiBaseUrl });
  detach = attachDrillsterAuth(api, auth);
  fixture.server.mock.resetStats();
  gateway.requests.length = 0;
  gateway.revoked.clear();
  foreign.requests.length = 0;
});

afterEach(() => {
  detach();
  auth.close();
});

const stats = () => fixture.server.mock.stats;
const bearer = (header: string | undefined) => header?.replace(/^Bearer /, '');

describe.each(ADAPTERS)('with the %s adapter', (adapter) => {
  describe('a 401 after a redirect (item 9)', () => {
    it('is returned as it is when it comes from a foreign origin: no invalidation, no retry', async () => {
      const { accessToken } = await auth.getAccessToken();
      fixture.server.mock.resetStats();
      const error = await api
        .get('user', { adapter, params: { [REDIRECT_PARAM]: `${foreign.url}/collect` } })
        .catch((e: unknown) => e);
      expect(isAxiosError(error) && error.response?.status).toBe(401);
      expect(gateway.requests).toHaveLength(1);
      expect(bearer(gateway.requests[0]?.authorization)).toBe(accessToken);
      // The redirect did not carry our token, and the foreign 401 did not cost it.
      expect(foreign.requests).toEqual([{ path: '/collect', authorization: undefined }]);
      expect(stats().tokenRequests).toBe(0);
      expect((await auth.getAccessToken()).accessToken).toBe(accessToken);
    });

    it.each([
      ['redirects followed', {}],
      ['maxRedirects: 0', { maxRedirects: 0 }],
    ])('still retries a 401 from the origin that got the token (%s)', async (_, extra) => {
      const { accessToken: old } = await auth.getAccessToken();
      gateway.revoked.add(old);
      fixture.server.mock.resetStats();
      const response = await api.get('user', { adapter, ...extra });
      expect(response.data).toMatchObject({ id: fixture.account.serviceAccountId });
      expect(gateway.requests.map((r) => bearer(r.authorization))).toEqual([
        old,
        expect.not.stringMatching(old),
      ]);
      expect(stats().tokenRequests).toBe(1);
    });
  });

  describe('logged answers (item 18)', () => {
    it('show our header as Bearer [redacted] while the real one was sent', async () => {
      const response = await api.get('user', { adapter });
      const { accessToken } = await auth.getAccessToken();
      expect(bearer(gateway.requests[0]?.authorization)).toBe(accessToken);
      expect(response.data).toMatchObject({ id: fixture.account.serviceAccountId });
      expect(response.config.headers.Authorization).toBe('Bearer [redacted]');
      expect(JSON.stringify(response.config)).not.toContain(accessToken);
      expect(inspect(response)).not.toContain(accessToken);
      expectNoLeaks(response, { accessToken }, `${adapter} response`);
      expect(response.request).toBeTruthy();
    });

    it('keep the token out of errors too, for any status', async () => {
      const notFound = await api.get('nowhere', { adapter }).catch((e: unknown) => e);
      const { accessToken } = await auth.getAccessToken();
      expect(isAxiosError(notFound) && notFound.response?.status).toBe(404);
      expectNoLeaks(notFound, { accessToken }, `${adapter} 404 error`);
      gateway.revoked.add(accessToken);
      const refused = await api
        .get('user', { adapter, drillster: { retry: false } })
        .catch((e: unknown) => e);
      expect(isAxiosError(refused) && refused.response?.status).toBe(401);
      expectNoLeaks(refused, { accessToken }, `${adapter} 401 error`);
    });

    it('can be sent again: a redacted config gets a real token, not Bearer [redacted]', async () => {
      const response = await api.get('user', { adapter });
      const notFound = await api.get('nowhere', { adapter }).catch((e: unknown) => e);
      const again = await api.request(response.config);
      const retried = await api
        .request(isAxiosError(notFound) ? notFound.config! : {})
        .catch((e: unknown) => e);
      const { accessToken } = await auth.getAccessToken();
      expect(again.data).toMatchObject({ id: fixture.account.serviceAccountId });
      expect(isAxiosError(retried) && retried.response?.status).toBe(404);
      expect(gateway.requests.map((r) => bearer(r.authorization))).toEqual(
        Array(4).fill(accessToken),
      );
    });

    it('of the 401 retry show neither the rejected nor the new token', async () => {
      const { accessToken: old } = await auth.getAccessToken();
      gateway.revoked.add(old);
      const response = await api.get('user', { adapter });
      const { accessToken: fresh } = await auth.getAccessToken();
      expect(fresh).not.toBe(old);
      expectNoLeaks(response, { old, fresh }, `${adapter} retried response`);
    });
  });
});

describe('subjects (item 11)', () => {
  it.each([
    ['null', null],
    ['empty', ''],
    ['a number', 42],
    ['an object', { id: 'user' }],
  ])(
    'refuses a request subject that is %s with ERR_INVALID_OPTIONS, sending nothing',
    async (_, subject) => {
      const error = await api
        .get('user', { drillster: { subject: subject as unknown as string } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' });
      expect(gateway.requests).toEqual([]);
      expect(stats().tokenRequests).toBe(0);
    },
  );

  it('does not replace a null request subject with the default subject', async () => {
    detach();
    detach = attachDrillsterAuth(api, auth, { subject: fixture.managedUser.userId });
    const error = await api
      .get('user', { drillster: { subject: null as unknown as string } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    expect(stats().tokenRequests).toBe(0);
  });

  it.each([null, '', '  ', 7])('refuses a subject option of %j when attaching', (subject) => {
    expect(() => attachDrillsterAuth(api, auth, { subject: subject as unknown as string })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
  });

  it('treats an undefined subject as the service account', async () => {
    const response = await api.get('user', { drillster: { subject: undefined } });
    expect(response.data).toMatchObject({ id: fixture.account.serviceAccountId });
  });
});
