// Pins what createOpenTelemetryListener records, exactly: the instrumentation scope, each
// instrument's name, type, unit, description and histogram buckets, the attribute set of every
// data point, durations in seconds from the first attempt, the RFC 6749 error codes reported as
// themselves, and outcomes that arrive without a request of their own. Most tests hand the
// listener events directly (with performance.now stubbed where a duration is measured), so every
// value is known; the last drives a client on the mock server. opentelemetry.test.ts shows the
// signals through a client. Found by mutation testing (`pnpm mutation`).
import {
  findLeaks,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
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
  DiscoveryError,
  type DrillsterAuthError,
  type DrillsterAuthEventListener,
  TokenEndpointError,
} from '../src/index.js';
import { createOpenTelemetryListener } from '../src/opentelemetry.js';

const SCOPE = '@drillster-auth/core';
const SERVICE_ACCOUNT = 'sa-pinned';
const USER = 'ann@example.com';

let spans: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let metricExporter: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let meterProvider: MeterProvider;
let listener: DrillsterAuthEventListener;

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
  listener = createOpenTelemetryListener({
    tracerProvider,
    meterProvider,
    serviceAccountId: SERVICE_ACCOUNT,
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});

/** Every metric of the last collection, by name, with the scope it came from. */
async function collect(): Promise<Map<string, { scope: string; metric: MetricData }>> {
  await reader.forceFlush();
  const byName = new Map<string, { scope: string; metric: MetricData }>();
  for (const scope of metricExporter.getMetrics().at(-1)?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      byName.set(metric.descriptor.name, { scope: scope.scope.name, metric });
    }
  }
  return byName;
}

/** The data points of a counter: attributes and value. */
async function sums(name: string): Promise<{ attributes: Attributes; value: number }[]> {
  const metric = (await collect()).get(name)?.metric;
  if (metric === undefined) return [];
  expect(metric.dataPointType).toBe(DataPointType.SUM);
  return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as number }));
}

/** The data points of the duration histogram: attributes, count and sum. */
async function durations(): Promise<{ attributes: Attributes; count: number; sum: number }[]> {
  const metric = (await collect()).get('drillster.auth.token.duration')?.metric;
  if (metric === undefined) return [];
  expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
  return metric.dataPoints.map((p) => {
    const value = p.value as Histogram;
    return { attributes: p.attributes, count: value.count, sum: value.sum ?? Number.NaN };
  });
}

function tokenSpans(): ReadableSpan[] {
  const finished = spans.getFinishedSpans();
  for (const span of finished) expect(span.name).toBe('drillster.auth.token');
  return finished;
}

/** Stubs performance.now (the listener's clock for durations) to return `ms` until set again. */
function clockAt(ms: number): void {
  vi.spyOn(performance, 'now').mockReturnValue(ms);
}

function endpointError(error: string | undefined, status = 400): TokenEndpointError {
  return new TokenEndpointError(`The token endpoint refused the request: no such user ${USER}`, {
    status,
    error,
    errorDescription: `no such user ${USER}`,
    response: new Response(null, { status }),
  });
}

