import {
  findLeaks,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import type { Attributes } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createDrillsterAuth,
  type DrillsterAuthOptions,
  MemoryTokenCache,
  type TokenCache,
} from '../src/index.js';
import { createOpenTelemetryListener, OPENTELEMETRY_SCOPE } from '../src/opentelemetry.js';

let server: RunningMockDrillster;
let authOptions: Pick<DrillsterAuthOptions, 'key' | 'clientId' | 'clientSecret' | 'issuer'>;
let serviceAccountId: string;
let user: { userId: string; email: string };
/** Every secret of the run, and the subjects, which must not appear either. */
const secrets: Record<string, string> = {};
/** Assertions and tokens seen on the wire, added to the secrets as they pass. */
const wire: string[] = [];

let spans: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let metricExporter: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let meterProvider: MeterProvider;

beforeAll(async () => {
  server = await startMockDrillster();
  const provision = await server.provision();
  authOptions = provision.authOptions;
  serviceAccountId = provision.account.serviceAccountId;
  user = provision.managedUser;
  Object.assign(secrets, {
    clientSecret: provision.client.clientSecret,
    privateKey: provision.account.keyFile.privateKey,
    serviceAccountId,
    userId: user.userId,
    email: user.email,
  });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  spans = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Read on demand (forceFlush) only: the interval is longer than any test.
  reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  meterProvider = new MeterProvider({ readers: [reader] });
});

afterEach(async () => {
  server.mock.clearFaults();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});

/** A client on the mock whose events go to the test's SDK; every assertion and token is recorded. */
function client(overrides: Partial<DrillsterAuthOptions> = {}) {
  return createDrillsterAuth({
    ...authOptions,
    retry: { baseDelay: 5, maxDelay: 50 },
    fetch: async (input, init) => {
      const assertion = new URLSearchParams(String(init?.body ?? '')).get('assertion');
      if (assertion) wire.push(assertion);
      return fetch(input, init);
    },
    onEvent: createOpenTelemetryListener({ tracerProvider, meterProvider, serviceAccountId }),
    ...overrides,
  });
}

function tokenSpans(): ReadableSpan[] {
  return spans.getFinishedSpans().filter((span) => span.name === 'drillster.auth.token');
}

interface Point {
  attributes: Attributes;
  value: number;
}

/** The data points of metric `name` as last collected: a sum's value, a histogram's count. */
async function points(name: string): Promise<Point[]> {
  await reader.forceFlush();
  const collected = metricExporter.getMetrics().at(-1);
  const metric = collected?.scopeMetrics
    .filter((scope) => scope.scope.name === OPENTELEMETRY_SCOPE)
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === name);
  if (metric === undefined) return [];
  return metric.dataPoints.map((point) => ({
    attributes: point.attributes,
    value:
      metric.dataPointType === DataPointType.HISTOGRAM
        ? (point.value as { count: number }).count
        : (point.value as number),
  }));
}

async function total(name: string, attributes: Attributes = {}): Promise<number> {
  return (await points(name))
    .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + p.value, 0);
}

/** Every span (attributes, events, status) and every metric data point as text, for the leak scan. */
async function everythingRecorded(): Promise<string> {
  await reader.forceFlush();
  return JSON.stringify({
    spans: spans.getFinishedSpans().map((span) => ({
      name: span.name,
      attributes: span.attributes,
      events: span.events,
      status: span.status,
      links: span.links,
    })),
    metrics: metricExporter.getMetrics(),
  });
}

