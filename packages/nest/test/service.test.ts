import { Test, type TestingModule } from '@nestjs/testing';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DRILLSTER_API, DrillsterAuthModule, DrillsterAuthService } from '../src/index.js';
import { type Fixture, startFixture } from './fixture.js';

let fixture: Fixture;
let app: TestingModule;
let service: DrillsterAuthService;
let api: AxiosInstance;

beforeAll(async () => {
  fixture = await startFixture();
});

beforeEach(async () => {
  app = await Test.createTestingModule({
    imports: [DrillsterAuthModule.forRoot(fixture.options)],
  }).compile();
  await app.init();
  service = app.get(DrillsterAuthService);
  api = app.get(DRILLSTER_API);
  fixture.server.mock.resetStats();
});

afterEach(async () => {
  await app.close();
});

afterAll(async () => {
  await fixture.server.close();
});

const stats = () => fixture.server.mock.stats;

describe('DrillsterAuthService', () => {
  it('getAccessToken gets one token and then serves it from memory', async () => {
    const first = await service.getAccessToken();
    const second = await service.getAccessToken();
    expect(second.accessToken).toBe(first.accessToken);
    expect(first.subject).toBe(fixture.account.serviceAccountId);
    expect(stats().tokenRequests).toBe(1);
  });

  it('getAuthorizationHeader is accepted by the protected resource', async () => {
    const authorization = await service.getAuthorizationHeader({
      subject: fixture.managedUser.email,
    });
    const response = await axios.get(`${fixture.server.apiBaseUrl}user`, {
      headers: { authorization },
    });
    expect(response.data).toMatchObject({
      id: fixture.managedUser.userId,
      email: fixture.managedUser.email,
    });
  });

  it('invalidate makes the next call get a new token', async () => {
    const first = await service.getAccessToken();
    await service.invalidate();
    const second = await service.getAccessToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(stats().tokenRequests).toBe(2);
  });

  it('getWidgetToken returns a token for the managed user and its expiry', async () => {
    const before = Date.now();
    const widget = await service.getWidgetToken(fixture.managedUser.userId);
    expect(Object.keys(widget).sort()).toEqual(['expiresAt', 'token']);
    expect(await fixture.server.mock.verifyAccessToken(widget.token)).toMatchObject({
      subject: fixture.managedUser.userId,
    });
    expect(widget.expiresAt).toBeGreaterThan(before);
    expect(stats().tokenRequestsBySubject).toEqual({ [fixture.managedUser.userId]: 1 });
  });

  it.each(['', '  ', undefined])(
    'getWidgetToken(%j) refuses, never handing out the service account token',
    async (userId) => {
      await expect(service.getWidgetToken(userId as string)).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
      });
      expect(stats().tokenRequests).toBe(0);
    },
  );

  it("getWidgetToken refuses the service account's own id", async () => {
    await expect(service.getWidgetToken(fixture.account.serviceAccountId)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    });
    expect(stats().tokenRequests).toBe(0);
  });

  it('passes the core error code on when no token can be had', async () => {
    fixture.server.mock.injectFault({ status: 401 });
    await expect(service.getAccessToken()).rejects.toMatchObject({
      code: 'ERR_TOKEN_ENDPOINT',
      status: 401,
    });
  });
});

describe('the Drillster API client', () => {
  it('calls the API as the service account', async () => {
    const response = await api.get('user');
    expect(response.data).toMatchObject({
      id: fixture.account.serviceAccountId,
      serviceAccount: true,
    });
    expect(stats()).toMatchObject({ tokenRequests: 1, apiRequests: 1, apiRejections: 0 });
  });

  it('acts for a managed user per request', async () => {
    const response = await api.get('user', { drillster: { subject: fixture.managedUser.userId } });
    expect(response.data).toMatchObject({ id: fixture.managedUser.userId, serviceAccount: false });
    expect(stats().tokenRequestsBySubject).toEqual({ [fixture.managedUser.userId]: 1 });
  });

  it('shares the service’s token cache', async () => {
    await service.getAccessToken();
    await api.get('groups');
    expect(stats().tokenRequests).toBe(1);
  });
});

describe('on application shutdown', () => {
  it('closes the core client and detaches the API client', async () => {
    await api.get('user');
    const { client } = service;
    await app.close();
    fixture.server.mock.resetStats();

    // A closed client starts no more token requests.
    await expect(client.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    // Without its interceptors the API client sends no token any more.
    const error = await api.get('user').catch((e: unknown) => e);
    expect(isAxiosError(error) && error.response?.status).toBe(401);
    expect(error).toMatchObject({
      config: { headers: expect.not.objectContaining({ Authorization: expect.anything() }) },
    });
    expect(stats()).toMatchObject({ tokenRequests: 0, apiRejections: 1 });
  });
});
