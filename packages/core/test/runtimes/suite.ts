/**
 * The core's shared suite: the same checks run in workerd, Deno and Bun by the thin runners
 * beside this file (`run-*.ts`), against the built `@drillster-auth/core` and a mock Drillster
 * server on loopback. Framework-free on purpose, so it needs nothing but the runtime.
 */
import {
  createDrillsterAuth,
  type DrillsterAuthOptions,
  KeyFileError,
  parseServiceAccountKey,
  TokenEndpointError,
} from '@drillster-auth/core';
import { detectRuntime, type SuiteEnv } from './env.js';

/** What a run reports: how many checks passed and which failed, with why. */
export interface SuiteResult {
  runtime: string;
  passed: number;
  failed: { name: string; error: string }[];
  /** Token requests the suite made, counted at its `fetch`; the runner compares it with the mock's count. */
  tokenRequests: number;
}

/**
 * The example key from Drillster's service-account documentation. It is corrupt: its
 * RSAPrivateKey has a BIT STRING where the modulus INTEGER belongs.
 */
const REFERENCE_KEY_FILE = JSON.stringify({
  privateKey:
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAxIBAQCQbJx3YdmaXAtJ\nOvPHEZ1H2NZBgBHmcZDCjFFX2pDpG1WFgEIgxLiOKWehKNuqh7wFG3udXwCFqeRZ\nd8qu+ISe7/9XyWuyUagpLyYo+9c6S55lViZg7nPgQI1TrPlv5ApzIIgUNJFqe/jj\n1rAkdpgbudC112Z3cWikIl+kBbhexZwovp/hA3wJ1uvtZYkyFIfJwC6HZxVJSyYk\n73qS7Sb0RPM6K5zuvYKnb7KgeUOsVWdg/xo0WVwwVsHiHjBv7w+tcJU3yq753+MH\ndqfZe3lbmQpsBA4b+ov7wB1SN++v34mtceGvn9BX1xNQ+lq15iSCcxMZLDCmBVM2\nwCzfoWRNAgMBAAECggEAIef9y+FDDwQw+h5HASNXg3iaxIHmse1TiPkcV73Oa4up\nRlBYNg05Ltb1p1ZKS/zV3XUYTlfxbW/3VjHTecSKji3WCqwVBqY5DoItOU32t47q\n5eeV1wfkWG+PPmfLn8Mv2Nt4VxYIVbGJOyQ58jWNfGThZO+O9NfBM1eGkKFvKYBs\nkYoWKQDaf5ujGLpFrL5sOFM2tReXBR1Rfa0Oa8BhkQqke/D4qbzVVTPL+uOKicyL\nroWtERxGguvLW5HMGJYDhNTJh5GkkdTBk2aD9UIRq9cISxEX32Xj+1sNZvkvBIG7\n7Iz/I3L6XUEx0HF/SAuWWxbaDAcOYiRJxdd3SKIZWQKBgQDRAvApllm0SBe1b6br\nxGDnTjuSmDO55OeqbSiwDJv0dcbhH+OsS+by/2IYInJ/JFDT3rwYQRtRum8O+Aq4\nbTGNckiiBM0llvXLbm59CpMtbRlEpeypISEKJ47QF96h+eXaVZPqwL7PCFAINxxh\neGoT8wWYniwVw/LSN2+P7b17YwKBgQCw5IoVNFnKaUtdJysXXzD3H5VDgyUt24PA\nfCKRRlhuAMS5xpkxP4xE4ecuoU7a8A6Z6d0eycpGxZkxnEnZVu3kSMtmkIu6HNgh\n6TpcD90ZnkoxwYrqpTtaE01GZ9yua0GF15Gh3qNHhXGP2Vq70YUCcIbIiKApGxCK\nvs2uvxYojwKBgHirlpacDExOdwm0XY2vAjdo7nHzV6HSq4G0phIGJaAcw2bEL4ER\nDVRr52mBsdL/136LENN7+1bTKT1eLWpO+JXuTkrkNMCoCF6b8kRU76YBX95HYXw/\n+UBQmF5B+bJQgcjtMYoOH9uNtA8aKlOH3s6Ht0pmv5MNX0rI4KsbGhN7AoGAWYvX\nutQ9gBG9bPKfBb3Sc8cxMHP7JjOxhodQmGob6dPJwqGeeyfIQjZ5aUmPOZW8Tn3s\nyeEs3Ja67jpHyBYRZzbSgKE7moNvhfsi5+e/7XAL7xQi1pW+beLHg5SgSktRaAew\nWVjzHwmWa1OEcv+lbY65LFq9eRGSViowxP1GolECgYEAynb4EwAA4LkqIzYl2CRF\nAz8k7cU71Uusas2W3bKh8N2MsHelXD4yNFYsSTfxkmfmaGfbpaZ8pOFxIiQYWzeU\n5rc5VHzUBBzNZYfnjfJzI4zjXlEw2KYrudBTdRuQiDcgIupxUid/V+pS81sTvC2C\nCz8P0jVCGDa8f4ZiTB/Qb8o=\n-----END PRIVATE KEY-----',
  keyId: 'cf9f895ff1f64e2f9ceea45074f56c52',
  serviceAccountId: 'iqKpEF3URCe0yAsyrsk_4g',
});

class AssertionFailed extends Error {}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}

