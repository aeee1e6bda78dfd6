/**
 * Issue 7 through the Nest module: subjects that must not become the service account (item 11),
 * and widget tokens with enough life left for a learner's session (item 21).
 */
import { type RunningMockDrillster, startMockDrillster } from '@drillster-auth/testing/node';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AxiosInstance } from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_WIDGET_TOKEN_MIN_VALIDITY,
  DRILLSTER_API,
  DrillsterAuthModule,
  type DrillsterAuthModuleOptions,
  DrillsterAuthService,
} from '../src/index.js';

/** One clock for the mock and the client, so time can pass without waiting. */
let offset = 0;
const clock = () => Date.now() + offset;

let server: RunningMockDrillster;
let options: DrillsterAuthModuleOptions;
let userId: string;
let app: TestingModule | undefined;

beforeAll(async () => {
  server = await startMockDrillster({ clock });
  const provision = await server.provision();
  userId = provision.managedUser.userId;
  options = {
    ...provision.authOptions,
    retry: false,
    clock,
    api: { baseURL: server.apiBaseUrl },
  };
});

afterAll(() => server.close());

beforeEach(() => {
  offset = 0;
  server.mock.resetStats();
});

afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(overrides: Partial<DrillsterAuthModuleOptions> = {}) {
  app = await Test.createTestingModule({
    imports: [DrillsterAuthModule.forRoot({ ...options, ...overrides })],
  }).compile();
  await app.init();
  return { service: app.get(DrillsterAuthService), api: app.get<AxiosInstance>(DRILLSTER_API) };
}

const stats = () => server.mock.stats;
const SECOND = 1000;

describe('subjects (item 11)', () => {
  it.each([
    ['null', null],
    ['empty', ''],
    ['a number', 42],
  ])('getAccessToken refuses a subject that is %s with ERR_INVALID_OPTIONS', async (_, subject) => {
    const { service } = await start();
    await expect(
      service.getAccessToken({ subject: subject as unknown as string }),
    ).rejects.toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' });
    await expect(
      service.getAuthorizationHeader({ subject: subject as unknown as string }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    expect(stats().tokenRequests).toBe(0);
  });

  it.each([null, 42, { id: 'user' }])(
    'getWidgetToken(%j) refuses with ERR_INVALID_OPTIONS',
    async (id) => {
      const { service } = await start();
      await expect(service.getWidgetToken(id as unknown as string)).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
      });
      expect(stats().tokenRequests).toBe(0);
    },
  );

  it('the API client refuses a null subject instead of acting as the service account', async () => {
    const { api } = await start();
    const error = await api
      .get('user', { drillster: { subject: null as unknown as string } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' });
    expect(stats()).toMatchObject({ tokenRequests: 0, apiRequests: 0 });
  });
});

describe('widget tokens (item 21)', () => {
  /** Lets time pass until the cached token of `userId` has `left` milliseconds to live. */
  function leave(expiresAt: number, left: number) {
    offset += expiresAt - left - clock();
  }

  it(`have at least ${DEFAULT_WIDGET_TOKEN_MIN_VALIDITY} s left by default: a nearly spent token is replaced`, async () => {
    const { service } = await start();
    const first = await service.getWidgetToken(userId);
    leave(first.expiresAt, 10 * 60 * SECOND);
    // The cache would still serve it (10 minutes left)…
    expect((await service.getAccessToken({ subject: userId })).accessToken).toBe(first.token);
    // …but not to a widget.
    const second = await service.getWidgetToken(userId);
    expect(second.token).not.toBe(first.token);
    expect(second.expiresAt - clock()).toBeGreaterThanOrEqual(
      DEFAULT_WIDGET_TOKEN_MIN_VALIDITY * SECOND,
    );
    expect(await server.mock.verifyAccessToken(second.token)).toMatchObject({ subject: userId });
    expect(stats().tokenRequestsBySubject).toEqual({ [userId]: 2 });
  });

  it('serve the cached token while it has enough left', async () => {
    // No background refresh (by default one starts from 40–50 % of the life, which 16 minutes
    // left is past), so every token request counted is the widget's.
    const { service } = await start({ refresh: { fromRatio: 1 } });
    const first = await service.getWidgetToken(userId);
    leave(first.expiresAt, (DEFAULT_WIDGET_TOKEN_MIN_VALIDITY + 60) * SECOND);
    expect((await service.getWidgetToken(userId)).token).toBe(first.token);
    expect(stats().tokenRequests).toBe(1);
  });

  it('concurrent widget calls for a nearly spent token share one new token', async () => {
    const { service } = await start();
    const first = await service.getWidgetToken(userId);
    leave(first.expiresAt, 60 * SECOND);
    const tokens = await Promise.all(
      Array.from({ length: 5 }, () => service.getWidgetToken(userId)),
    );
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(tokens[0]?.token).not.toBe(first.token);
    expect(stats().tokenRequests).toBe(2);
  });

  it('take widgetTokenMinValidity from the module, and minValidity per call', async () => {
    const { service } = await start({ widgetTokenMinValidity: 120 });
    const first = await service.getWidgetToken(userId);
    leave(first.expiresAt, 8 * 60 * SECOND);
    expect((await service.getWidgetToken(userId)).token).toBe(first.token);
    const longer = await service.getWidgetToken(userId, { minValidity: 600 });
    expect(longer.token).not.toBe(first.token);
    expect(stats().tokenRequests).toBe(2);
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, 86_401, '900'])(
    'refuse a minValidity of %j with ERR_INVALID_OPTIONS',
    async (minValidity) => {
      const { service } = await start();
      await expect(
        service.getWidgetToken(userId, { minValidity: minValidity as number }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
      await app?.close();
      app = undefined;
      await expect(start({ widgetTokenMinValidity: minValidity as number })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
      });
      expect(stats().tokenRequests).toBe(0);
    },
  );
});
