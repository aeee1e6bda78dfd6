// Pins how the client uses a shared cache's singleFlight (whose failure counts as the cache's,
// whose answer is checked like any cache entry) and the exact limit on a stored token's issue
// time. Found by mutation testing (`pnpm mutation`).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CachedToken, TokenCache } from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

const now = Date.UTC(2026, 0, 1, 12);
const clock = () => now;
let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture({ clock });
});

afterAll(async () => {
  await fx.server.close();
});

afterEach(() => {
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.events.length = 0;
});

const cacheErrors = () => fx.events.filter((e) => e.type === 'cache_error');

/** A shared cache that holds nothing and answers singleFlight with `flight`. */
function flying(flight: TokenCache['singleFlight']): TokenCache {
  return {
    get: () => undefined,
    set: () => undefined,
    delete: () => undefined,
    singleFlight: flight,
  };
}

describe('singleFlight', () => {
  it('that fails after our mint: our token, and no cache error', async () => {
    const token = await fx
      .auth({
        clock,
        cache: flying(async (_key, mint) => {
          await mint();
          throw new Error('lock lost');
        }),
      })
      .getAccessToken();
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(await fx.server.mock.verifyAccessToken(token.accessToken)).toBeDefined();
    expect(cacheErrors()).toEqual([]);
  });

  it('that fails before minting: a cache error, then one mint of our own', async () => {
    const token = await fx
      .auth({
        clock,
        cache: flying(async () => {
          throw new Error('ECONNREFUSED');
        }),
      })
      .getAccessToken();
    expect(token.subject).toBe(fx.account.keyFile.serviceAccountId);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(cacheErrors()).toMatchObject([{ type: 'cache_error', operation: 'singleFlight' }]);
  });

  it('answering with another process’s good token: served, nothing minted', async () => {
    const other: CachedToken = {
      accessToken: 'other-process-token',
      issuedAt: now - 60_000,
      expiresAt: now + 3_540_000,
      subject: fx.account.keyFile.serviceAccountId,
    };
    const token = await fx.auth({ clock, cache: flying(async () => other) }).getAccessToken();
    expect(token.accessToken).toBe('other-process-token');
    expect(token.expiresAt).toBe(other.expiresAt);
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
  });

  it('answering with a token for another subject: not served, ours minted once', async () => {
    const other: CachedToken = {
      accessToken: 'someone-elses-token',
      issuedAt: now - 60_000,
      expiresAt: now + 3_540_000,
      subject: 'ceo@example.com',
    };
    const token = await fx.auth({ clock, cache: flying(async () => other) }).getAccessToken();
    expect(token.accessToken).not.toBe('someone-elses-token');
    expect(token.subject).toBe(fx.account.keyFile.serviceAccountId);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });
});

describe('a stored token’s issue time', () => {
  it('may be up to 5 minutes in our future, not a millisecond more', async () => {
    const stored = (issuedAt: number): TokenCache => ({
      get: () => ({
        accessToken: 'stored-token',
        issuedAt,
        expiresAt: issuedAt + 3_600_000,
        subject: fx.account.keyFile.serviceAccountId,
      }),
      set: () => undefined,
      delete: () => undefined,
    });
    const atLimit = await fx.auth({ clock, cache: stored(now + 300_000) }).getAccessToken();
    expect(atLimit.accessToken).toBe('stored-token');
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
    const beyond = await fx.auth({ clock, cache: stored(now + 300_001) }).getAccessToken();
    expect(beyond.accessToken).not.toBe('stored-token');
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });
});

describe('a shared cache that failed', () => {
  it('is left alone while paused: no singleFlight, no set, the token minted directly', async () => {
    const calls: string[] = [];
    const cache: TokenCache = {
      get: () => {
        calls.push('get');
        throw new Error('ECONNRESET');
      },
      set: () => {
        calls.push('set');
      },
      delete: () => undefined,
      singleFlight: async (_key, mint) => {
        calls.push('singleFlight');
        return mint();
      },
    };
    const token = await fx.auth({ clock, cache }).getAccessToken();
    expect(token.subject).toBe(fx.account.keyFile.serviceAccountId);
    expect(calls).toEqual(['get']);
    expect(cacheErrors()).toMatchObject([{ type: 'cache_error', operation: 'get' }]);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });
});
