// Pins how src/http.ts reads an answer and what it keeps of a runtime failure, beyond what the
// behaviour tests decide: a body announced over the limit is refused before it is read, one of
// exactly the limit is read, a body-less 204 is empty text, 599 is a status like any other, and
// the runtime's error is copied with its code (string or number, enumerable), a message cut at
// 300 characters, at most 8 causes deep. Found by mutation testing (`pnpm mutation`).
//
// HTTP behaviour comes from the mock server on loopback (a plain Node server where the mock cannot
// answer that way: a 204); a hand-made `fetch` only stands in for what no server can produce, a
// runtime error of a given shape or a body stream that fails with something not an Error.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { type RunningMockDrillster, startMockDrillster } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DrillsterAuthError,
  type NetworkError,
  ResponseTooLargeError,
  TokenResponseError,
} from '../src/errors.js';
import { createHttpClient, MAX_ERROR_BYTES, MAX_JSON_BYTES } from '../src/http.js';
import { exchangeAssertion } from '../src/token-endpoint.js';

let server: RunningMockDrillster;
const http = createHttpClient({ timeout: 10_000 });
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await startMockDrillster();
});

afterAll(async () => {
  await server.close();
});

afterEach(async () => {
  server.mock.clearFaults();
  server.mock.resetStats();
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A POST to the mock's token endpoint, answered by the fault injected before it. */
function post(client = http) {
  return client.request(server.tokenEndpoint, { method: 'POST', body: '' }, undefined);
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

/** A client whose fetch rejects with `error`, as the runtime would for a failed connection. */
function failingWith(error: unknown) {
  return createHttpClient({
    timeout: 10_000,
    fetch: (() => Promise.reject(error)) as typeof fetch,
  });
}

/** The `cause` of the ERR_NETWORK that a fetch rejecting with `error` ends in. */
async function causeOf(error: unknown): Promise<Error & { code?: unknown }> {
  const network = (await failure(post(failingWith(error)))) as NetworkError;
  expect(network.code).toBe('ERR_NETWORK');
  expect(network.message).toBe(`${server.tokenEndpoint} could not be reached`);
  expect(network.cause).toBeInstanceOf(Error);
  return network.cause as Error & { code?: unknown };
}

describe('body limits', () => {
  it('refuses a body whose Content-Length is over the limit without reading it', async () => {
    // Announced one byte over, then cut after 1 KiB: a client that read on would see the cut.
    server.mock.injectFault({ body: '', bodyBytes: MAX_JSON_BYTES + 1, closeAfterBytes: 1024 });
    const tooLarge = await failure(post());
    expect(tooLarge).toBeInstanceOf(ResponseTooLargeError);
    expect(tooLarge).toMatchObject({ status: 200, limit: MAX_JSON_BYTES });

    server.mock.injectFault({
      status: 503,
      body: '',
      bodyBytes: MAX_ERROR_BYTES + 1,
      closeAfterBytes: 100,
    });
    const { response, text } = await post();
    expect(response.status).toBe(503);
    expect(text).toBeUndefined();
  });

  it('reads a body whose Content-Length is exactly the limit', async () => {
    const filler = '{"access_token":"","token_type":"bearer"}'.length;
    const json = `{"access_token":"${'A'.repeat(MAX_JSON_BYTES - filler)}","token_type":"bearer"}`;
    expect(json).toHaveLength(MAX_JSON_BYTES);
    server.mock.injectFault({ body: json, bodyBytes: MAX_JSON_BYTES });
    const ok = await post();
    expect(ok.response.headers.get('content-length')).toBe(String(MAX_JSON_BYTES));
    expect(ok.text).toBe(json);

    const error = JSON.stringify({ error: 'invalid_request', error_description: '' });
    const page = error.replace('""', `"${'x'.repeat(MAX_ERROR_BYTES - error.length)}"`);
    expect(page).toHaveLength(MAX_ERROR_BYTES);
    server.mock.injectFault({ status: 400, body: page, bodyBytes: MAX_ERROR_BYTES });
    const refused = await post();
    expect(refused.response.headers.get('content-length')).toBe(String(MAX_ERROR_BYTES));
    expect(refused.text).toBe(page);
  });
});

describe('statuses', () => {
  it('gives a 204 without a body as empty text, which a token response refuses as not JSON', async () => {
    const noContent = createServer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    await new Promise<void>((resolve) => noContent.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise((resolve) => {
          noContent.closeAllConnections();
          noContent.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(noContent.address() as AddressInfo).port}/token`;
    const { response, text } = await http.request(url, { method: 'POST', body: '' }, undefined);
    expect(response.status).toBe(204);
    expect(text).toBe('');

    const refused = await failure(
      exchangeAssertion(http, {
        tokenEndpoint: url,
        clientId: 'client',
        clientSecret: 'secret',
        assertion: 'a.b.c',
        fallbackExpiresIn: 600,
        now: Date.now(),
      }),
    );
    expect(refused).toBeInstanceOf(TokenResponseError);
    expect(refused).toMatchObject({
      code: 'ERR_INVALID_TOKEN_RESPONSE',
      message: 'The token endpoint answered 2xx with a body that is not JSON',
    });
  });

  it('keeps a 599 with its headers, as for any other status up to 599', async () => {
    server.mock.injectFault({ status: 599, retryAfter: 3 });
    const { response, text } = await post();
    expect(response.status).toBe(599);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(JSON.parse(text ?? '')).toMatchObject({ error: 'temporarily_unavailable' });
  });
});

describe('what a runtime error leaves in the cause', () => {
  it('its code, as an own enumerable property (so a logged error shows it)', async () => {
    const gone = await startMockDrillster();
    const url = gone.tokenEndpoint;
    await gone.close();
    const error = await failure(http.request(url, { method: 'POST', body: '' }, undefined));
    expect(error.code).toBe('ERR_NETWORK');
    const cause = error.cause as Error;
    expect(Object.getOwnPropertyDescriptor(cause, 'code')).toMatchObject({
      value: 'ECONNREFUSED',
      enumerable: true,
    });
    expect(inspect(error)).toContain("code: 'ECONNREFUSED'");
  });

  it('a string or number code as it was; any other code, or none, leaves no code property', async () => {
    const coded = (code: unknown) => Object.assign(new Error('failed'), { code });
    expect((await causeOf(coded('EPIPE'))).code).toBe('EPIPE');
    const numeric = await causeOf(coded(42));
    expect(numeric.code).toBe(42);
    expect(Object.getOwnPropertyDescriptor(numeric, 'code')?.enumerable).toBe(true);
    for (const code of [{ body: 'client_secret=s3cr3t' }, null, undefined, true]) {
      const cause = await causeOf(coded(code));
      expect(Object.hasOwn(cause, 'code'), String(code)).toBe(false);
    }
    expect(Object.hasOwn(await causeOf(new Error('failed')), 'code')).toBe(false);
  });

  it('its name, and its message cut at 300 characters', async () => {
    const long = Object.assign(new Error(`${'x'.repeat(300)}${'y'.repeat(700)}`), {
      name: 'SocketError',
    });
    const cause = await causeOf(long);
    expect(cause.name).toBe('SocketError');
    expect(cause.message).toBe('x'.repeat(300));
  });

  it('comes from at most 8 causes down the chain', async () => {
    // ofetch wraps what fetch threw (level 1) in its FetchError; the walk starts there.
    let deepest: Error | undefined;
    for (let level = 12; level >= 1; level--) {
      deepest = new Error(`level ${level}`, { cause: deepest });
    }
    expect((await causeOf(deepest)).message).toBe('level 8');
  });

  it('ends on a cause chain that loops', async () => {
    const looped = new Error('loops');
    looped.cause = looped;
    expect((await causeOf(looped)).message).toBe('loops');
  });

  it('is left out when a body fails with something that is not an Error', async () => {
    const client = createHttpClient({
      timeout: 10_000,
      fetch: (async () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.error('the stream broke');
            },
          }),
          { status: 200 },
        )) as typeof fetch,
    });
    const error = await failure(post(client));
    expect(error.code).toBe('ERR_NETWORK');
    expect(error.message).toBe(`${server.tokenEndpoint} broke off its answer`);
    expect(error.cause).toBeUndefined();
  });
});
