import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FAULT_MATRIX_CLIENT_OPTIONS,
  faultMatrix,
  type MockClient,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '../src/node.js';
import { assertionFor, tokenRequest } from './helpers.js';

let server: RunningMockDrillster;
let account: MockServiceAccount;
let client: MockClient;

beforeAll(async () => {
  server = await startMockDrillster();
  ({ account, client } = await server.provision());
});
afterEach(() => server.mock.clearFaults());
afterAll(() => server.close());

const send = async (claims?: Record<string, unknown>) =>
  tokenRequest(
    server.tokenEndpoint,
    client,
    await assertionFor(account, server.tokenEndpoint, { claims }),
  );

async function errorOf(response: Response): Promise<[number, string]> {
  return [response.status, ((await response.json()) as { error: string }).error];
}

describe('injectFault', () => {
  it('answers a status for `count` requests, with Retry-After, then recovers', async () => {
    server.mock.injectFault({ status: 503, count: 2, retryAfter: 7 });
    for (let i = 0; i < 2; i++) {
      const response = await send();
      expect(response.headers.get('retry-after')).toBe('7');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await errorOf(response)).toEqual([503, 'temporarily_unavailable']);
    }
    const response = await send();
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('queues faults in order', async () => {
    const date = 'Wed, 21 Oct 2065 07:28:00 GMT';
    server.mock.injectFault({ status: 500 });
    server.mock.injectFault({ status: 429, retryAfter: date });
    server.mock.injectFault({ status: 401 });
    expect(await errorOf(await send())).toEqual([500, 'server_error']);
    const limited = await send();
    expect(limited.headers.get('retry-after')).toBe(date);
    expect(await errorOf(limited)).toEqual([429, 'slow_down']);
    const unauthorized = await send();
    expect(unauthorized.headers.get('www-authenticate')).toBe('Basic realm="Drillster"');
    expect(await errorOf(unauthorized)).toEqual([401, 'invalid_client']);
    expect((await send()).status).toBe(200);
  });

  it('leaves the assertion unused when a fault answers, so a retry with it succeeds', async () => {
    const assertion = await assertionFor(account, server.tokenEndpoint);
    server.mock.injectFault({ status: 502 });
    expect((await tokenRequest(server.tokenEndpoint, client, assertion)).status).toBe(502);
    expect((await tokenRequest(server.tokenEndpoint, client, assertion)).status).toBe(200);
  });

  it('delays the answer', async () => {
    server.mock.injectFault({ delayMs: 300 });
    const started = performance.now();
    const response = await send();
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    const quick = performance.now();
    expect((await send()).status).toBe(200);
    expect(performance.now() - quick).toBeLessThan(290);
  });

  it('sends a raw body: malformed JSON, or an HTML error page with its status', async () => {
    server.mock.injectFault({ body: '{"access_token": "abc", ' });
    const malformed = await send();
    expect(malformed.status).toBe(200);
    expect(malformed.headers.get('content-type')).toBe('application/json');
    expect(await malformed.text()).toBe('{"access_token": "abc", ');

    server.mock.injectFault({
      status: 502,
      body: '<html><body>Bad Gateway</body></html>',
      contentType: 'text/html',
    });
    const html = await send();
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toBe('text/html');
    expect(await html.text()).toContain('Bad Gateway');
  });

  it('leaves out expires_in, so the client must read the token’s exp', async () => {
    server.mock.injectFault({ omitExpiresIn: true });
    const body = (await (await send()).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('expires_in');
    const { exp } = decodeJwt(body.access_token as string);
    expect(Math.abs(exp! - (Date.now() / 1000 + 3600))).toBeLessThan(5);
  });

  it('sends another token_type', async () => {
    server.mock.injectFault({ tokenType: 'Bearer', count: 1 });
    expect(((await (await send()).json()) as { token_type: string }).token_type).toBe('Bearer');
    expect(((await (await send()).json()) as { token_type: string }).token_type).toBe('bearer');
  });

  it('drops the connection, then answers the next request', async () => {
    server.mock.injectFault({ dropConnection: true });
    await expect(send()).rejects.toThrow(TypeError);
    expect((await send()).status).toBe(200);
    expect(server.mock.stats.tokenRequests).toBeGreaterThan(0);
  });

  it('refuses impossible faults', () => {
    expect(() => server.mock.injectFault({ status: 99 })).toThrow(RangeError);
    expect(() => server.mock.injectFault({ status: 200 })).toThrow(/needs a body/);
    expect(() => server.mock.injectFault({ count: 0 })).toThrow(RangeError);
    expect(() => server.mock.injectFault({ delayMs: -1 })).toThrow(RangeError);
    expect(() => server.mock.injectFault({ status: 503, durationMs: 0 })).toThrow(RangeError);
    expect(() => server.mock.injectFault({ status: 503, durationMs: 10, count: 2 })).toThrow(
      /exclude each other/,
    );
  });
});

describe('durationMs (an outage)', () => {
  let now = Date.UTC(2030, 0, 1);
  let timed: RunningMockDrillster;
  let timedAccount: MockServiceAccount;
  let timedClient: MockClient;
  beforeAll(async () => {
    timed = await startMockDrillster({ clock: () => now });
    ({ account: timedAccount, client: timedClient } = await timed.provision());
  });
  afterAll(() => timed.close());
  const sendTimed = async () =>
    tokenRequest(
      timed.tokenEndpoint,
      timedClient,
      await assertionFor(timedAccount, timed.tokenEndpoint, {
        claims: { iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 300 },
      }),
    );

  it('starts with the first request that takes it and answers every request until it ends, by the server clock', async () => {
    timed.mock.injectFault({ delayMs: 0 }); // the first request passes
    timed.mock.injectFault({ status: 503, durationMs: 10_000 });
    expect((await sendTimed()).status).toBe(200);
    now += 60_000; // the outage has not started: no request has taken it yet
    const started = now;
    for (const at of [0, 1, 5000, 9999]) {
      now = started + at;
      expect(await errorOf(await sendTimed())).toEqual([503, 'temporarily_unavailable']);
    }
    now = started + 10_000;
    expect((await sendTimed()).status).toBe(200);
    expect((await sendTimed()).status).toBe(200);
    expect(timed.mock.stats.tokenRequests).toBe(7);
  });

  it('drops connections for its duration, then gives way to the next queued fault', async () => {
    timed.mock.injectFault({ dropConnection: true, durationMs: 1000 });
    timed.mock.injectFault({ status: 500 });
    const started = now;
    await expect(sendTimed()).rejects.toThrow(TypeError);
    now = started + 999;
    await expect(sendTimed()).rejects.toThrow(TypeError);
    now = started + 1000;
    expect(await errorOf(await sendTimed())).toEqual([500, 'server_error']);
    expect((await sendTimed()).status).toBe(200);
  });
});

describe('bodies for the fault matrix', () => {
  const metadataUrl = () => `${server.url}/.well-known/oauth-authorization-server`;

  it('echoes the request form through a body function', async () => {
    server.mock.injectFault({
      status: 400,
      body: (form) => JSON.stringify({ error: 'invalid_request', echo: form.get('client_secret') }),
    });
    const response = await send();
    expect(response.status).toBe(400);
    expect(((await response.json()) as { echo: string }).echo).toBe(client.clientSecret);
  });

  it('streams a huge body chunk by chunk, with Content-Length unless chunked', async () => {
    const bytes = 64 * 1024 * 1024;
    server.mock.injectFault({ body: '{"access_token":"', bodyBytes: bytes });
    const sized = await send();
    expect(sized.headers.get('content-length')).toBe(String(bytes));
    const reader = sized.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value!.subarray(0, 20))).toBe('{"access_token":"AAA');
    await reader.cancel();

    server.mock.injectFault({ bodyBytes: 300_000, chunked: true });
    const chunked = await send();
    expect(chunked.headers.get('content-length')).toBeNull();
    expect(chunked.headers.get('transfer-encoding')).toBe('chunked');
    expect((await chunked.arrayBuffer()).byteLength).toBe(300_000);
    expect((await send()).status).toBe(200);
  });

  it('cuts the connection mid-body', async () => {
    server.mock.injectFault({
      body: '{"access_token":"abc","token_type":"bearer"}',
      closeAfterBytes: 10,
    });
    const response = await send();
    expect(response.headers.get('content-length')).toBe('44');
    await expect(response.text()).rejects.toThrow(TypeError);
    expect((await send()).status).toBe(200);
  });

  it('applies metadata faults to the metadata route only, and counts its requests', async () => {
    server.mock.resetStats();
    server.mock.injectFault({ endpoint: 'metadata', status: 503, retryAfter: 1 });
    expect((await send()).status).toBe(200);
    const unavailable = await fetch(metadataUrl());
    expect([unavailable.status, unavailable.headers.get('retry-after')]).toEqual([503, '1']);
    const metadata = await fetch(metadataUrl());
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(server.issuer);
    expect(server.mock.stats.metadataRequests).toBe(2);
    expect(server.mock.stats.tokenRequests).toBe(1);
  });

  it('applies API faults to the API only: a 401 refuses a valid token, a 503 is an outage', async () => {
    server.mock.resetStats();
    const token = ((await (await send()).json()) as { access_token: string }).access_token;
    const user = () =>
      fetch(`${server.apiBaseUrl}user`, { headers: { authorization: `Bearer ${token}` } });
    server.mock.injectFault({ endpoint: 'api', status: 401 });
    server.mock.injectFault({ endpoint: 'api', status: 503 });
    expect((await send()).status).toBe(200);
    const refused = await user();
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await errorOf(await user())).toEqual([503, 'temporarily_unavailable']);
    expect((await user()).status).toBe(200);
    expect(server.mock.stats).toMatchObject({ apiRequests: 3, apiRejections: 1, tokenRequests: 2 });
  });

  it('faultMatrix: every case injects, names a unique outcome and an attempt bound', () => {
    const names = new Set<string>();
    for (const fault of faultMatrix) {
      expect(names.has(fault.name)).toBe(false);
      names.add(fault.name);
      for (const injected of fault.faults()) server.mock.injectFault(injected);
      server.mock.clearFaults();
      expect(fault.tokenRequests).toBeLessThanOrEqual(FAULT_MATRIX_CLIENT_OPTIONS.retry.attempts);
      if (!fault.expect.token) expect(fault.expect.code).toMatch(/^ERR_[A-Z_]+$/);
    }
    expect(faultMatrix.length).toBeGreaterThan(40);
  });

  it('refuses impossible bodies', () => {
    expect(() => server.mock.injectFault({ bodyBytes: -1 })).toThrow(RangeError);
    expect(() => server.mock.injectFault({ closeAfterBytes: 1.5 })).toThrow(RangeError);
    expect(() => server.mock.injectFault({ endpoint: 'elsewhere' as 'token' })).toThrow(RangeError);
  });
});

