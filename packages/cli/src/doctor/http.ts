import { DiscoveryError, NetworkError } from '@drillster-auth/core';
import { CliError } from '../errors.js';
import { isTransientStatus } from '../exit-codes.js';

/** What a doctor check read from one GET: the status, the `Date` header, the body's text. */
export interface Answer {
  status: number;
  /** The server's `Date`, in milliseconds since the epoch, when it sent a valid one. */
  date: number | undefined;
  /** Our clock halfway through the request: the best guess at when the server stamped `Date`. */
  midpoint: number;
  text: string;
}

/** Bodies the doctor reads are small JSON documents; anything larger is cut off unread. */
const MAX_BODY = 64 * 1024;

/**
 * One GET, no retries (the doctor reports what it saw), within `timeout` milliseconds. A request
 * that gets no answer becomes a core {@link NetworkError} (`ERR_NETWORK`, or `ERR_TIMEOUT`), so
 * that it maps to the same exit code as when `token` fails that way.
 */
export async function get(
  url: string,
  timeout: number,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      headers: { accept: 'application/json', ...headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeout),
    });
    const midpoint = (started + Date.now()) / 2;
    const date = Date.parse(response.headers.get('date') ?? '');
    return {
      status: response.status,
      date: Number.isNaN(date) ? undefined : date,
      midpoint,
      text: await readCapped(response),
    };
  } catch (error) {
    // The runtime's error may carry the request, whose headers hold the token: keep its name only.
    const name = error instanceof Error ? error.name : 'Error';
    const timedOut = name === 'TimeoutError';
    const reason = causeCode(error) ?? name;
    throw new NetworkError(
      timedOut ? 'ERR_TIMEOUT' : 'ERR_NETWORK',
      timedOut
        ? `${url} did not answer within ${timeout} ms`
        : `${url} could not be reached (${reason})`,
      { cause: Object.assign(new Error(reason), { code: reason }) },
    );
  }
}

async function readCapped(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function causeCode(error: unknown): string | undefined {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/** A metadata failure with the status, so `exitCodeFor` tells an outage from a wrong issuer. */
export function metadataError(message: string, status?: number): DiscoveryError {
  return new DiscoveryError('ERR_DISCOVERY', message, status === undefined ? {} : { status });
}

/** An API failure, by what its status says. */
export function apiError(url: string, status: number): CliError {
  if (status === 401 || status === 403) {
    return new CliError('ERR_API_REFUSED', `${url} refused the token (HTTP ${status})`);
  }
  if (isTransientStatus(status)) {
    return new CliError('ERR_API_UNAVAILABLE', `${url} answered HTTP ${status}`);
  }
  return new CliError('ERR_API_BAD_RESPONSE', `${url} answered HTTP ${status}`);
}
