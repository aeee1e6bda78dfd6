import { expectNoLeaks } from '@drillster-auth/testing/node';
import type { INestApplication } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DrillsterAuthHealthIndicator } from '../src/health/index.js';
import { type Fixture, startFixture } from './fixture.js';
import { type HealthResponse, startHealthApp } from './health-app.js';

let fixture: Fixture;
let app: INestApplication | undefined;

beforeAll(async () => {
  fixture = await startFixture();
});

afterEach(async () => {
  fixture.server.mock.clearFaults();
  fixture.server.mock.resetStats();
  await app?.close();
  app = undefined;
});

afterAll(async () => {
  await fixture.server.close();
});

async function start(overrides = {}, timeout = 0): Promise<() => Promise<HealthResponse>> {
  const started = await startHealthApp({ ...fixture.options, ...overrides }, timeout);
  app = started.app;
  return started.health;
}

function expectNoSecrets(response: HealthResponse, extra: Record<string, string> = {}): void {
  expectNoLeaks(
    response.text,
    {
      clientSecret: fixture.options.clientSecret,
      privateKey: (fixture.options.key as { privateKey: string }).privateKey,
      ...extra,
    },
    'health response',
  );
}

describe('DrillsterAuthHealthIndicator in a Nest app with terminus', () => {
  it('is up when a token can be had, and then serves the cached one', async () => {
    const health = await start();
    const first = await health();
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      status: 'ok',
      info: { drillster: { status: 'up' } },
      error: {},
      details: { drillster: { status: 'up' } },
    });
    await health();
    expect(fixture.server.mock.stats.tokenRequests).toBe(1);
    expectNoSecrets(first);
  });

  it('stays up while a token is cached, though the token endpoint is down', async () => {
    const health = await start();
    expect((await health()).status).toBe(200);
    fixture.server.mock.injectFault({ status: 503, count: Infinity });
    expect((await health()).body.details).toEqual({ drillster: { status: 'up' } });
  });

  it('is down with the code while the token endpoint is down, and nothing secret', async () => {
    fixture.server.mock.injectFault({ status: 503, count: Infinity });
    const health = await start();
    const response = await health();
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      status: 'error',
      info: {},
      error: { drillster: { status: 'down', code: 'ERR_TOKEN_ENDPOINT' } },
      details: { drillster: { status: 'down', code: 'ERR_TOKEN_ENDPOINT' } },
    });
    expectNoSecrets(response);
    // Returned, not thrown: terminus 12 fails the whole check on a throw.
    await expect(app?.get(DrillsterAuthHealthIndicator).isHealthy('auth')).resolves.toEqual({
      auth: { status: 'down', code: 'ERR_TOKEN_ENDPOINT' },
    });
  });

  it('is down with the code for invalid credentials, naming neither secret', async () => {
    const wrongSecret = 'not-the-client-secret-0123456789abcdef';
    const health = await start({ clientSecret: wrongSecret });
    const response = await health();
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual({
      drillster: { status: 'down', code: 'ERR_TOKEN_ENDPOINT' },
    });
    expectNoSecrets(response, { wrongSecret, serviceAccountId: fixture.account.serviceAccountId });
  });

  it('is down with ERR_TIMEOUT when no token comes within its timeout', async () => {
    fixture.server.mock.injectFault({ status: 503, delayMs: 2_000 });
    const health = await start({}, 50);
    const response = await health();
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual({ drillster: { status: 'down', code: 'ERR_TIMEOUT' } });
  });

  it('refuses a timeout out of range with ERR_INVALID_OPTIONS', async () => {
    const indicator = new DrillsterAuthHealthIndicator({} as never);
    await expect(indicator.isHealthy('drillster', { timeout: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    });
    await expect(indicator.isHealthy('drillster', { timeout: 1.5 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    });
  });
});
