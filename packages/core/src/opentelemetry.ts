import {
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { DrillsterAuthError, TokenEndpointError } from './errors.js';
import type { DrillsterAuthEvent, DrillsterAuthEventListener } from './events.js';

/** The instrumentation scope (tracer and meter name) of {@link createOpenTelemetryListener}. */
export const OPENTELEMETRY_SCOPE = '@drillster-auth/core';

/** Options of {@link createOpenTelemetryListener}. */
export interface OpenTelemetryListenerOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /**
   * The client's service account id (`key.serviceAccountId`), so that spans say whose token it
   * was: `drillster.auth.subject.kind` is `service_account` for it and `managed_user` for any
   * other subject. Default: none, and spans carry no subject kind. The subject itself never
   * becomes an attribute.
   */
  serviceAccountId?: string;
}

/** Buckets of the duration histogram, in seconds: a token request takes tens of milliseconds to seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The RFC 6749 §5.2 error codes reported as `drillster.auth.oauth.error`; any other value the
 * server sends is `_OTHER`, so the server cannot choose an attribute's text or its cardinality.
 */
const OAUTH_ERRORS = new Set([
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
]);

/** A token request to the token endpoint, from its first attempt to its outcome. */
interface Pending {
  span: Span;
  /** `performance.now()` at the first attempt. */
  started: number;
  background: boolean;
}

/** Attribute sets of the hot path, allocated once: a memory hit then costs one `Counter.add`. */
const MEMORY_HIT: Attributes = Object.freeze({ 'drillster.auth.cache.source': 'memory' });
const SHARED_HIT: Attributes = Object.freeze({ 'drillster.auth.cache.source': 'shared' });

/**
 * OpenTelemetry traces and metrics from a client's events: pass the listener as the client's
 * `onEvent` (call it from your own listener to keep one). Uses `@opentelemetry/api` only; without
 * an OpenTelemetry SDK registered (or given) everything it records is dropped.
 *
 * Signals (attribute values in parentheses):
 * - span `drillster.auth.token` (kind client) each time the client gets a token beyond its memory:
 *   from the token endpoint, from the first attempt to the outcome, or from the shared `cache`
 *   (a span without duration). Attributes `drillster.auth.outcome` (`issued`, `cache_hit`,
 *   `failed`), `drillster.auth.attempt` (of the last request sent), `drillster.auth.background`,
 *   `drillster.auth.cache.source` (`shared`), `drillster.auth.subject.kind`, `error.type` (the
 *   error's `code`) and `drillster.auth.oauth.error`; a `drillster.auth.retry` event per retry.
 *   A failure sets the status to error with the code as its message.
 * - counter `drillster.auth.token.requests` (`{request}`): those same token requests, by
 *   `drillster.auth.outcome`, `drillster.auth.background` and `error.type`.
 * - histogram `drillster.auth.token.duration` (`s`): how long getting a token from the token
 *   endpoint took, retries included, by `drillster.auth.outcome` and `error.type`.
 * - counter `drillster.auth.cache.hits` (`{hit}`): tokens served from a cache, by
 *   `drillster.auth.cache.source` (`memory`, `shared`). Memory hits make no span.
 * - counter `drillster.auth.errors` (`{error}`): every failure the client reports, by
 *   `error.type` and `drillster.auth.error.stage`: `attempt` (a request that is retried),
 *   `token` (getting a token failed), `key` (the token endpoint refused a key of the `key`
 *   list and took the next one, with `drillster.auth.key.id`, the refused key's id) or `cache`
 *   (the shared cache failed, with `drillster.auth.cache.operation`).
 *
 * No token, secret, assertion, key or subject is ever recorded, and no error message (a server's
 * `error_description` may quote the subject): errors are reported by code.
 */
