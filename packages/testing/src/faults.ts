import { oauthError } from './responses.js';
import type { FaultOptions } from './types.js';

interface QueuedFault {
  fault: FaultOptions;
  remaining: number;
  /** For a fault with `durationMs`: when it goes, set by the first request that takes it. */
  endsAt?: number;
}

/**
 * Injected faults. Counted faults queue in order and each token request takes one from the head;
 * a clock fault without `count` stands (under the head) until cleared, later ones overriding
 * earlier ones.
 */
export class FaultQueue {
  #queue: QueuedFault[] = [];
  #standing: FaultOptions[] = [];

  add(fault: FaultOptions): void {
    validate(fault);
    if (fault.dateOffsetMs !== undefined && fault.count === undefined) {
      this.#standing.push({ ...fault });
    } else {
      this.#queue.push({ fault: { ...fault }, remaining: fault.count ?? 1 });
    }
  }

  clear(): void {
    this.#queue = [];
    this.#standing = [];
  }

  /** The clock offset outside the token endpoint, in milliseconds. */
  get standingOffsetMs(): number {
    let offset = 0;
    for (const fault of this.#standing) offset = fault.dateOffsetMs ?? offset;
    return offset;
  }

  /**
   * The fault for the request being handled at `now` (the server's clock), if any; consumes one
   * use of the head, or starts or ends the head's outage (`durationMs`).
   */
  take(now: number): FaultOptions | undefined {
    let head = this.#queue[0];
    if (head?.endsAt !== undefined && now >= head.endsAt) {
      this.#queue.shift();
      head = this.#queue[0];
    }
    if (head !== undefined && head.fault.durationMs !== undefined) {
      head.endsAt ??= now + head.fault.durationMs;
    } else if (head !== undefined) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.#queue.shift();
    }
    if (head === undefined && this.#standing.length === 0) return undefined;
    return Object.assign({}, ...this.#standing, head?.fault);
  }
}

function validate(fault: FaultOptions): void {
  const { status, count, delayMs, dateOffsetMs, durationMs } = fault;
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw new RangeError(`fault status must be an HTTP status from 200 to 599; got ${status}`);
  }
  if (
    status !== undefined &&
    status < 400 &&
    fault.body === undefined &&
    fault.bodyBytes === undefined
  ) {
    throw new RangeError(`fault status ${status} needs a body; error bodies are for 4xx and 5xx`);
  }
  if (count !== undefined && !(count === Number.POSITIVE_INFINITY || Number.isInteger(count))) {
    throw new RangeError(`fault count must be a positive integer or Infinity; got ${count}`);
  }
  if (count !== undefined && count < 1) {
    throw new RangeError(`fault count must be at least 1; got ${count}`);
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new RangeError(`fault delayMs must be a non-negative number; got ${delayMs}`);
  }
  if (durationMs !== undefined && !(Number.isFinite(durationMs) && durationMs > 0)) {
    throw new RangeError(`fault durationMs must be a positive number; got ${durationMs}`);
  }
  if (durationMs !== undefined && count !== undefined) {
    throw new RangeError('fault durationMs and count exclude each other');
  }
  if (dateOffsetMs !== undefined && !Number.isFinite(dateOffsetMs)) {
    throw new RangeError(`fault dateOffsetMs must be a finite number; got ${dateOffsetMs}`);
  }
  for (const name of ['bodyBytes', 'closeAfterBytes'] as const) {
    const value = fault[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new RangeError(`fault ${name} must be a non-negative integer; got ${value}`);
    }
  }
  const { endpoint } = fault;
  if (
    endpoint !== undefined &&
    endpoint !== 'token' &&
    endpoint !== 'metadata' &&
    endpoint !== 'api'
  ) {
    throw new RangeError(
      `fault endpoint must be 'token', 'metadata' or 'api'; got ${String(endpoint)}`,
    );
  }
}

/**
 * The response a fault stands for, or `undefined` when it leaves the request to the route
 * (a delay, a clock shift or a token-response tweak only). `form` is what `body` may echo.
 */
export function faultResponse(
  fault: FaultOptions,
  headers: Headers,
  form: URLSearchParams,
): Response | undefined {
  if (fault.dropConnection) return Response.error();
  if (fault.retryAfter !== undefined) headers.set('retry-after', String(fault.retryAfter));
  if (fault.body !== undefined || fault.bodyBytes !== undefined) {
    headers.set('content-type', fault.contentType ?? 'application/json');
    headers.set('cache-control', 'no-store');
    const text = typeof fault.body === 'function' ? fault.body(form) : (fault.body ?? '');
    return new Response(streamedBody(fault, text, headers), {
      status: fault.status ?? 200,
      headers,
    });
  }
  if (fault.status !== undefined) return injectedError(fault.status, headers);
  return undefined;
}

const CHUNK = 64 * 1024;

/** The body a fault sends: produced as it is read, cut where `closeAfterBytes` says. */
function streamedBody(fault: FaultOptions, text: string, headers: Headers): BodyInit {
  const prefix = new TextEncoder().encode(text);
  const total = Math.max(prefix.length, fault.bodyBytes ?? 0);
  if (fault.bodyBytes === undefined && fault.closeAfterBytes === undefined) return prefix;
  if (!fault.chunked) headers.set('content-length', String(total));
  const cut = Math.min(total, fault.closeAfterBytes ?? total);
  const padding = new Uint8Array(CHUNK).fill(0x41);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= cut) {
        if (cut < total) controller.error(new Error('Injected fault: connection cut mid-body'));
        else controller.close();
        return;
      }
      const size = Math.min(CHUNK, cut - sent);
      let chunk = padding.subarray(0, size);
      if (sent < prefix.length) {
        chunk = new Uint8Array(size).fill(0x41);
        chunk.set(prefix.subarray(sent, sent + size));
      }
      sent += size;
      controller.enqueue(chunk);
    },
  });
}

/** An RFC 6749 §5.2 error for an injected status. */
function injectedError(status: number, headers: Headers): Response {
  const error = injectedErrorCode(status);
  if (error === 'invalid_client') headers.set('www-authenticate', 'Basic realm="Drillster"');
  return oauthError(status, error, `Injected fault: HTTP ${status}`, headers);
}

function injectedErrorCode(status: number): string {
  if (status === 500) return 'server_error';
  if (status > 500) return 'temporarily_unavailable';
  if (status === 429) return 'slow_down';
  if (status === 401) return 'invalid_client';
  if (status === 403) return 'access_denied';
  return 'invalid_request';
}

/** Waits `ms`, or less if the client goes away. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
