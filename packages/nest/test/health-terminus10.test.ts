/**
 * The indicator as terminus 10 sees it: a `@nestjs/terminus` without `HealthIndicatorService`
 * (public from 11 on). There a returned `down` counts as up, so the indicator must throw
 * terminus's `HealthCheckError`; terminus 11, which the app here runs, counts that as down too.
 * The consumer stage runs the same against a real terminus 10 in a Nest 10 project.
 */
import { HealthCheckError } from '@nestjs/terminus';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DrillsterAuthHealthIndicator } from '../src/health/index.js';
import { type Fixture, startFixture } from './fixture.js';
import { startHealthApp } from './health-app.js';

vi.mock('@nestjs/terminus', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@nestjs/terminus')>()),
  HealthIndicatorService: undefined,
}));

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.server.close();
});

it('throws HealthCheckError with the down result, which the app reports as down', async () => {
  fixture.server.mock.injectFault({ status: 401, count: Infinity });
  const { app, health } = await startHealthApp(fixture.options);
  try {
    const indicator = app.get(DrillsterAuthHealthIndicator);
    const thrown = await indicator.isHealthy('drillster').catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(HealthCheckError);
    expect((thrown as HealthCheckError).causes).toEqual({
      drillster: { status: 'down', code: 'ERR_TOKEN_ENDPOINT' },
    });
    const response = await health();
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual({
      drillster: { status: 'down', code: 'ERR_TOKEN_ENDPOINT' },
    });
  } finally {
    await app.close();
  }
});

it('is up, and returns its result, when a token can be had', async () => {
  fixture.server.mock.clearFaults();
  const { app, health } = await startHealthApp(fixture.options);
  try {
    expect((await health()).body.info).toEqual({ drillster: { status: 'up' } });
  } finally {
    await app.close();
  }
});