describe('the instruments', () => {
  it('are named, typed, described and bucketed as documented, all under the scope @drillster-auth/core', async () => {
    listener({ type: 'cache_hit', subject: USER, expiresAt: 0, source: 'shared' });
    listener({ type: 'token_requested', subject: USER, attempt: 1, background: false });
    listener({ type: 'token_issued', subject: USER, expiresAt: 0, lifetime: 3600, durationMs: 1 });
    listener({ type: 'token_failed', subject: USER, background: false, error: endpointError('x') });

    const metrics = await collect();
    const described = [...metrics.values()].map(({ scope, metric }) => ({
      scope,
      name: metric.descriptor.name,
      type:
        metric.dataPointType === DataPointType.HISTOGRAM
          ? 'histogram'
          : metric.dataPointType === DataPointType.SUM && metric.isMonotonic
            ? 'counter'
            : 'other',
      unit: metric.descriptor.unit,
      description: metric.descriptor.description,
    }));
    expect(described).toHaveLength(4);
    expect(described).toEqual(
      expect.arrayContaining([
        {
          scope: SCOPE,
          name: 'drillster.auth.token.requests',
          type: 'counter',
          unit: '{request}',
          description: 'Tokens the client got beyond its memory cache, by outcome.',
        },
        {
          scope: SCOPE,
          name: 'drillster.auth.token.duration',
          type: 'histogram',
          unit: 's',
          description: 'Duration of token requests to the token endpoint, retries included.',
        },
        {
          scope: SCOPE,
          name: 'drillster.auth.cache.hits',
          type: 'counter',
          unit: '{hit}',
          description: 'Tokens served from a cache, by source.',
        },
        {
          scope: SCOPE,
          name: 'drillster.auth.errors',
          type: 'counter',
          unit: '{error}',
          description: 'Failures the client reported, by error code and stage.',
        },
      ]),
    );
    const [histogram] = metrics.get('drillster.auth.token.duration')?.metric.dataPoints ?? [];
    expect((histogram?.value as Histogram | undefined)?.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]);

    const spanScopes = tokenSpans().map((span) => span.instrumentationScope.name);
    expect(spanScopes).toEqual([SCOPE, SCOPE, SCOPE]);
    for (const span of tokenSpans()) expect(span.kind).toBe(SpanKind.CLIENT);
  });
});

describe('durations', () => {
  it('are seconds from the first attempt to the outcome, issued or failed, by outcome and error.type', async () => {
    clockAt(10_000);
    listener({ type: 'token_requested', subject: SERVICE_ACCOUNT, attempt: 1, background: false });
    clockAt(20_000);
    listener({ type: 'token_requested', subject: USER, attempt: 1, background: false });
    clockAt(10_100);
    listener({ type: 'token_requested', subject: SERVICE_ACCOUNT, attempt: 2, background: false });
    clockAt(10_250);
    listener({
      type: 'token_issued',
      subject: SERVICE_ACCOUNT,
      expiresAt: 0,
      lifetime: 3600,
      durationMs: 250,
    });
    clockAt(21_500);
    listener({ type: 'token_failed', subject: USER, background: false, error: endpointError('x') });
    vi.restoreAllMocks();

    const points = await durations();
    expect(points).toHaveLength(2);
    expect(points).toEqual(
      expect.arrayContaining([
        { attributes: { 'drillster.auth.outcome': 'issued' }, count: 1, sum: 0.25 },
        {
          attributes: { 'drillster.auth.outcome': 'failed', 'error.type': 'ERR_TOKEN_ENDPOINT' },
          count: 1,
          sum: 1.5,
        },
      ]),
    );
  });

  it("a retry's delay is in seconds on the span's retry event", async () => {
    listener({ type: 'token_requested', subject: USER, attempt: 1, background: false });
    listener({
      type: 'retry',
      subject: USER,
      attempt: 1,
      delayMs: 1500,
      error: endpointError('temporarily_unavailable', 503),
    });
    listener({ type: 'token_issued', subject: USER, expiresAt: 0, lifetime: 3600, durationMs: 1 });
    const [span] = tokenSpans();
    expect(span?.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'drillster.auth.retry',
        {
          'error.type': 'ERR_TOKEN_ENDPOINT',
          'drillster.auth.oauth.error': 'temporarily_unavailable',
          'drillster.auth.attempt': 1,
          'drillster.auth.retry.delay': 1.5,
        },
      ],
    ]);
  });
});

