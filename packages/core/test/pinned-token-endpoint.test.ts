// Pins what exchangeAssertion sends and how it words a refusal: the request's method, headers and
// form fields, and the message, fields and Retry-After of a TokenEndpointError; and how
// readTokenResponse words each refusal of a 2xx body and reads expires_in and exp. Found by
// mutation testing (`pnpm mutation`).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenEndpointError } from '../src/errors.js';
import { createHttpClient, MAX_ERROR_BYTES } from '../src/http.js';
import {
  exchangeAssertion,
  JWT_BEARER_GRANT_TYPE,
  readTokenResponse,
} from '../src/token-endpoint.js';

const clientSecret = `s3cr+t/${crypto.randomUUID()}`;
const assertion = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.${crypto.randomUUID()}`;
const NOW = Date.UTC(2026, 0, 1, 12);
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface Seen {
  method: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A token endpoint that records each request and answers `status`, `headers` and `body`. */
async function endpoint(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    seen.push({ method: req.method, headers: req.headers, body: text });
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, seen };
}

function exchange(url: string) {
  return exchangeAssertion(createHttpClient({ timeout: 5000 }), {
    tokenEndpoint: url,
    clientId: 'the-client',
    clientSecret,
    assertion,
    fallbackExpiresIn: 600,
    now: NOW,
  });
}

async function refusal(url: string): Promise<TokenEndpointError> {
  const error = await exchange(url).then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenEndpointError);
  expect((error as TokenEndpointError).code).toBe('ERR_TOKEN_ENDPOINT');
  expectNoLeaks(error, { clientSecret, assertion });
  return error as TokenEndpointError;
}

describe('exchangeAssertion', () => {
  it('POSTs the four form fields, asking for JSON', async () => {
    const { url, seen } = await endpoint(
      200,
      '{"access_token":"tok","token_type":"bearer","expires_in":120}',
    );
    expect(await exchange(url)).toEqual({ accessToken: 'tok', expiresIn: 120 });
    expect(seen).toHaveLength(1);
    const [request] = seen as [Seen];
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.accept).toBe('application/json');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      grant_type: JWT_BEARER_GRANT_TYPE,
      client_id: 'the-client',
      client_secret: clientSecret,
      assertion,
    });
    expect(JWT_BEARER_GRANT_TYPE).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
  });

  it('words a refusal with its error and description', async () => {
    const { url } = await endpoint(
      400,
      JSON.stringify({ error: 'invalid_grant', error_description: 'assertion expired' }),
    );
    const error = await refusal(url);
    expect(error.message).toBe(
      'The token endpoint refused the request (HTTP 400, invalid_grant: assertion expired)',
    );
    expect(error).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      errorDescription: 'assertion expired',
      retryAfter: undefined,
    });
    expect(error.response.status).toBe(400);
  });

  it('words a refusal with an error and no description, or fields that are not strings', async () => {
    const bare = await refusal((await endpoint(401, '{"error":"invalid_client"}')).url);
    expect(bare.message).toBe('The token endpoint refused the request (HTTP 401, invalid_client)');
    expect(bare.errorDescription).toBeUndefined();
    const odd = await refusal((await endpoint(400, '{"error":42,"error_description":["x"]}')).url);
    expect(odd.message).toBe('The token endpoint refused the request (HTTP 400, no OAuth error)');
    expect(odd.error).toBeUndefined();
    expect(odd.errorDescription).toBeUndefined();
  });

  it('keeps a description that comes without an error code', async () => {
    const error = await refusal((await endpoint(400, '{"error_description":"try later"}')).url);
    expect(error).toMatchObject({ error: undefined, errorDescription: 'try later' });
    expect(error.message).toBe('The token endpoint refused the request (HTTP 400, no OAuth error)');
  });

  it('words a refusal without an OAuth body, and one whose body was too long to read', async () => {
    const html = await refusal((await endpoint(502, '<html>Bad gateway</html>')).url);
    expect(html.message).toBe('The token endpoint refused the request (HTTP 502, no OAuth error)');
    expect(html.status).toBe(502);
    const huge = await refusal((await endpoint(503, 'x'.repeat(MAX_ERROR_BYTES + 1))).url);
    expect(huge.message).toBe(
      `The token endpoint refused the request (HTTP 503, an error body over ${MAX_ERROR_BYTES} bytes, not read)`,
    );
  });

  it('reads Retry-After against the server clock it was given', async () => {
    const seconds = await refusal(
      (await endpoint(429, '{"error":"slow_down"}', { 'retry-after': '7' })).url,
    );
    expect(seconds.retryAfter).toBe(7);
    const date = await refusal(
      (await endpoint(503, '{}', { 'retry-after': new Date(NOW + 20_000).toUTCString() })).url,
    );
    expect(date.retryAfter).toBe(20);
  });
});

describe('readTokenResponse', () => {
  const params = { fallbackExpiresIn: 600, now: NOW };
  const body = (fields: Record<string, unknown>) =>
    JSON.stringify({ access_token: 'tok', token_type: 'bearer', ...fields });

  /** An unsigned JWT-shaped token whose payload is `payload`, as written. */
  const jwt = (payload: string) =>
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}.sig`;

  it('names what is wrong with a 2xx body, never quoting it', () => {
    const refusals: Array<[string, string]> = [
      ['{"access_token":', 'a body that is not JSON'],
      ['<html>', 'a body that is not JSON'],
      ['[]', 'a body that is not a JSON object'],
      ['null', 'a body that is not a JSON object'],
      [body({ access_token: undefined }), 'no access_token'],
      [body({ access_token: '' }), 'no access_token'],
      [body({ access_token: 42 }), 'no access_token'],
      [
        body({ access_token: 'abc\r\nX-Injected: yes' }),
        'an access_token with characters outside RFC 6750 b64token (A-Z a-z 0-9 - . _ ~ + / and trailing =)',
      ],
      [body({ token_type: 'mac' }), 'a token_type other than bearer'],
      [body({ token_type: '' }), 'a token_type other than bearer'],
      [body({ token_type: undefined }), 'no token_type'],
      [body({ token_type: 7 }), 'no token_type'],
      [body({ expires_in: 0 }), 'an expires_in that is not a positive number of seconds'],
    ];
    for (const [text, what] of refusals) {
      expect(() => readTokenResponse(text, params), text).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_TOKEN_RESPONSE',
          message: `The token endpoint answered 2xx with ${what}`,
        }),
      );
    }
  });

  it('reads expires_in written with several decimals', () => {
    expect(readTokenResponse(body({ expires_in: '1.25' }), params).expiresIn).toBe(1.25);
    expect(readTokenResponse(body({ expires_in: '90.125' }), params).expiresIn).toBe(90.125);
  });

  it('falls back when the token’s exp is a number but not a finite one', () => {
    // JSON has no Infinity, but 1e400 parses as one.
    for (const exp of ['1e400', '-1e400']) {
      const token = jwt(`{"exp":${exp}}`);
      expect(readTokenResponse(body({ access_token: token }), params).expiresIn, exp).toBe(600);
    }
    // The same shape with a finite exp is read, so the token above was decoded.
    const finite = jwt(`{"exp":${NOW / 1000 + 900}}`);
    expect(readTokenResponse(body({ access_token: finite }), params).expiresIn).toBe(900);
  });
});
