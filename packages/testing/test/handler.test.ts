import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MockDrillster, type MockServiceAccount } from '../src/index.js';
import { assertionFor, JWT_BEARER } from './helpers.js';

// The web-standard handler on its own, as it runs in Workers or Deno: no sockets involved.
const issuer = 'https://www.drillster.com';
const tokenEndpoint = `${issuer}/daas/oauth/token`;
let now = Date.UTC(2030, 0, 1, 12, 0, 0);
const mock = new MockDrillster({ issuer: `${issuer}/`, tokenLifetime: 900, clock: () => now });
let account: MockServiceAccount;

beforeAll(async () => {
  account = await mock.createServiceAccount({ serviceAccountId: 'iqKpEF3URCe0yAsyrsk_4g' });
});

function exchange(assertion: string, client: { clientId: string; clientSecret: string }) {
  return mock.handle(
    new Request(`http://127.0.0.1:1/daas/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: JWT_BEARER,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        assertion,
      }),
    }),
  );
}

describe('MockDrillster.handle', () => {
  it('uses the configured issuer whatever the request host', async () => {
    const response = await mock.handle(
      new Request('http://localhost:8080/.well-known/oauth-authorization-server'),
    );
    expect(response.headers.get('date')).toBe('Tue, 01 Jan 2030 12:00:00 GMT');
    expect(await response.json()).toMatchObject({ issuer, token_endpoint: tokenEndpoint });
  });

  it('checks exp against the injected clock and issues tokens on it', async () => {
    const client = mock.registerClient();
    const seconds = now / 1000;
    const sign = (exp: number) =>
      assertionFor(account, tokenEndpoint, { claims: { iat: seconds, exp } });

    const fresh = await exchange(await sign(seconds + 60), client);
    expect(fresh.status).toBe(200);
    const { access_token, expires_in } = (await fresh.json()) as {
      access_token: string;
      expires_in: number;
    };
    expect(expires_in).toBe(900);
    expect(decodeJwt(access_token).exp).toBe(seconds + 900);

    const expired = await exchange(await sign(seconds), client);
    expect(((await expired.json()) as { error_description: string }).error_description).toBe(
      'The assertion expired at 2030-01-01T12:00:00.000Z; server time is 2030-01-01T12:00:00.000Z',
    );

    expect(await mock.verifyAccessToken(access_token)).toMatchObject({ expiresAt: now + 900_000 });
    now += 900_000;
    expect(await mock.verifyAccessToken(access_token)).toBeUndefined();
  });

  it('revokeAllTokens makes the API refuse every token issued so far, and only those', async () => {
    // On the real clock, which the assertion helper signs with.
    const server = new MockDrillster({ issuer });
    const serverAccount = await server.createServiceAccount();
    const client = server.registerClient();
    const token = async () => {
      const response = await server.handle(
        new Request(tokenEndpoint, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: JWT_BEARER,
            client_id: client.clientId,
            client_secret: client.clientSecret,
            assertion: await assertionFor(serverAccount, tokenEndpoint),
          }),
        }),
      );
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const user = (accessToken: string) =>
      server.handle(
        new Request(`${issuer}/api/2.1.1/user`, {
          headers: { authorization: `Bearer ${accessToken}` },
        }),
      );
    const before = await token();
    expect((await user(before)).status).toBe(200);
    server.revokeAllTokens();
    const refused = await user(before);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    expect(await server.verifyAccessToken(before)).toBeUndefined();
    const after = await token();
    expect((await user(after)).status).toBe(200);
  });

  it('returns a network error for dropConnection', async () => {
    const client = mock.registerClient();
    mock.injectFault({ dropConnection: true });
    const response = await exchange(await assertionFor(account, tokenEndpoint), client);
    expect(response.type).toBe('error');
  });

  it('refuses an issuer with a path', () => {
    expect(() => new MockDrillster({ issuer: 'https://example.com/auth' })).toThrow(TypeError);
  });
});
