import { createRequire } from 'node:module';
import { decodeJwt, decodeProtectedHeader, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
afterAll(() => server.close());

async function accessToken(): Promise<string> {
  const response = await tokenRequest(
    server.tokenEndpoint,
    client,
    await assertionFor(account, server.tokenEndpoint),
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('startMockDrillster', () => {
  it('listens on a random loopback port and derives its URLs', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url.endsWith(':0')).toBe(false);
    expect(server.issuer).toBe(server.url);
    expect(server.tokenEndpoint).toBe(`${server.url}/daas/oauth/token`);
    expect(server.apiBaseUrl).toBe(`${server.url}/api/2.1.1/`);
  });

  it('provisions an account, a client and a managed user in one call', async () => {
    const {
      account: provisioned,
      client: registered,
      managedUser,
      authOptions,
    } = await server.provision();
    expect(authOptions).toEqual({
      key: provisioned.keyFile,
      clientId: registered.clientId,
      clientSecret: registered.clientSecret,
      issuer: server.issuer,
    });
    for (const subject of [provisioned.serviceAccountId, managedUser.userId, managedUser.email]) {
      const response = await tokenRequest(
        server.tokenEndpoint,
        registered,
        await assertionFor(provisioned, server.tokenEndpoint, { claims: { sub: subject } }),
      );
      expect(response.status).toBe(200);
    }
  });

  it('has one MockDrillster class behind both CommonJS entry points', () => {
    const require = createRequire(import.meta.url);
    const root = require('../dist/index.cjs') as { MockDrillster: unknown };
    const node = require('../dist/node.cjs') as { MockDrillster: unknown };
    expect(typeof root.MockDrillster).toBe('function');
    expect(node.MockDrillster).toBe(root.MockDrillster);
  });

  it('closes promptly with keep-alive connections open', async () => {
    const other = await startMockDrillster();
    const response = await fetch(`${other.url}/.well-known/oauth-authorization-server`);
    await response.text();
    const started = performance.now();
    await other[Symbol.asyncDispose]();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(fetch(`${other.url}/.well-known/oauth-authorization-server`)).rejects.toThrow();
  });
});

describe('discovery', () => {
  it('serves RFC 8414 metadata for the request origin', async () => {
    const response = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(server.issuer);
    expect(metadata.token_endpoint).toBe(server.tokenEndpoint);
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_post']);
  });

  it('has no OpenID configuration, like Drillster', async () => {
    const response = await fetch(`${server.url}/.well-known/openid-configuration`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toBe('not_found');
  });
});

describe('service accounts', () => {
  it('hands out a key file shaped like Drillster’s', async () => {
    expect(account.serviceAccountId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(account.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(account.keyFile.keyId).toBe(account.keyId);
    expect(account.keyFile.serviceAccountId).toBe(account.serviceAccountId);
    expect(Object.keys(account.keyFile)).toEqual(['privateKey', 'keyId', 'serviceAccountId']);
    expect(JSON.parse(account.keyFileJson)).toEqual(account.keyFile);
    expect(account.keyFileJson).toMatch(/^\{\n {2}"privateKey":"-----BEGIN PRIVATE KEY-----\\n/);

    const lines = account.keyFile.privateKey.split('\n');
    expect(lines[0]).toBe('-----BEGIN PRIVATE KEY-----');
    expect(lines.at(-1)).toBe('-----END PRIVATE KEY-----');
    const body = lines.slice(1, -1);
    expect(body.slice(0, -1).every((line) => line.length === 64)).toBe(true);
    expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
    await expect(importPKCS8(account.keyFile.privateKey, 'RS256')).resolves.toBeDefined();
  });

  it('takes a given service account id and refuses a duplicate', async () => {
    await expect(
      server.mock.createServiceAccount({ serviceAccountId: account.serviceAccountId }),
    ).rejects.toThrow(/already exists/);
  });

  it('rejects unknown accounts and keys', async () => {
    await expect(server.mock.addKey('nope')).rejects.toThrow(/No service account/);
    expect(() => server.mock.revokeKey('nope')).toThrow(/No key/);
    expect(() => server.mock.addManagedUser('nope')).toThrow(/No service account/);
  });

  it('registers clients with Drillster-shaped or given credentials', () => {
    expect(client.clientId).toMatch(/^[0-9a-f]{32}$/);
    expect(client.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(server.mock.registerClient({ clientId: 'fixed', clientSecret: 's3cret' })).toEqual({
      clientId: 'fixed',
      clientSecret: 's3cret',
    });
  });
});

describe('token endpoint, success', () => {
  it('exchanges a valid assertion for a bearer token', async () => {
    const before = Date.now();
    const response = await tokenRequest(
      server.tokenEndpoint,
      client,
      await assertionFor(account, server.tokenEndpoint),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toBe('application/json');
    const date = Date.parse(response.headers.get('date')!);
    expect(Math.abs(date - before)).toBeLessThan(2000);

    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(3600);
    const claims = decodeJwt(body.access_token as string);
    expect(decodeProtectedHeader(body.access_token as string).alg).toBe('HS256');
    expect(claims).toMatchObject({
      sub: account.serviceAccountId,
      iss: server.issuer,
      client_id: client.clientId,
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(typeof claims.jti).toBe('string');

    const verified = await server.mock.verifyAccessToken(body.access_token as string);
    expect(verified).toEqual({
      subject: account.serviceAccountId,
      serviceAccountId: account.serviceAccountId,
      clientId: client.clientId,
      expiresAt: claims.exp! * 1000,
    });
  });

  it('issues tokens with the lifetime set last', async () => {
    server.mock.setTokenLifetime(120);
    try {
      const response = await tokenRequest(
        server.tokenEndpoint,
        client,
        await assertionFor(account, server.tokenEndpoint),
      );
      const body = (await response.json()) as { access_token: string; expires_in: number };
      expect(body.expires_in).toBe(120);
      const claims = decodeJwt(body.access_token);
      expect(claims.exp! - claims.iat!).toBe(120);
    } finally {
      server.mock.setTokenLifetime(3600);
    }
    expect(() => server.mock.setTokenLifetime(1.5)).toThrow(RangeError);
  });

  it('accepts keys added for rotation, alongside the first', async () => {
    const second = await server.mock.addKey(account.serviceAccountId);
    expect(second.serviceAccountId).toBe(account.serviceAccountId);
    expect(second.keyId).not.toBe(account.keyId);
    for (const key of [account, second]) {
      const response = await tokenRequest(
        server.tokenEndpoint,
        client,
        await assertionFor(key, server.tokenEndpoint),
      );
      expect(response.status).toBe(200);
    }
  });
});

describe('protected resource', () => {
  it('returns the service account for its token', async () => {
    const token = await accessToken();
    const response = await fetch(`${server.apiBaseUrl}user`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: account.serviceAccountId,
      name: 'Service account',
      serviceAccount: true,
    });
  });

  it('lists groups and takes the scheme in any case', async () => {
    const token = await accessToken();
    const response = await fetch(`${server.apiBaseUrl}groups`, {
      headers: { authorization: `bEaReR ${token}` },
    });
    expect(response.status).toBe(200);
    const { groups } = (await response.json()) as { groups: { id: string; name: string }[] };
    expect(groups.length).toBeGreaterThan(0);
    expect(groups[0]).toEqual({ id: expect.any(String), name: expect.any(String) });
  });

  it('challenges a request without a token', async () => {
    const response = await fetch(`${server.apiBaseUrl}user`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="Drillster"');
  });

  it.each([
    ['a token it did not issue', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
  ])('rejects %s as invalid_token', async (_, authorization) => {
    const response = await fetch(`${server.apiBaseUrl}user`, { headers: { authorization } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="Drillster", error="invalid_token"/,
    );
    expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
  });

  it('rejects an expired token', async () => {
    server.mock.setTokenLifetime(0);
    let token: string;
    try {
      token = await accessToken();
    } finally {
      server.mock.setTokenLifetime(3600);
    }
    expect(await server.mock.verifyAccessToken(token)).toBeUndefined();
    const response = await fetch(`${server.apiBaseUrl}user`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers 404 for other API paths, after authentication', async () => {
    const token = await accessToken();
    const response = await fetch(`${server.apiBaseUrl}objectives`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(404);
  });
});
