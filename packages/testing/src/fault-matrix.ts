import type { FaultOptions } from './types.js';

/**
 * The client options every {@link faultMatrix} case assumes: a 2 s timeout (short, yet far above
 * a token request on a machine with every core busy) and 3 attempts with short backoff, so the
 * whole matrix runs in seconds. A longer `Retry-After` than `maxDelay` (3 s) ends the retries.
 */
export const FAULT_MATRIX_CLIENT_OPTIONS = {
  /** Per request, in milliseconds. */
  timeout: 2000,
  retry: { attempts: 3, baseDelay: 10, maxDelay: 3000 },
} as const;

/** What a {@link FaultCase} must end in. */
export type FaultOutcome =
  /** A token that the mock verifies; `maxLifetime` (seconds) caps its remaining life when set. */
  | { token: true; maxLifetime?: number }
  /** A `DrillsterAuthError` with this `code` (and HTTP `status`, when given). */
  | { token: false; code: string; status?: number };

/** One row of the fault matrix. */
export interface FaultCase {
  /** What the server does, for the test's name. */
  name: string;
  /**
   * Faults to inject before the call, in order (a function for faults built from the clock,
   * such as a `Retry-After` HTTP date).
   */
  faults: () => FaultOptions[];
  expect: FaultOutcome;
  /** Token-endpoint requests the call makes: exactly this many (the attempt bound in action). */
  tokenRequests: number;
  /**
   * Metadata requests the call makes, for a client that discovers its endpoint from the issuer
   * (no `tokenEndpoint` option). Default 1. Cases whose faults have `endpoint: 'metadata'` only
   * make sense for such a client.
   */
  metadataRequests?: number;
}

const TOKEN_CHARS_BAD = [
  ['CR LF and a header', 'abc\r\nX-Injected: yes'],
  ['a space', 'abc def'],
  ['a quote', 'abc"def'],
  ['non-ASCII', 'tökén'],
  ['padding first', '=abc'],
  ['a NUL', 'abc\u0000'],
] as const;

const EXPIRES_IN_BAD = [
  ['0', '0'],
  ['negative', '-60'],
  ['a word', '"abc"'],
  ['an empty string', '""'],
  ['Infinity (1e400)', '1e400'],
  ['a boolean', 'true'],
  ['an object', '{}'],
] as const;

