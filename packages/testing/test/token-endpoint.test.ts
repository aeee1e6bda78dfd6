import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MockClient,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '../src/node.js';
import {
  type AssertionOptions,
  assertionFor,
  JWT_BEARER,
  postForm,
  tokenRequest,
} from './helpers.js';

let server: RunningMockDrillster;
let account: MockServiceAccount;
let other: MockServiceAccount;
let client: MockClient;

beforeAll(async () => {
  server = await startMockDrillster();
  [account, other] = await Promise.all([
    server.mock.createServiceAccount(),
    server.mock.createServiceAccount(),
  ]);
  client = server.mock.registerClient();
});
afterAll(() => server.close());

interface ErrorBody {
  error: string;
  error_description: string;
}

async function expectError(
  response: Response,
  status: number,
  error: string,
  description?: RegExp,
): Promise<ErrorBody> {
  const body = (await response.json()) as ErrorBody;
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  if (description) expect(body.error_description).toMatch(description);
  // RFC 6749 §5.2: error_description is printable ASCII without '"' and '\'.
  expect(body.error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(Number.isNaN(Date.parse(response.headers.get('date') ?? ''))).toBe(false);
  return body;
}

const send = async (options: AssertionOptions, key = account) =>
  tokenRequest(
    server.tokenEndpoint,
    client,
    await assertionFor(key, server.tokenEndpoint, options),
  );

describe('assertion checks (invalid_grant)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => AssertionOptions, RegExp][] = [
    ['a signature by another key', () => ({ signWith: other }), /signature does not verify/],
    ['an unknown kid', () => ({ header: { kid: '0'.repeat(32) } }), /Unknown key id/],
    ['no kid', () => ({ header: { kid: undefined } }), /no kid/],
    ['typ other than JWT', () => ({ header: { typ: 'at+jwt' } }), /typ must be 'JWT'/],
    ['no typ', () => ({ header: { typ: undefined } }), /typ must be 'JWT'/],
    ['iss of another account', () => ({ claims: { iss: other.serviceAccountId } }), /iss must be/],
    [
      'an unknown sub',
      () => ({ claims: { sub: 'someone-else' } }),
      /sub 'someone-else' is neither/,
    ],
    [
      'sub of another account',
      () => ({ claims: { sub: other.serviceAccountId } }),
      /is neither the service account/,
    ],
    [
      'a wrong aud',
      () => ({ claims: { aud: 'https://www.drillster.com/daas/oauth/token' } }),
      /aud must be the token endpoint/,
    ],
    ['an aud array without the endpoint', () => ({ claims: { aud: ['x', 'y'] } }), /aud must be/],
    ['no aud', () => ({ claims: { aud: undefined } }), /aud must be/],
    ['no exp', () => ({ claims: { exp: undefined } }), /no exp/],
    ['a string exp', () => ({ claims: { exp: String(now() + 60) } }), /exp must be a NumericDate/],
    ['exp over an hour ahead', () => ({ claims: { exp: now() + 3700 } }), /more than 3600 seconds/],
    ['an expired exp', () => ({ claims: { exp: now() - 1 } }), /expired at/],
    ['iat in the future', () => ({ claims: { iat: now() + 120 } }), /iat .* is in the future/],
    ['nbf in the future', () => ({ claims: { nbf: now() + 120 } }), /not valid before/],
    ['a numeric jti', () => ({ claims: { jti: 42 } }), /jti must be a string/],
  ];

  it.each(cases)('rejects %s', async (_, options, description) => {
    await expectError(await send(options()), 400, 'invalid_grant', description);
  });

  it('rejects a key after it is revoked', async () => {
    const key = await server.mock.addKey(account.serviceAccountId);
    expect((await send({}, key)).status).toBe(200);
    server.mock.revokeKey(key.keyId);
    await expectError(await send({}, key), 400, 'invalid_grant', /has been revoked/);
    expect((await send({})).status).toBe(200);
  });

  it('keeps access tokens issued with a key valid after the key is revoked (RFC 6749 §5.2 applies to grants, not tokens)', async () => {
    const key = await server.mock.addKey(account.serviceAccountId);
    const response = await send({}, key);
    const { access_token: token } = (await response.json()) as { access_token: string };
    server.mock.revokeKey(key.keyId);
    await expectError(await send({}, key), 400, 'invalid_grant', /has been revoked/);
    expect(await server.mock.verifyAccessToken(token)).toMatchObject({
      subject: account.serviceAccountId,
    });
    const api = await fetch(`${server.apiBaseUrl}user`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(api.status).toBe(200);
    await api.arrayBuffer();
  });

  it('rejects a replayed jti', async () => {
    const assertion = await assertionFor(account, server.tokenEndpoint, {
      claims: { jti: 'once' },
    });
    expect((await tokenRequest(server.tokenEndpoint, client, assertion)).status).toBe(200);
    await expectError(
      await tokenRequest(server.tokenEndpoint, client, assertion),
      400,
      'invalid_grant',
      /jti 'once' has already been used/,
    );
  });

  it('rejects a token that is not a JWS', async () => {
    await expectError(
      await tokenRequest(server.tokenEndpoint, client, 'not-a-jwt'),
      400,
      'invalid_grant',
      /not a JWS/,
    );
  });

  it('rejects alg none and HS256', async () => {
    const claims = btoa(JSON.stringify({ iss: account.serviceAccountId })).replace(/=+$/, '');
    for (const alg of ['none', 'HS256']) {
      const header = btoa(JSON.stringify({ alg, typ: 'JWT', kid: account.keyId })).replace(
        /=+$/,
        '',
      );
      await expectError(
        await tokenRequest(server.tokenEndpoint, client, `${header}.${claims}.c2ln`),
        400,
        'invalid_grant',
        new RegExp(`RS256, not '${alg}'`),
      );
    }
  });

  it('accepts a managed user by id and by email, and an aud array with the endpoint', async () => {
    const user = server.mock.addManagedUser(account.serviceAccountId, {
      email: 'Trainee@Example.com',
    });
    expect(user.userId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const sub of [user.userId, 'trainee@example.com']) {
      const response = await send({ claims: { sub, aud: ['other', server.tokenEndpoint] } });
      expect(response.status).toBe(200);
      const { access_token } = (await response.json()) as { access_token: string };
      const verified = await server.mock.verifyAccessToken(access_token);
      expect(verified?.subject).toBe(user.userId);
      expect(verified?.serviceAccountId).toBe(account.serviceAccountId);

      const me = await fetch(`${server.apiBaseUrl}user`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(await me.json()).toEqual({
        id: user.userId,
        name: 'Trainee',
        email: 'Trainee@Example.com',
        serviceAccount: false,
      });
    }
  });

  it('does not let another account’s user be named', async () => {
    const user = server.mock.addManagedUser(other.serviceAccountId);
    await expectError(await send({ claims: { sub: user.userId } }), 400, 'invalid_grant');
  });
});

describe('request checks', () => {
  const fields = async () => ({
    grant_type: JWT_BEARER,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    assertion: await assertionFor(account, server.tokenEndpoint),
  });

  it('rejects a wrong client secret with 401 invalid_client, without echoing it', async () => {
    const response = await postForm(server.tokenEndpoint, {
      ...(await fields()),
      client_secret: 'wrong-secret-value',
    });
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="Drillster"');
    const body = await expectError(response, 401, 'invalid_client', /Client authentication failed/);
    expect(JSON.stringify(body)).not.toContain('wrong-secret-value');
    expect(JSON.stringify(body)).not.toContain(client.clientSecret);
  });

  it('rejects an unknown client and a missing secret with invalid_client', async () => {
    await expectError(
      await postForm(server.tokenEndpoint, { ...(await fields()), client_id: 'unknown' }),
      401,
      'invalid_client',
    );
    const { client_secret: _, ...withoutSecret } = await fields();
    await expectError(
      await postForm(server.tokenEndpoint, withoutSecret),
      401,
      'invalid_client',
      /required/,
    );
  });

  it('rejects HTTP Basic client authentication', async () => {
    const response = await fetch(server.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa(`${client.clientId}:${client.clientSecret}`)}` },
      body: new URLSearchParams({ ...(await fields()) }),
    });
    await expectError(response, 401, 'invalid_client', /client_secret_post/);
  });

  it('rejects another grant_type with unsupported_grant_type', async () => {
    await expectError(
      await postForm(server.tokenEndpoint, {
        ...(await fields()),
        grant_type: 'client_credentials',
      }),
      400,
      'unsupported_grant_type',
      /'client_credentials' is not supported/,
    );
  });

  it('rejects a missing grant_type or assertion with invalid_request', async () => {
    const { grant_type: _, ...withoutGrant } = await fields();
    await expectError(await postForm(server.tokenEndpoint, withoutGrant), 400, 'invalid_request');
    const { assertion: __, ...withoutAssertion } = await fields();
    await expectError(
      await postForm(server.tokenEndpoint, withoutAssertion),
      400,
      'invalid_request',
      /assertion is missing/,
    );
  });

  it('rejects a repeated parameter and a JSON body with invalid_request', async () => {
    const form = new URLSearchParams(await fields());
    form.append('client_id', client.clientId);
    await expectError(
      await fetch(server.tokenEndpoint, { method: 'POST', body: form }),
      400,
      'invalid_request',
      /'client_id' is included more than once/,
    );
    await expectError(
      await fetch(server.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(await fields()),
      }),
      400,
      'invalid_request',
      /x-www-form-urlencoded/,
    );
  });

  it('answers GET with 405', async () => {
    const response = await fetch(server.tokenEndpoint);
    expect(response.headers.get('allow')).toBe('POST');
    await expectError(response, 405, 'invalid_request');
  });
});