describe('dateOffsetMs', () => {
  const tenMinutes = 600_000;

  it('shifts Date and the clock assertions are checked against until clearFaults', async () => {
    server.mock.injectFault({ dateOffsetMs: tenMinutes });
    for (let i = 0; i < 3; i++) {
      // The client believes its 5-minute assertion is fresh; to the server it expired.
      const response = await send();
      const date = Date.parse(response.headers.get('date')!);
      expect(Math.abs(date - (Date.now() + tenMinutes))).toBeLessThan(2000);
      const { error, error_description } = (await response.json()) as Record<string, string>;
      expect([response.status, error]).toEqual([400, 'invalid_grant']);
      expect(error_description).toMatch(/expired at/);
    }
    // Other routes share the shifted clock.
    const metadata = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    expect(
      Math.abs(Date.parse(metadata.headers.get('date')!) - Date.now() - tenMinutes),
    ).toBeLessThan(2000);

    // An assertion made with the server's clock is accepted, and its token carries that clock.
    const serverSeconds = Math.floor((Date.now() + tenMinutes) / 1000);
    const adjusted = await send({ iat: serverSeconds, exp: serverSeconds + 300 });
    expect(adjusted.status).toBe(200);
    const { access_token } = (await adjusted.json()) as { access_token: string };
    expect(decodeJwt(access_token).iat).toBeGreaterThanOrEqual(serverSeconds);
    expect(await server.mock.verifyAccessToken(access_token)).toBeDefined();

    server.mock.clearFaults();
    const after = await send();
    expect(after.status).toBe(200);
    expect(Math.abs(Date.parse(after.headers.get('date')!) - Date.now())).toBeLessThan(2000);
  });

  it('a negative offset makes a one-hour assertion too long', async () => {
    server.mock.injectFault({ dateOffsetMs: -tenMinutes });
    const now = Math.floor(Date.now() / 1000);
    const response = await send({ exp: now + 3600 });
    const { error_description } = (await response.json()) as Record<string, string>;
    expect(response.status).toBe(400);
    expect(error_description).toMatch(/more than 3600 seconds/);
  });

  it('stands beside queued faults', async () => {
    server.mock.injectFault({ dateOffsetMs: tenMinutes });
    server.mock.injectFault({ status: 503 });
    const unavailable = await send();
    expect(unavailable.status).toBe(503);
    expect(Date.parse(unavailable.headers.get('date')!)).toBeGreaterThan(
      Date.now() + tenMinutes - 2000,
    );
    expect((await send()).status).toBe(400);
  });

  it('with a count, applies to that many requests only', async () => {
    server.mock.injectFault({ dateOffsetMs: tenMinutes, count: 1, status: 503 });
    server.mock.injectFault({ dateOffsetMs: tenMinutes, count: 1 });
    expect((await send()).status).toBe(503);
    expect((await send()).status).toBe(400);
    expect((await send()).status).toBe(200);
  });
});