/** Each way a hostile server may spell an echoed value in an error body. */
const ECHO_ENCODINGS: Array<[string, (value: string) => string]> = [
  ['raw', (v) => JSON.stringify(v)],
  ['JSON-escaped with \\/', (v) => JSON.stringify(v).replaceAll('/', '\\/')],
  [
    '\\u-escaped',
    (v) =>
      `"${v.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`,
  ],
  ['double JSON-escaped', (v) => JSON.stringify(JSON.stringify(v))],
  ['url-encoded', (v) => JSON.stringify(encodeURIComponent(v))],
  ['form-encoded', (v) => JSON.stringify(new URLSearchParams({ x: v }).toString().slice(2))],
  ['base64', (v) => JSON.stringify(btoa(v))],
  [
    'base64url',
    (v) => JSON.stringify(btoa(v).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')),
  ],
];

function tokenBody(fields: string): FaultOptions {
  return { body: `{${fields}}` };
}

const MIB = 1024 * 1024;

/**
 * Faults a token endpoint or metadata server may throw at a client, each with the outcome a
 * correct client reaches under {@link FAULT_MATRIX_CLIENT_OPTIONS}. Run it through the core
 * client and through each adapter: inject `faults()` into a fresh mock, make one token call with
 * a fresh client, compare the outcome and the mock's `tokenRequests` / `metadataRequests`, and
 * scan every error and event for the client secret, the assertion and the private key.
 *
 * Cases that echo the request (`body` functions) quote the client secret and the assertion in
 * every encoding, so the leak scan has something to find.
 */
export const faultMatrix: readonly FaultCase[] = [
  ...[500, 502, 503, 504].map(
    (status): FaultCase => ({
      name: `HTTP ${status} once, then a token`,
      faults: () => [{ status }],
      expect: { token: true },
      tokenRequests: 2,
    }),
  ),
  {
    name: 'HTTP 503 on every attempt',
    faults: () => [{ status: 503, count: 3 }],
    expect: { token: false, code: 'ERR_TOKEN_ENDPOINT', status: 503 },
    tokenRequests: 3,
  },
  {
    name: 'HTTP 429 with Retry-After in seconds',
    faults: () => [{ status: 429, retryAfter: 1 }],
    expect: { token: true },
    tokenRequests: 2,
  },
  {
    name: 'HTTP 429 with Retry-After as an HTTP date',
    faults: () => [{ status: 429, retryAfter: new Date(Date.now() + 1000).toUTCString() }],
    expect: { token: true },
    tokenRequests: 2,
  },
  {
    name: 'HTTP 429 with a Retry-After longer than maxDelay',
    faults: () => [{ status: 429, retryAfter: 3600 }],
    expect: { token: false, code: 'ERR_TOKEN_ENDPOINT', status: 429 },
    tokenRequests: 1,
  },
  {
    name: 'HTTP 400 invalid_request (not retried)',
    faults: () => [{ status: 400 }],
    expect: { token: false, code: 'ERR_TOKEN_ENDPOINT', status: 400 },
    tokenRequests: 1,
  },
  {
    name: 'slower than the timeout once',
    faults: () => [{ delayMs: 5000 }],
    expect: { token: true },
    tokenRequests: 2,
  },
  {
    name: 'slower than the timeout on every attempt',
    faults: () => [{ delayMs: 5000, count: 3 }],
    expect: { token: false, code: 'ERR_TIMEOUT' },
    tokenRequests: 3,
  },
  {
    name: 'connection reset once',
    faults: () => [{ dropConnection: true }],
    expect: { token: true },
    tokenRequests: 2,
  },
  {
    name: 'connection reset on every attempt',
    faults: () => [{ dropConnection: true, count: 3 }],
    expect: { token: false, code: 'ERR_NETWORK' },
    tokenRequests: 3,
  },
  {
    name: 'connection cut mid-body (truncated response) on every attempt',
    faults: () => [
      { body: '{"access_token":"abc","token_type":"bearer"}', closeAfterBytes: 10, count: 3 },
    ],
    expect: { token: false, code: 'ERR_NETWORK' },
    tokenRequests: 3,
  },
  {
    name: 'truncated JSON',
    faults: () => [{ body: '{"access_token":"abc","token_ty' }],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: 'malformed JSON',
    faults: () => [{ body: "{access_token: 'abc', token_type: bearer}" }],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: 'a JSON array',
    faults: () => [{ body: '["abc"]' }],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: "an HTML error page (a proxy's 502), then a token",
    faults: () => [
      {
        status: 502,
        body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
        contentType: 'text/html',
      },
    ],
    expect: { token: true },
    tokenRequests: 2,
  },
  {
    name: 'an HTML page with 200',
    faults: () => [{ body: '<!doctype html><title>Sign in</title>', contentType: 'text/html' }],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: 'no access_token',
    faults: () => [tokenBody('"token_type":"bearer","expires_in":3600')],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: 'an empty access_token',
    faults: () => [tokenBody('"access_token":"","token_type":"bearer","expires_in":3600')],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: 'no token_type',
    faults: () => [tokenBody('"access_token":"abc","expires_in":3600')],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: 'token_type mac',
    faults: () => [{ tokenType: 'mac' }],
    expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
    tokenRequests: 1,
  },
  {
    name: 'a 256 MiB token response with Content-Length',
    faults: () => [{ body: '{"access_token":"', bodyBytes: 256 * MIB }],
    expect: { token: false, code: 'ERR_RESPONSE_TOO_LARGE' },
    tokenRequests: 1,
  },
  {
    name: 'a 256 MiB token response, chunked',
    faults: () => [{ body: '{"access_token":"', bodyBytes: 256 * MIB, chunked: true }],
    expect: { token: false, code: 'ERR_RESPONSE_TOO_LARGE' },
    tokenRequests: 1,
  },
  {
    name: 'a 256 MiB error body (HTTP 503, chunked), then a token',
    faults: () => [
      {
        status: 503,
        body: '<html>',
        bodyBytes: 256 * MIB,
        chunked: true,
        contentType: 'text/html',
      },
    ],
    expect: { token: true },
    tokenRequests: 2,
  },
  ...EXPIRES_IN_BAD.map(
    ([what, json]): FaultCase => ({
      name: `expires_in ${what}`,
      faults: () => [tokenBody(`"access_token":"abc","token_type":"bearer","expires_in":${json}`)],
      expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
      tokenRequests: 1,
    }),
  ),
  {
    name: 'expires_in 1e306 (clamped to a day)',
    faults: () => [tokenBody('"access_token":"abc","token_type":"bearer","expires_in":1e306')],
    expect: { token: true, maxLifetime: 86_400 },
    tokenRequests: 1,
  },
  ...TOKEN_CHARS_BAD.map(
    ([what, token]): FaultCase => ({
      name: `access_token with ${what}`,
      faults: () => [
        tokenBody(
          `"access_token":${JSON.stringify(token)},"token_type":"bearer","expires_in":3600`,
        ),
      ],
      expect: { token: false, code: 'ERR_INVALID_TOKEN_RESPONSE' },
      tokenRequests: 1,
    }),
  ),
  ...ECHO_ENCODINGS.map(
    ([what, encode]): FaultCase => ({
      name: `an error that echoes the client secret and the assertion (${what})`,
      faults: () => [
        {
          status: 400,
          body: (form) =>
            `{"error":"invalid_request","error_description":${encode(
              `client_secret=${form.get('client_secret')} assertion=${form.get('assertion')}`,
            )},"debug":${encode(form.get('client_secret') ?? '')}}`,
        },
      ],
      expect: { token: false, code: 'ERR_TOKEN_ENDPOINT', status: 400 },
      tokenRequests: 1,
    }),
  ),
  {
    name: 'metadata HTTP 503 once, then a token',
    faults: () => [{ endpoint: 'metadata', status: 503 }],
    expect: { token: true },
    tokenRequests: 1,
    metadataRequests: 2,
  },
  {
    name: 'metadata connection reset once, then a token',
    faults: () => [{ endpoint: 'metadata', dropConnection: true }],
    expect: { token: true },
    tokenRequests: 1,
    metadataRequests: 2,
  },
  {
    name: 'metadata HTTP 503 on every attempt',
    faults: () => [{ endpoint: 'metadata', status: 503, count: 3 }],
    expect: { token: false, code: 'ERR_DISCOVERY', status: 503 },
    tokenRequests: 0,
    metadataRequests: 3,
  },
  {
    name: 'metadata as malformed JSON',
    faults: () => [{ endpoint: 'metadata', body: '{"issuer":' }],
    expect: { token: false, code: 'ERR_DISCOVERY' },
    tokenRequests: 0,
    metadataRequests: 1,
  },
  {
    name: 'a 256 MiB metadata document, chunked',
    faults: () => [
      { endpoint: 'metadata', body: '{"issuer":"', bodyBytes: 256 * MIB, chunked: true },
    ],
    expect: { token: false, code: 'ERR_RESPONSE_TOO_LARGE' },
    tokenRequests: 0,
    metadataRequests: 1,
  },
];
