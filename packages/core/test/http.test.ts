import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillsterAuthError, type TokenEndpointError } from '../src/errors.js';
import { createHttpClient, MAX_ERROR_BYTES, MAX_JSON_BYTES } from '../src/http.js';
import { exchangeAssertion } from '../src/token-endpoint.js';

const MIB = 1024 * 1024;
const clientSecret = `s3cr+t/${crypto.randomUUID()}=&"\\ü`;
const assertion = `eyJhbGciOiJSUzI1NiJ9.${'eyJzdWIiOiJ4In0'}.${crypto.randomUUID().replaceAll('-', '_')}`;
const secrets = { clientSecret, assertion };
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A token endpoint that answers with `handler`, after reading the whole request. */
async function endpoint(
  handler: (form: URLSearchParams, res: ServerResponse, req: IncomingMessage) => void,
): Promise<string> {
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    handler(new URLSearchParams(text), res, req);
  });
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

/** Writes `bytes` of `A` as the client reads them, never holding more than a chunk. */
function streamBytes(res: ServerResponse, bytes: number): void {
  const chunk = Buffer.alloc(64 * 1024, 'A');
  let sent = 0;
  const pump = () => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function exchange(tokenEndpoint: string, timeout = 5000) {
  return exchangeAssertion(createHttpClient({ timeout }), {
    tokenEndpoint,
    clientId: 'client',
    clientSecret,
    assertion,
    fallbackExpiresIn: 600,
    now: Date.now(),
  });
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

function deepInspect(value: unknown): string {
  return inspect(value, { showHidden: true, getters: true, depth: Infinity });
}

describe('errors hold nothing of the request', () => {
  it('ERR_TIMEOUT has no cause chain into the library error and its request body', async () => {
    const url = await endpoint(() => {
      // Never answers.
    });
    const error = await failure(exchange(url, 200));
    expect(error.code).toBe('ERR_TIMEOUT');
    const text = deepInspect(error);
    expect(text).not.toMatch(/FetchError|client_secret|assertion=/);
    expectNoLeaks(error, secrets, 'the timeout error');
  });

  it('ERR_NETWORK keeps what the runtime said (name, code, message) in a fresh cause', async () => {
    const url = await endpoint((_, res) => res.socket?.destroy());
    const error = await failure(exchange(url));
    expect(error.code).toBe('ERR_NETWORK');
    expect(error.message).toMatch(/could not be reached/);
    const cause = error.cause as Error & { code?: string };
    expect(cause).toBeInstanceOf(Error);
    expect(cause.code).toMatch(/^(ECONNRESET|UND_ERR_SOCKET)$/);
    expect(cause.cause).toBeUndefined();
    expect(deepInspect(error)).not.toMatch(/FetchError|client_secret|socket:/);
    expectNoLeaks(error, secrets, 'the network error');
  });

  it('a refused connection says ECONNREFUSED', async () => {
    const url = await endpoint(() => {});
    await closers.pop()?.();
    const error = await failure(exchange(url));
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('a body cut short is ERR_NETWORK, "broke off its answer"', async () => {
    const url = await endpoint((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"access_token":', () => res.socket?.destroy());
    });
    const error = await failure(exchange(url));
    expect(error.code).toBe('ERR_NETWORK');
    expect(error.message).toMatch(/broke off its answer/);
    expectNoLeaks(error, secrets, 'the network error');
  });

  it('response headers that echo a credential are left out of error.response', async () => {
    const url = await endpoint((form, res) => {
      res.writeHead(400, {
        'content-type': 'application/json',
        'x-echo': encodeURIComponent(form.get('client_secret') ?? ''),
        'x-request-id': 'req-1',
      });
      res.end('{"error":"invalid_client"}');
    });
    const error = (await failure(exchange(url))) as TokenEndpointError;
    expect(error.response.headers.get('x-echo')).toBeNull();
    expect(error.response.headers.get('x-request-id')).toBe('req-1');
    expectNoLeaks(error, secrets, 'the refusal');
  });
});

describe('redaction after decoding', () => {
  const spellings: Array<[string, (v: string) => string]> = [
    ['raw', (v) => JSON.stringify(v)],
    ['JSON-escaped with \\/', (v) => JSON.stringify(v).replaceAll('/', '\\/')],
    [
      'every other character \\u-escaped',
      (v) =>
        `"${v.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`,
    ],
    ['double JSON-encoded', (v) => JSON.stringify(JSON.stringify(v))],
    ['url-encoded', (v) => JSON.stringify(encodeURIComponent(v))],
    ['url-encoded, lower-case hex', (v) => JSON.stringify(encodeURIComponent(v).toLowerCase())],
    ['form-encoded', (v) => JSON.stringify(new URLSearchParams({ v }).toString().slice(2))],
    [
      'base64 of the UTF-8',
      (v) => JSON.stringify(btoa(String.fromCharCode(...new TextEncoder().encode(v)))),
    ],
  ];

  it.each(spellings)('an error that echoes both credentials %s keeps neither', async (_, spell) => {
    const url = await endpoint((form, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        `{"error":${spell(form.get('client_secret') ?? '')},"error_description":${spell(
          `bad request; client_secret=${form.get('client_secret')}`,
        )},"hint":${spell(form.get('assertion') ?? '')}}`,
      );
    });
    const error = (await failure(exchange(url))) as TokenEndpointError;
    expect(error.code).toBe('ERR_TOKEN_ENDPOINT');
    expect(error.status).toBe(400);
    expectNoLeaks(error, secrets, 'the refusal');
    expectNoLeaks(error.errorDescription, secrets, 'errorDescription');
  });

  it('keeps the rest of the description, and never quotes the raw body', async () => {
    const url = await endpoint((form, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: 'invalid_client',
          error_description: `unknown secret ${form.get('client_secret')} for this client`,
          raw: 'not-an-oauth-field',
        }),
      );
    });
    const error = (await failure(exchange(url))) as TokenEndpointError;
    expect(error.error).toBe('invalid_client');
    expect(error.errorDescription).toBe('unknown secret [redacted] for this client');
    expect(deepInspect(error)).not.toContain('not-an-oauth-field');
  });
});