function assertEqual<T>(actual: T, expected: T, what: string): void {
  assert(
    Object.is(actual, expected),
    `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

/** The error `promise` rejects with; fails if it fulfils. */
async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new AssertionFailed(`${what} should have failed`);
}

function thrown(fn: () => unknown, what: string): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new AssertionFailed(`${what} should have thrown`);
}

/** Runs every check once and reports; never throws. */
export async function run(env: SuiteEnv): Promise<SuiteResult> {
  const checks: { name: string; fn: () => Promise<void> | void }[] = [];
  const test = (name: string, fn: () => Promise<void> | void) => checks.push({ name, fn });

  let tokenRequests = 0;
  const countingFetch: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url === env.tokenEndpoint) tokenRequests += 1;
    return fetch(input, init);
  };
  const options = (extra: Partial<DrillsterAuthOptions> = {}): DrillsterAuthOptions => ({
    key: env.keyFile,
    clientId: env.clientId,
    clientSecret: env.clientSecret,
    issuer: env.issuer,
    retry: false,
    fetch: countingFetch,
    ...extra,
  });
  const callApi = async (path: string, accessToken: string) => {
    const response = await fetch(`${env.apiBaseUrl}${path}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const file = JSON.parse(env.keyFile) as { keyId: string; serviceAccountId: string };
  const auth = createDrillsterAuth(options());

  test('runs in the runtime the runner names', () => {
    assertEqual(detectRuntime(), env.runtime, 'detected runtime');
  });

  if (env.runtime === 'workerd') {
    test('has no Node globals (nodejs_compat is off)', () => {
      const global = globalThis as Record<string, unknown>;
      assertEqual(typeof global.Buffer, 'undefined', 'typeof Buffer');
      assertEqual(typeof global.process, 'undefined', 'typeof process');
    });
  }

  test('parses the key file', () => {
    const key = parseServiceAccountKey(env.keyFile);
    assertEqual(key.keyId, file.keyId, 'keyId');
    assertEqual(key.serviceAccountId, file.serviceAccountId, 'serviceAccountId');
    assert(key.modulusLength >= 2048, `modulusLength ${key.modulusLength}`);
    assert(!JSON.stringify(key).includes('PRIVATE KEY'), 'JSON.stringify shows the private key');
  });

  test('rejects the corrupt reference key with ERR_KEY_FILE_MALFORMED_KEY', () => {
    const error = thrown(() => parseServiceAccountKey(REFERENCE_KEY_FILE), 'parsing');
    assert(error instanceof KeyFileError, `not a KeyFileError: ${String(error)}`);
    assertEqual(error.code, 'ERR_KEY_FILE_MALFORMED_KEY', 'code');
    assertEqual(error.field, 'privateKey', 'field');
    assert(!error.message.includes('MIIEvQ'), 'the message quotes key material');
  });

  test('discovers the token endpoint from the issuer', async () => {
    assertEqual(await auth.getTokenEndpoint(), env.tokenEndpoint, 'token endpoint');
  });

  test('gets a token and calls the API with it', async () => {
    const before = tokenRequests;
    const token = await auth.getAccessToken();
    assertEqual(tokenRequests - before, 1, 'token requests');
    assertEqual(token.tokenType, 'Bearer', 'tokenType');
    assertEqual(token.subject, file.serviceAccountId, 'subject');
    assert(token.expiresAt > Date.now(), 'the token is already expired');
    assert(!JSON.stringify(token).includes(token.accessToken), 'JSON.stringify shows the token');
    const { status, body } = await callApi('user', token.accessToken);
    assertEqual(status, 200, 'GET user status');
    assertEqual(body.id, file.serviceAccountId, 'GET user id');
  });

  test('a cached token is served without a token request', async () => {
    const first = await auth.getAccessToken();
    const before = tokenRequests;
    const second = await auth.getAccessToken();
    assertEqual(second.accessToken, first.accessToken, 'token');
    assertEqual(tokenRequests, before, 'token requests');
  });

  test('gets a token for a managed user', async () => {
    const token = await auth.getAccessToken({ subject: env.managedUserId });
    assertEqual(token.subject, env.managedUserId, 'subject');
    const { status, body } = await callApi('user', token.accessToken);
    assertEqual(status, 200, 'GET user status');
    assertEqual(body.id, env.managedUserId, 'GET user id');
  });

  test('20 concurrent callers share one token request', async () => {
    const fresh = createDrillsterAuth(options());
    await fresh.getTokenEndpoint();
    const before = tokenRequests;
    const tokens = await Promise.all(Array.from({ length: 20 }, () => fresh.getAccessToken()));
    assertEqual(tokenRequests - before, 1, 'token requests');
    assertEqual(new Set(tokens.map((token) => token.accessToken)).size, 1, 'distinct tokens');
  });

  test('an unknown client fails with ERR_TOKEN_ENDPOINT invalid_client', async () => {
    const secret = 'not-the-client-secret';
    const wrong = createDrillsterAuth(options({ clientSecret: secret }));
    const error = await rejection(wrong.getAccessToken(), 'getAccessToken');
    assert(error instanceof TokenEndpointError, `not a TokenEndpointError: ${String(error)}`);
    assertEqual(error.code, 'ERR_TOKEN_ENDPOINT', 'code');
    assertEqual(error.error, 'invalid_client', 'error');
    assertEqual(error.status, 401, 'status');
    assert(!error.message.includes(secret), 'the message shows the client secret');
    assert(!JSON.stringify(error).includes(secret), 'JSON.stringify shows the client secret');
  });

  const result: SuiteResult = { runtime: env.runtime, passed: 0, failed: [], tokenRequests: 0 };
  for (const check of checks) {
    try {
      await check.fn();
      result.passed += 1;
    } catch (error) {
      const message =
        error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`;
      result.failed.push({ name: check.name, error: message });
    }
  }
  auth.close();
  result.tokenRequests = tokenRequests;
  return result;
}