describe('outcomes without a token request of their own', () => {
  it('a token issued to a request that joined another (no open span) counts as foreground, with a span and no duration', async () => {
    listener({ type: 'token_issued', subject: USER, expiresAt: 0, lifetime: 3600, durationMs: 1 });
    expect(await sums('drillster.auth.token.requests')).toEqual([
      {
        attributes: { 'drillster.auth.outcome': 'issued', 'drillster.auth.background': false },
        value: 1,
      },
    ]);
    expect(tokenSpans().map((span) => span.attributes)).toEqual([
      { 'drillster.auth.outcome': 'issued', 'drillster.auth.subject.kind': 'managed_user' },
    ]);
    expect(await durations()).toEqual([]);
  });

  it('a background refresh that failed before its request (discovery) says it was in the background', async () => {
    const error = new DiscoveryError('ERR_DISCOVERY', 'The metadata document could not be read', {
      status: 503,
    });
    listener({ type: 'token_failed', subject: SERVICE_ACCOUNT, background: true, error });
    const [span, ...others] = tokenSpans();
    expect(others).toEqual([]);
    expect(span?.attributes).toEqual({
      'drillster.auth.subject.kind': 'service_account',
      'drillster.auth.background': true,
      'drillster.auth.outcome': 'failed',
      'error.type': 'ERR_DISCOVERY',
    });
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_DISCOVERY' });
    expect(await durations()).toEqual([]);
  });

  it('a token from the shared cache counts as a foreground cache_hit request and a shared hit', async () => {
    listener({ type: 'cache_hit', subject: USER, expiresAt: 0, source: 'shared' });
    listener({ type: 'cache_hit', subject: USER, expiresAt: 0, source: 'memory' });
    expect(await sums('drillster.auth.token.requests')).toEqual([
      {
        attributes: { 'drillster.auth.outcome': 'cache_hit', 'drillster.auth.background': false },
        value: 1,
      },
    ]);
    const hits = await sums('drillster.auth.cache.hits');
    expect(hits).toHaveLength(2);
    expect(hits).toEqual(
      expect.arrayContaining([
        { attributes: { 'drillster.auth.cache.source': 'shared' }, value: 1 },
        { attributes: { 'drillster.auth.cache.source': 'memory' }, value: 1 },
      ]),
    );
    expect(tokenSpans().map((span) => span.attributes)).toEqual([
      {
        'drillster.auth.subject.kind': 'managed_user',
        'drillster.auth.cache.source': 'shared',
        'drillster.auth.outcome': 'cache_hit',
      },
    ]);
  });
});

describe('drillster.auth.oauth.error', () => {
  const rfc6749 = [
    'invalid_request',
    'invalid_client',
    'invalid_grant',
    'unauthorized_client',
    'unsupported_grant_type',
    'invalid_scope',
    'access_denied',
    'server_error',
    'temporarily_unavailable',
    'slow_down',
  ];

  it('is each RFC 6749 §5.2 code as itself, any other code as _OTHER, and absent without one', async () => {
    const cases: [string, DrillsterAuthError, string | undefined][] = [
      ...rfc6749.map((code): [string, DrillsterAuthError, string] => [
        code,
        endpointError(code),
        code,
      ]),
      ['custom code', endpointError(`no_such_user_${USER}`), '_OTHER'],
      ['an HTTP error without an OAuth body', endpointError(undefined, 502), undefined],
      [
        'an error that is not the token endpoint’s',
        new DiscoveryError('ERR_DISCOVERY', 'The metadata document could not be read', {
          status: 404,
        }),
        undefined,
      ],
    ];
    for (const [index, [, error]] of cases.entries()) {
      listener({ type: 'token_failed', subject: `subject-${index}`, background: false, error });
    }

    const finished = tokenSpans();
    expect(finished).toHaveLength(cases.length);
    for (const [index, [name, error, expected]] of cases.entries()) {
      const attributes: Attributes = {
        'drillster.auth.subject.kind': 'managed_user',
        'drillster.auth.background': false,
        'drillster.auth.outcome': 'failed',
        'error.type': error.code,
      };
      if (expected !== undefined) attributes['drillster.auth.oauth.error'] = expected;
      expect(finished[index]?.attributes, name).toEqual(attributes);
    }
    const recorded = JSON.stringify({
      spans: finished.map((span) => [span.attributes, span.status, span.events]),
      metrics: metricExporter.getMetrics(),
    });
    expect(findLeaks(recorded, { subject: USER })).toEqual([]);
  });
});