describe('response size limits', () => {
  it('a 600 MB Content-Length is refused at once as ERR_RESPONSE_TOO_LARGE, not "could not be reached"', async () => {
    const url = await endpoint((_, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(600 * MIB),
      });
      streamBytes(res, 600 * MIB);
    });
    const started = performance.now();
    const error = await failure(exchange(url));
    expect(error.code).toBe('ERR_RESPONSE_TOO_LARGE');
    expect(error).toMatchObject({ status: 200, limit: MAX_JSON_BYTES });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('a 256 MB chunked token response is cut at 64 KiB: fast, and RSS stays put', async () => {
    const url = await endpoint((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"');
      streamBytes(res, 256 * MIB);
    });
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const error = await failure(exchange(url));
    expect(error.code).toBe('ERR_RESPONSE_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(3000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(48 * MIB);
  });

  it('a 256 MB error body is not read: the status still speaks (a 503 stays retryable)', async () => {
    const url = await endpoint((_, res) => {
      res.writeHead(503, { 'content-type': 'text/html', 'retry-after': '1' });
      streamBytes(res, 256 * MIB);
    });
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const error = (await failure(exchange(url))) as TokenEndpointError;
    expect(error.code).toBe('ERR_TOKEN_ENDPOINT');
    expect(error).toMatchObject({ status: 503, retryAfter: 1, error: undefined });
    expect(error.message).toContain(`over ${MAX_ERROR_BYTES} bytes`);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(48 * MIB);
  });

  it('a body of exactly the limit is read', async () => {
    const token = 'A'.repeat(MAX_JSON_BYTES - '{"access_token":"","token_type":"bearer"}'.length);
    const url = await endpoint((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"access_token":"${token}","token_type":"bearer"}`);
    });
    expect((await exchange(url)).accessToken).toBe(token);
  });
});

describe('timers', () => {
  it('leaves no timer running after requests end, whatever the timeout', async () => {
    const url = await endpoint((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token":"abc","token_type":"bearer"}');
    });
    const timers = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    for (let i = 0; i < 5; i++) await exchange(url, 600_000);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
