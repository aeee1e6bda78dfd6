import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  type CachedToken,
  MemoryTokenCache,
  type TokenCache,
} from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});

afterAll(async () => {
  await fx.server.close();
});

afterEach(() => {
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
});

/**
 * An eventually consistent shared cache: a delete does not reach it, so it keeps handing back
 * what it held.
 */
function staleCache(): TokenCache & { entries: Map<string, CachedToken> } {
  const entries = new Map<string, CachedToken>();
  return {
    entries,
    get: (key) => entries.get(key),
    set: (key, token) => void entries.set(key, token),
    delete: () => {},
  };
}

describe('getReplacementToken', () => {
  it('forgets the rejected token and returns a new one; concurrent callers with that token share one request', async () => {
    const auth = fx.auth();
    const rejected = await auth.getAccessToken();
    const replacements = await Promise.all(
      Array.from({ length: 5 }, () => auth.getReplacementToken(rejected.accessToken)),
    );
    expect(new Set(replacements).size).toBe(1);
    expect(replacements[0]?.accessToken).not.toBe(rejected.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('a token already replaced: returns the current one, with no request', async () => {
    const auth = fx.auth();
    const rejected = await auth.getAccessToken();
    const current = await auth.getReplacementToken(rejected.accessToken);
    expect(await auth.getReplacementToken(rejected.accessToken)).toBe(current);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it("for a managed user: replaces that subject's token, not the service account's", async () => {
    const auth = fx.auth();
    const user = fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId);
    const own = await auth.getAccessToken();
    const theirs = await auth.getAccessToken({ subject: user.userId });
    const fresh = await auth.getReplacementToken(theirs.accessToken, { subject: user.userId });
    expect(fresh.subject).toBe(user.userId);
    expect(fresh.accessToken).not.toBe(theirs.accessToken);
    expect(await auth.getAccessToken()).toBe(own);
  });

  it('a shared cache that hands back the rejected token: a new one is minted, never the rejected one', async () => {
    const cache = staleCache();
    const auth = fx.auth({ cache });
    const rejected = await auth.getAccessToken();
    expect(cache.entries.size).toBe(1);
    const fresh = await auth.getReplacementToken(rejected.accessToken);
    expect(fresh.accessToken).not.toBe(rejected.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('a shared cache that works: the entry is deleted only while it holds the rejected token', async () => {
    const cache = new MemoryTokenCache();
    const first = fx.auth({ cache });
    const second = fx.auth({ cache });
    const rejected = await first.getAccessToken();
    const fresh = await first.getReplacementToken(rejected.accessToken);
    // The other process's 401 with the same token finds the new token in the shared cache: no mint.
    expect((await second.getReplacementToken(rejected.accessToken)).accessToken).toBe(
      fresh.accessToken,
    );
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('a token endpoint that issues the rejected token again: TokenResponseError ERR_INVALID_TOKEN_RESPONSE, without the token in it', async () => {
    const same = 'always-the-same-token';
    // The real mock over loopback; only the token it issues is swapped for one fixed value.
    const auth = fx.auth({
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const url = input instanceof Request ? input.url : String(input);
        if (!url.endsWith('/token') || !response.ok) return response;
        const body = (await response.json()) as Record<string, unknown>;
        return Response.json({ ...body, access_token: same }, { headers: response.headers });
      },
    });
    expect((await auth.getAccessToken()).accessToken).toBe(same);
    const error = await auth.getReplacementToken(same).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TokenResponseError', code: 'ERR_INVALID_TOKEN_RESPONSE' });
    expectNoLeaks(error, {
      rejected: same,
      clientSecret: fx.client.clientSecret,
      privateKey: fx.account.keyFile.privateKey,
    });
    expect(fx.server.mock.stats.tokenRequests).toBe(3);
  });

  it('refuses a rejected token that is not a non-empty string with ERR_INVALID_OPTIONS', async () => {
    const auth = fx.auth();
    for (const bad of ['', null, 42]) {
      await expect(auth.getReplacementToken(bad as string)).rejects.toMatchObject({
        name: 'ConfigurationError',
        code: 'ERR_INVALID_OPTIONS',
      });
    }
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
  });
});

describe('getWidgetToken', () => {
  it("a managed user's token with at least minValidity seconds left", async () => {
    const auth = fx.auth();
    const user = fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId);
    const token = await auth.getWidgetToken(user.userId, { minValidity: 900 });
    expect(token.subject).toBe(user.userId);
    expect(token.expiresAt - Date.now()).toBeGreaterThanOrEqual(900_000);
  });

  it("never the service account's own token, nor a blank subject: ERR_INVALID_OPTIONS with no request", async () => {
    const auth = fx.auth();
    for (const subject of [auth.serviceAccountId, '', '   ', undefined, null]) {
      const error = await auth.getWidgetToken(subject as string).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' });
    }
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
  });

  it('refuses a minValidity longer than the tokens live', async () => {
    const auth = fx.auth();
    const user = fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId);
    fx.server.mock.setTokenLifetime(600);
    try {
      await expect(auth.getWidgetToken(user.userId, { minValidity: 900 })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
      });
    } finally {
      fx.server.mock.setTokenLifetime(3600);
    }
  });
});

describe('authorizationHeader', () => {
  it('is `Bearer <token>`, the same as getAuthorizationHeader', async () => {
    const auth = fx.auth();
    const token = await auth.getAccessToken();
    expect(authorizationHeader(token)).toBe(`Bearer ${token.accessToken}`);
    expect(await auth.getAuthorizationHeader()).toBe(authorizationHeader(token));
  });
});