describe('through a client on the mock server', () => {
  let server: RunningMockDrillster;

  beforeAll(async () => {
    server = await startMockDrillster();
  });

  afterAll(async () => {
    await server.close();
  });

  it('records exactly these spans and data points for a retried token, two memory hits and a refusal', async () => {
    const { authOptions, account, managedUser } = await server.provision();
    const telemetry = createOpenTelemetryListener({
      tracerProvider,
      meterProvider,
      serviceAccountId: account.serviceAccountId,
    });
    const auth = createDrillsterAuth({
      ...authOptions,
      retry: { baseDelay: 5, maxDelay: 50 },
      onEvent: telemetry,
    });
    try {
      server.mock.injectFault({ status: 503, count: 1 });
      await auth.getAccessToken();
      await auth.getAccessToken();
      await auth.getAccessToken();
      server.mock.injectFault({ status: 401 });
      await expect(auth.getAccessToken({ subject: managedUser.userId })).rejects.toMatchObject({
        code: 'ERR_TOKEN_ENDPOINT',
      });
    } finally {
      auth.close();
      server.mock.clearFaults();
    }

    const [issued, failed, ...others] = tokenSpans();
    expect(others).toEqual([]);
    expect(issued?.attributes).toEqual({
      'drillster.auth.subject.kind': 'service_account',
      'drillster.auth.background': false,
      'drillster.auth.attempt': 2,
      'drillster.auth.outcome': 'issued',
    });
    expect(issued?.status.code).toBe(SpanStatusCode.UNSET);
    expect(issued?.events.map((event) => event.name)).toEqual(['drillster.auth.retry']);
    const retry = issued?.events[0]?.attributes ?? {};
    expect(Object.keys(retry).sort()).toEqual([
      'drillster.auth.attempt',
      'drillster.auth.oauth.error',
      'drillster.auth.retry.delay',
      'error.type',
    ]);
    expect(retry).toMatchObject({
      'error.type': 'ERR_TOKEN_ENDPOINT',
      'drillster.auth.oauth.error': 'temporarily_unavailable',
      'drillster.auth.attempt': 1,
    });
    // Full jitter under maxDelay (50 ms), and the mock sends no Retry-After.
    expect(retry['drillster.auth.retry.delay']).toBeGreaterThanOrEqual(0);
    expect(retry['drillster.auth.retry.delay']).toBeLessThanOrEqual(0.05);
    expect(failed?.attributes).toEqual({
      'drillster.auth.subject.kind': 'managed_user',
      'drillster.auth.background': false,
      'drillster.auth.attempt': 1,
      'drillster.auth.outcome': 'failed',
      'error.type': 'ERR_TOKEN_ENDPOINT',
      'drillster.auth.oauth.error': 'invalid_client',
    });
    expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_TOKEN_ENDPOINT' });

    const requests = await sums('drillster.auth.token.requests');
    expect(requests).toHaveLength(2);
    expect(requests).toEqual(
      expect.arrayContaining([
        {
          attributes: { 'drillster.auth.outcome': 'issued', 'drillster.auth.background': false },
          value: 1,
        },
        {
          attributes: {
            'drillster.auth.outcome': 'failed',
            'drillster.auth.background': false,
            'error.type': 'ERR_TOKEN_ENDPOINT',
          },
          value: 1,
        },
      ]),
    );
    const timed = (await durations()).map(({ attributes, count }) => ({ attributes, count }));
    expect(timed).toHaveLength(2);
    expect(timed).toEqual(
      expect.arrayContaining([
        { attributes: { 'drillster.auth.outcome': 'issued' }, count: 1 },
        {
          attributes: { 'drillster.auth.outcome': 'failed', 'error.type': 'ERR_TOKEN_ENDPOINT' },
          count: 1,
        },
      ]),
    );
    expect(await sums('drillster.auth.cache.hits')).toEqual([
      { attributes: { 'drillster.auth.cache.source': 'memory' }, value: 2 },
    ]);
    const errors = await sums('drillster.auth.errors');
    expect(errors).toHaveLength(2);
    expect(errors).toEqual(
      expect.arrayContaining([
        {
          attributes: {
            'error.type': 'ERR_TOKEN_ENDPOINT',
            'drillster.auth.oauth.error': 'temporarily_unavailable',
            'drillster.auth.error.stage': 'attempt',
          },
          value: 1,
        },
        {
          attributes: { 'error.type': 'ERR_TOKEN_ENDPOINT', 'drillster.auth.error.stage': 'token' },
          value: 1,
        },
      ]),
    );
  });
});
