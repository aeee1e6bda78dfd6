// Pins the exact rules of src/http.ts that the behaviour tests pass through without deciding:
// which hosts count as loopback, how a Retry-After is read, which URLs are refused and with
// which code. Found by mutation testing (`pnpm mutation`).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, DrillsterAuthError, ResponseTooLargeError } from '../src/errors.js';
import {
  createHttpClient,
  isLoopback,
  MAX_JSON_BYTES,
  parseRetryAfter,
  requireSecureUrl,
} from '../src/http.js';

const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A server that answers every request with `answer`; its URL has a query string. */
async function serve(answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
}

async function failure(promise: Promise<unknown>): Promise<DrillsterAuthError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DrillsterAuthError);
  return error as DrillsterAuthError;
}

describe('request errors', () => {
  it('name the URL without its query, the limit, the status and the timeout', async () => {
    const big = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('x'.repeat(MAX_JSON_BYTES + 1));
    });
    const tooLarge = await failure(
      createHttpClient({ timeout: 5000 }).request(`${big}?secret=q`, { method: 'GET' }, undefined),
    );
    expect(tooLarge).toBeInstanceOf(ResponseTooLargeError);
    expect(tooLarge).toMatchObject({ status: 200, limit: MAX_JSON_BYTES });
    expect(tooLarge.message).toBe(
      `${big} answered with more than ${MAX_JSON_BYTES} bytes (HTTP 200)`,
    );

    const silent = await serve(() => {});
    const timeout = await failure(
      createHttpClient({ timeout: 50 }).request(`${silent}?secret=q`, { method: 'GET' }, undefined),
    );
    expect([timeout.code, timeout.message]).toEqual([
      'ERR_TIMEOUT',
      `${silent} did not answer within 50 ms`,
    ]);
  });
});

describe('isLoopback', () => {
  it('is localhost, [::1] and 127.0.0.0/8 written as four numbers, nothing else', () => {
    for (const host of ['localhost', '[::1]', '127.0.0.1', '127.255.0.9', '127.1.22.133']) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of [
      'example.com',
      'localhost.example.com',
      '127.0.0.1.example.com',
      'x127.0.0.1',
      '127.0.0',
      '127.0.0.1.5',
      '127.0.0.1234',
      '128.0.0.1',
      '10.0.0.1',
      '[::2]',
      '',
    ]) {
      expect(isLoopback(host), host).toBe(false);
    }
  });
});

describe('requireSecureUrl', () => {
  function refusal(value: unknown): ConfigurationError {
    try {
      requireSecureUrl(value, 'tokenEndpoint');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return error as ConfigurationError;
    }
    throw new Error('expected a refusal');
  }

  it('takes https anywhere and http on loopback only, as a parsed URL', () => {
    expect(requireSecureUrl('https://www.drillster.com/daas', 'issuer').href).toBe(
      'https://www.drillster.com/daas',
    );
    expect(requireSecureUrl('http://127.0.0.1:8080/token', 'x').port).toBe('8080');
    expect(requireSecureUrl('http://localhost/token', 'x').hostname).toBe('localhost');
    expect(requireSecureUrl('http://[::1]:3000/', 'x').hostname).toBe('[::1]');
  });

  it('refuses plain http elsewhere with ERR_INSECURE_ENDPOINT, naming the option and the origin only', () => {
    const error = refusal('http://auth.example.com/token?secret=s3cr3t');
    expect(error.code).toBe('ERR_INSECURE_ENDPOINT');
    expect(error.message).toContain('tokenEndpoint');
    expect(error.message).toContain('http://auth.example.com');
    expect(error.message).not.toContain('s3cr3t');
    expect(refusal('ftp://127.0.0.1/token').code).toBe('ERR_INSECURE_ENDPOINT');
    expect(refusal('file:///etc/passwd').code).toBe('ERR_INSECURE_ENDPOINT');
  });

  it('refuses what is not an absolute URL with ERR_INVALID_OPTIONS', () => {
    for (const value of ['/daas/oauth/token', 'not a url', '', undefined]) {
      const error = refusal(value);
      expect(error.code).toBe('ERR_INVALID_OPTIONS');
      expect(error.message).toBe('tokenEndpoint must be an absolute URL');
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('is undefined without a header or for one that is neither seconds nor a date', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    // Digits with more around them are neither delta-seconds nor a date.
    expect(parseRetryAfter('30s', now)).toBeUndefined();
    expect(parseRetryAfter('in 30', now)).toBeUndefined();
  });

  it('reads delta-seconds, surrounding spaces allowed', () => {
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter('  12 ', now)).toBe(12);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP date as whole seconds from now, rounded up, never negative', () => {
    expect(parseRetryAfter(new Date(now + 10_000).toUTCString(), now)).toBe(10);
    // toUTCString drops milliseconds: a date 10 s ahead seen 1 ms after `now` is 9.999 s away.
    expect(parseRetryAfter(new Date(now + 10_000).toUTCString(), now + 1)).toBe(10);
    expect(parseRetryAfter(` ${new Date(now + 3000).toUTCString()} `, now)).toBe(3);
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
  });
});