export function createOpenTelemetryListener(
  options: OpenTelemetryListenerOptions = {},
): DrillsterAuthEventListener {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    OPENTELEMETRY_SCOPE,
  );
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(OPENTELEMETRY_SCOPE);
  const requests: Counter = meter.createCounter('drillster.auth.token.requests', {
    description: 'Tokens the client got beyond its memory cache, by outcome.',
    unit: '{request}',
  });
  const duration: Histogram = meter.createHistogram('drillster.auth.token.duration', {
    description: 'Duration of token requests to the token endpoint, retries included.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const hits: Counter = meter.createCounter('drillster.auth.cache.hits', {
    description: 'Tokens served from a cache, by source.',
    unit: '{hit}',
  });
  const errors: Counter = meter.createCounter('drillster.auth.errors', {
    description: 'Failures the client reported, by error code and stage.',
    unit: '{error}',
  });
  const serviceAccountId = options.serviceAccountId;
  /**
   * Open spans by subject. Events carry no request id, so while two requests for one subject
   * overlap (a forced refresh during another) the second joins the first's span; each outcome
   * is still counted.
   */
  const pending = new Map<string, Pending>();

  const subjectKind = (subject: string): Attributes =>
    serviceAccountId === undefined
      ? {}
      : {
          'drillster.auth.subject.kind':
            subject === serviceAccountId ? 'service_account' : 'managed_user',
        };

  /** A span for an outcome without a request to the token endpoint: it starts and ends now. */
  const instant = (subject: string, attributes: Attributes): Span =>
    tracer.startSpan('drillster.auth.token', {
      kind: SpanKind.CLIENT,
      attributes: { ...subjectKind(subject), ...attributes },
    });

  const handle = (event: DrillsterAuthEvent): void => {
    switch (event.type) {
      case 'cache_hit': {
        if (event.source === 'memory') {
          hits.add(1, MEMORY_HIT);
          return;
        }
        hits.add(1, SHARED_HIT);
        requests.add(1, {
          'drillster.auth.outcome': 'cache_hit',
          'drillster.auth.background': false,
        });
        instant(event.subject, { ...SHARED_HIT, 'drillster.auth.outcome': 'cache_hit' }).end();
        return;
      }
      case 'token_requested': {
        const open = pending.get(event.subject);
        if (open !== undefined) {
          open.span.setAttribute('drillster.auth.attempt', event.attempt);
          return;
        }
        const span = tracer.startSpan('drillster.auth.token', {
          kind: SpanKind.CLIENT,
          attributes: {
            ...subjectKind(event.subject),
            'drillster.auth.background': event.background,
            'drillster.auth.attempt': event.attempt,
          },
        });
        pending.set(event.subject, {
          span,
          started: performance.now(),
          background: event.background,
        });
        return;
      }
      case 'retry': {
        const failure = errorAttributes(event.error);
        errors.add(1, { ...failure, 'drillster.auth.error.stage': 'attempt' });
        pending.get(event.subject)?.span.addEvent('drillster.auth.retry', {
          ...failure,
          'drillster.auth.attempt': event.attempt,
          'drillster.auth.retry.delay': event.delayMs / 1000,
        });
        return;
      }
      case 'token_issued': {
        const open = pending.get(event.subject);
        pending.delete(event.subject);
        const outcome = { 'drillster.auth.outcome': 'issued' };
        requests.add(1, { ...outcome, 'drillster.auth.background': open?.background ?? false });
        if (open === undefined) {
          instant(event.subject, outcome).end();
          return;
        }
        duration.record((performance.now() - open.started) / 1000, outcome);
        open.span.setAttributes(outcome);
        open.span.end();
        return;
      }
      case 'token_failed': {
        const open = pending.get(event.subject);
        pending.delete(event.subject);
        const failure = { ...errorAttributes(event.error), 'drillster.auth.outcome': 'failed' };
        errors.add(1, {
          'error.type': failure['error.type'],
          'drillster.auth.error.stage': 'token',
        });
        requests.add(1, {
          'drillster.auth.outcome': 'failed',
          'drillster.auth.background': event.background,
          'error.type': failure['error.type'],
        });
        const span =
          open?.span ?? instant(event.subject, { 'drillster.auth.background': event.background });
        if (open !== undefined) {
          duration.record((performance.now() - open.started) / 1000, {
            'drillster.auth.outcome': 'failed',
            'error.type': failure['error.type'],
          });
        }
        span.setAttributes(failure);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure['error.type'] });
        span.end();
        return;
      }
      case 'cache_error': {
        errors.add(1, {
          'error.type': event.error instanceof DrillsterAuthError ? event.error.code : '_OTHER',
          'drillster.auth.error.stage': 'cache',
          'drillster.auth.cache.operation': event.operation,
        });
        return;
      }
      case 'key_rejected': {
        errors.add(1, {
          ...errorAttributes(event.error),
          'drillster.auth.error.stage': 'key',
          'drillster.auth.key.id': event.keyId,
        });
        return;
      }
      default:
        // clock_skew, and event types added later: nothing to record.
        return;
    }
  };

  return (event) => {
    try {
      handle(event);
    } catch {
      // Telemetry must never fail a token request; the client ignores a listener's exceptions too.
    }
  };
}

/** `error.type` (the code) and, for an answer of the token endpoint, its OAuth error code. */
function errorAttributes(error: DrillsterAuthError): {
  'error.type': string;
  'drillster.auth.oauth.error'?: string;
} {
  if (!(error instanceof TokenEndpointError) || error.error === undefined) {
    return { 'error.type': error.code };
  }
  return {
    'error.type': error.code,
    'drillster.auth.oauth.error': OAUTH_ERRORS.has(error.error) ? error.error : '_OTHER',
  };
}