describe('createOpenTelemetryListener', () => {
  it('records a span, a request, a duration and memory hits for a token from the endpoint', async () => {
    const auth = client();
    const token = await auth.getAccessToken();
    await auth.getAccessToken();
    await auth.getAccessToken();

    const [span, ...others] = tokenSpans();
    expect(others).toEqual([]);
    expect(span?.attributes).toEqual({
      'drillster.auth.outcome': 'issued',
      'drillster.auth.attempt': 1,
      'drillster.auth.background': false,
      'drillster.auth.subject.kind': 'service_account',
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.instrumentationScope.name).toBe(OPENTELEMETRY_SCOPE);
    expect(
      await total('drillster.auth.token.requests', { 'drillster.auth.outcome': 'issued' }),
    ).toBe(1);
    expect(
      await total('drillster.auth.token.duration', { 'drillster.auth.outcome': 'issued' }),
    ).toBe(1);
    expect(await points('drillster.auth.cache.hits')).toEqual([
      { attributes: { 'drillster.auth.cache.source': 'memory' }, value: 2 },
    ]);

    await auth.getAccessToken({ subject: user.email });
    expect(tokenSpans()[1]?.attributes['drillster.auth.subject.kind']).toBe('managed_user');
    expect(await everythingRecorded()).not.toContain(token.accessToken);
    auth.close();
  });

  it('records each retry as a span event and a failed attempt, and the attempt that succeeded', async () => {
    server.mock.injectFault({ status: 503, count: 2 });
    const auth = client();
    await auth.getAccessToken();

    const [span] = tokenSpans();
    expect(span?.attributes).toMatchObject({
      'drillster.auth.outcome': 'issued',
      'drillster.auth.attempt': 3,
    });
    expect(span?.events.map((e) => e.name)).toEqual([
      'drillster.auth.retry',
      'drillster.auth.retry',
    ]);
    expect(span?.events[0]?.attributes).toMatchObject({
      'error.type': 'ERR_TOKEN_ENDPOINT',
      'drillster.auth.oauth.error': 'temporarily_unavailable',
      'drillster.auth.attempt': 1,
    });
    expect(
      await total('drillster.auth.errors', {
        'error.type': 'ERR_TOKEN_ENDPOINT',
        'drillster.auth.error.stage': 'attempt',
      }),
    ).toBe(2);
    expect(await total('drillster.auth.token.requests')).toBe(1);
    auth.close();
  });

  it('records a failed token request with its code, never its message', async () => {
    server.mock.injectFault({ status: 401 });
    const auth = client();
    const error = await auth.getAccessToken({ subject: user.userId }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_client' });

    const [span] = tokenSpans();
    expect(span?.attributes).toEqual({
      'drillster.auth.outcome': 'failed',
      'drillster.auth.attempt': 1,
      'drillster.auth.background': false,
      'drillster.auth.subject.kind': 'managed_user',
      'error.type': 'ERR_TOKEN_ENDPOINT',
      'drillster.auth.oauth.error': 'invalid_client',
    });
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_TOKEN_ENDPOINT' });
    expect(await points('drillster.auth.token.requests')).toEqual([
      {
        attributes: {
          'drillster.auth.outcome': 'failed',
          'drillster.auth.background': false,
          'error.type': 'ERR_TOKEN_ENDPOINT',
        },
        value: 1,
      },
    ]);
    expect(
      await total('drillster.auth.errors', {
        'error.type': 'ERR_TOKEN_ENDPOINT',
        'drillster.auth.error.stage': 'token',
      }),
    ).toBe(1);
    expect(
      await total('drillster.auth.token.duration', { 'drillster.auth.outcome': 'failed' }),
    ).toBe(1);
    auth.close();
  });

  it('records a failure before any token request (discovery) as a span without duration', async () => {
    server.mock.injectFault({ endpoint: 'metadata', status: 404 });
    const auth = client({ retry: false });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_DISCOVERY' });

    const [span] = tokenSpans();
    expect(span?.attributes).toMatchObject({
      'drillster.auth.outcome': 'failed',
      'error.type': 'ERR_DISCOVERY',
    });
    expect(span?.attributes).not.toHaveProperty('drillster.auth.attempt');
    expect(
      await total('drillster.auth.token.requests', { 'drillster.auth.outcome': 'failed' }),
    ).toBe(1);
    expect(await total('drillster.auth.token.duration')).toBe(0);
    auth.close();
  });

  it('records a token from the shared cache as a cache_hit span and a shared hit', async () => {
    const cache: TokenCache = new MemoryTokenCache();
    const first = client({ cache });
    const second = client({ cache });
    await first.getAccessToken();
    await second.getAccessToken();

    expect(tokenSpans().map((s) => s.attributes['drillster.auth.outcome'])).toEqual([
      'issued',
      'cache_hit',
    ]);
    expect(tokenSpans()[1]?.attributes).toEqual({
      'drillster.auth.outcome': 'cache_hit',
      'drillster.auth.cache.source': 'shared',
      'drillster.auth.subject.kind': 'service_account',
    });
    expect(
      await total('drillster.auth.cache.hits', { 'drillster.auth.cache.source': 'shared' }),
    ).toBe(1);
    expect(
      await total('drillster.auth.token.requests', { 'drillster.auth.outcome': 'cache_hit' }),
    ).toBe(1);
    first.close();
    second.close();
  });

  it('counts a failing shared cache by operation', async () => {
    const broken: TokenCache = {
      get: () => Promise.reject(new Error('store down')),
      set: () => Promise.reject(new Error('store down')),
      delete: () => Promise.resolve(),
    };
    const auth = client({ cache: broken });
    await auth.getAccessToken();
    expect(
      await total('drillster.auth.errors', {
        'drillster.auth.error.stage': 'cache',
        'drillster.auth.cache.operation': 'get',
        'error.type': '_OTHER',
      }),
    ).toBe(1);
    auth.close();
  });

  it('spans a background refresh and says so', async () => {
    let now = Date.now();
    const auth = client({ clock: () => now });
    const token = await auth.getAccessToken();
    now = token.expiresAt - 60_000; // inside the refresh window, outside the expiry margin
    await auth.getAccessToken();
    await vi.waitFor(() => expect(tokenSpans()).toHaveLength(2));
    expect(tokenSpans()[1]?.attributes).toMatchObject({
      'drillster.auth.outcome': 'issued',
      'drillster.auth.background': true,
    });
    expect(
      await total('drillster.auth.token.requests', { 'drillster.auth.background': true }),
    ).toBe(1);
    auth.close();
  });

  it('counts a refused key of the key list by its id, and the token request still succeeds', async () => {
    // An account of its own: the other tests keep their key.
    const { account, authOptions: own } = await server.provision();
    const second = await server.mock.addKey(account.serviceAccountId);
    const first = account.keyFile;
    server.mock.revokeKey(first.keyId);
    const auth = client({ ...own, key: [first, second.keyFile] });
    await auth.getAccessToken();
    expect(tokenSpans().map((s) => s.attributes['drillster.auth.outcome'])).toEqual(['issued']);
    expect(
      await points('drillster.auth.errors').then((all) =>
        all.filter((p) => p.attributes['drillster.auth.error.stage'] === 'key'),
      ),
    ).toEqual([
      {
        attributes: {
          'error.type': 'ERR_TOKEN_ENDPOINT',
          'drillster.auth.oauth.error': 'invalid_grant',
          'drillster.auth.error.stage': 'key',
          'drillster.auth.key.id': first.keyId,
        },
        value: 1,
      },
    ]);
    auth.close();
  });

  it('ends the span of a request whose client is closed during a retry wait', async () => {
    server.mock.injectFault({ status: 503, retryAfter: 3600 });
    const telemetry = createOpenTelemetryListener({ tracerProvider, meterProvider });
    const seen: string[] = [];
    const auth = client({
      // Retry-After within maxDelay is waited for exactly: an hour, so the wait is where it closes.
      retry: { baseDelay: 5, maxDelay: 3_600_000 },
      onEvent: (event) => {
        telemetry(event);
        seen.push(event.type);
      },
    });
    const failed = auth.getAccessToken().catch((error: unknown) => error);
    await vi.waitFor(() => expect(seen).toContain('retry'));
    auth.close();
    expect(await failed).toMatchObject({ code: 'ERR_ABORTED' });
    const [span] = tokenSpans();
    expect(span?.attributes).toMatchObject({
      'drillster.auth.outcome': 'failed',
      'error.type': 'ERR_ABORTED',
    });
    expect(span?.events.map((e) => e.name)).toEqual(['drillster.auth.retry']);
  });

  it('leaves out the subject kind without serviceAccountId', async () => {
    const auth = client({
      onEvent: createOpenTelemetryListener({ tracerProvider, meterProvider }),
    });
    await auth.getAccessToken();
    expect(tokenSpans()[0]?.attributes).not.toHaveProperty('drillster.auth.subject.kind');
    auth.close();
  });

  it('records no secret, token, assertion or subject in any span or metric (leak scan)', async () => {
    const tokens: string[] = [];
    const auth = client({ cache: new MemoryTokenCache() });
    server.mock.injectFault({ status: 503 });
    tokens.push((await auth.getAccessToken()).accessToken);
    tokens.push((await auth.getAccessToken({ subject: user.email })).accessToken);
    server.mock.injectFault({
      status: 400,
      body: (form) =>
        JSON.stringify({
          error: 'invalid_grant',
          error_description: `no such user ${form.get('assertion')} ${form.get('client_secret')}`,
        }),
    });
    await expect(auth.getAccessToken({ subject: user.userId })).rejects.toThrow();
    server.mock.injectFault({
      status: 400,
      body: () => JSON.stringify({ error: `custom ${user.email}` }),
    });
    await expect(auth.getAccessToken({ subject: 'someone-else@example.com' })).rejects.toThrow();

    const recorded = await everythingRecorded();
    expect(spans.getFinishedSpans()).toHaveLength(4);
    expect(recorded).toContain('_OTHER');
    expect(wire.length).toBeGreaterThanOrEqual(4);
    const all: Record<string, string> = { ...secrets, otherSubject: 'someone-else@example.com' };
    for (const [index, token] of tokens.entries()) all[`accessToken${index}`] = token;
    for (const [index, assertion] of wire.entries()) all[`assertion${index}`] = assertion;
    expect(findLeaks(recorded, all)).toEqual([]);
    auth.close();
  });
});
