// Pins what the client's behaviour tests pass through without deciding: the wording of the
// refusals of getReplacementToken, getWidgetToken and minValidity; getWidgetToken's defaults;
// invalidate without a shared cache or with a failing one; close(); which requests a forced call
// joins; the minValidity bookkeeping of joined and cache-served requests, to the millisecond; when
// a failure backs off; and an unexpected failure. Found by mutation testing (`pnpm mutation`).
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  type CachedToken,
  ConfigurationError,
  DrillsterAuthError,
  type DrillsterAuthEvent,
  type TokenCache,
} from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

const start = Date.UTC(2026, 0, 1, 12);
let now = start;
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
  fx.server.mock.setTokenLifetime(3600);
  fx.events.length = 0;
  now = start;
});

const requests = () => fx.server.mock.stats.tokenRequests;
const user = () => fx.server.mock.addManagedUser(fx.account.serviceAccountId).userId;
const ofType = <T extends DrillsterAuthEvent['type']>(type: T) =>
  fx.events.filter((e): e is Extract<DrillsterAuthEvent, { type: T }> => e.type === type);

async function failure(pending: Promise<unknown>): Promise<Error> {
  const error = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** A shared cache that serves `token` under every key and counts its calls. */
function serving(token: CachedToken | undefined, onGet?: () => void) {
  const calls = { get: 0, set: 0, delete: 0 };
  const cache: TokenCache = {
    get: () => {
      calls.get++;
      onGet?.();
      return token;
    },
    set: () => {
      calls.set++;
    },
    delete: () => {
      calls.delete++;
    },
  };
  return { cache, calls };
}

/**
 * A token of the service account's in a shared cache, issued 50 minutes ago, expiring `leftMs`
 * from now.
 */
function stored(leftMs: number): CachedToken {
  return {
    accessToken: 'from-the-store',
    issuedAt: now - 3_000_000,
    expiresAt: now + leftMs,
    subject: fx.account.serviceAccountId,
  };
}

describe('refusals say what is wrong', () => {
  it('getReplacementToken: a rejected token that is no token, and one issued again', async () => {
    const auth = fx.auth({ clock });
    expect((await failure(auth.getReplacementToken(''))).message).toBe(
      'rejectedAccessToken must be a non-empty string',
    );
    const same = 'always-the-same-token';
    const again = fx.auth({
      clock,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const url = input instanceof Request ? input.url : String(input);
        if (!url.endsWith('/token') || !response.ok) return response;
        const body = (await response.json()) as Record<string, unknown>;
        return Response.json({ ...body, access_token: same }, { headers: response.headers });
      },
    });
    await again.getAccessToken();
    expect((await failure(again.getReplacementToken(same))).message).toBe(
      'The token endpoint issued the access token that was just rejected again',
    );
  });

  it('getWidgetToken: a blank user id, and the service account itself', async () => {
    const auth = fx.auth({ clock });
    expect((await failure(auth.getWidgetToken('   '))).message).toBe(
      'getWidgetToken needs a managed user id',
    );
    expect((await failure(auth.getWidgetToken(auth.serviceAccountId))).message).toBe(
      "getWidgetToken is for managed users; the service account's own token must not reach a browser",
    );
    expect(requests()).toBe(0);
  });
});

describe('getWidgetToken', () => {
  it('asks for 15 minutes when called without options, in seconds in the refusal', async () => {
    fx.server.mock.setTokenLifetime(600);
    const error = await failure(fx.auth({ clock }).getWidgetToken(user()));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      'minValidity (900 s) is longer than the tokens the token endpoint issues live (600 s)',
    );
  });

  it('takes a minValidity of 0 as given, not as the default', async () => {
    fx.server.mock.setTokenLifetime(600);
    const token = await fx.auth({ clock }).getWidgetToken(user(), { minValidity: 0 });
    expect(token.expiresAt).toBe(now + 600_000);
  });

  it('passes its signal on: an aborted one fails at once, with no request', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const error = await failure(
      fx.auth({ clock }).getWidgetToken(user(), { signal: controller.signal }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(requests()).toBe(0);
  });
});

describe('invalidate', () => {
  it('without a shared cache and without a token to compare: forgets the token in memory', async () => {
    const auth = fx.auth({ clock });
    const first = await auth.getAccessToken();
    await auth.invalidate();
    const second = await auth.getAccessToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(requests()).toBe(2);
  });

  it('with a token to compare and an empty shared cache: deletes nothing', async () => {
    const { cache, calls } = serving(undefined);
    const auth = fx.auth({ clock, cache, tokenEndpoint: fx.server.tokenEndpoint });
    await expect(auth.invalidate(undefined, { accessToken: 'revoked' })).resolves.toBeUndefined();
    expect(calls).toEqual({ get: 1, set: 0, delete: 0 });
  });

  it('reports a failing shared cache by operation, and does not throw', async () => {
    const broken = new Error('store down');
    const cache: TokenCache = {
      get: () => {
        throw broken;
      },
      set: () => {},
      delete: () => {
        throw broken;
      },
    };
    const auth = fx.auth({ clock, cache, tokenEndpoint: fx.server.tokenEndpoint });
    await auth.invalidate(undefined, { accessToken: 'revoked' });
    await auth.invalidate();
    expect(ofType('cache_error')).toEqual([
      { type: 'cache_error', operation: 'get', error: broken },
      { type: 'cache_error', operation: 'delete', error: broken },
    ]);
  });
});

describe('close', () => {
  it('fails later requests with its own reason, and a hit in the refresh window starts no refresh', async () => {
    const auth = fx.auth({ clock });
    const token = await auth.getAccessToken();
    auth.close();
    now = token.expiresAt - 200_000; // inside the 5-minute refresh window
    expect(await auth.getAccessToken()).toBe(token);
    // A forced call goes the same way a background refresh would, so it settles after it.
    const error = await failure(auth.getAccessToken({ forceRefresh: true }));
    expect(error).toBeInstanceOf(AbortError);
    expect(error.message).toBe('The DrillsterAuth client was closed');
    expect(ofType('token_requested')).toEqual([
      { type: 'token_requested', subject: auth.serviceAccountId, attempt: 1, background: false },
      { type: 'token_requested', subject: auth.serviceAccountId, attempt: 1, background: false },
    ]);
    expect(requests()).toBe(1);
  });
});

describe('a forced call', () => {
  it('does not join a request in flight that is not forced', async () => {
    const auth = fx.auth({ clock });
    const [normal, forced] = await Promise.all([
      auth.getAccessToken(),
      auth.getAccessToken({ forceRefresh: true }),
    ]);
    expect(forced.accessToken).not.toBe(normal.accessToken);
    expect(requests()).toBe(2);
  });

  it('joins a forced one', async () => {
    const auth = fx.auth({ clock });
    const [first, second] = await Promise.all([
      auth.getAccessToken({ forceRefresh: true }),
      auth.getAccessToken({ forceRefresh: true }),
    ]);
    expect(second).toBe(first);
    expect(requests()).toBe(1);
  });
});

describe('minValidity', () => {
  it('a held token that lives exactly minValidity is no reason to refuse', async () => {
    fx.server.mock.setTokenLifetime(600);
    const auth = fx.auth({ clock });
    const first = await auth.getAccessToken({ minValidity: 600 });
    now += 1;
    const second = await auth.getAccessToken({ minValidity: 600 });
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(requests()).toBe(2);
  });

  it('a held token that lives too short is no reason to refuse once it is stale', async () => {
    fx.server.mock.setTokenLifetime(60);
    const auth = fx.auth({ clock });
    await auth.getAccessToken(); // stale 30 s after issue: half its life
    fx.server.mock.setTokenLifetime(3600);
    now += 30_000;
    const token = await auth.getAccessToken({ minValidity: 600 });
    expect(token.expiresAt).toBe(now + 3_600_000);
  });

  it('a token from the shared cache with exactly minValidity left when the fetch began is served, though the clock moved on', async () => {
    const token = stored(600_000);
    const { cache } = serving(token, () => {
      now += 1;
    });
    const auth = fx.auth({ clock, cache });
    expect((await auth.getAccessToken({ minValidity: 600 })).accessToken).toBe(token.accessToken);
    expect(requests()).toBe(0);
  });

  it('joining a request made for less: its token from the shared cache is served when it has exactly minValidity left', async () => {
    const token = stored(600_000);
    const { cache } = serving(token);
    const auth = fx.auth({ clock, cache });
    const [any, lasting] = await Promise.all([
      auth.getAccessToken(),
      auth.getAccessToken({ minValidity: 600 }),
    ]);
    expect(lasting).toBe(any);
    expect(lasting.accessToken).toBe(token.accessToken);
    expect(requests()).toBe(0);
  });

  it('joining a request made for less: a too-short token from the shared cache is replaced by a forced mint, which may live exactly minValidity', async () => {
    fx.server.mock.setTokenLifetime(600);
    const { cache, calls } = serving(stored(100_000));
    const auth = fx.auth({ clock, cache });
    const [any, lasting] = await Promise.all([
      auth.getAccessToken(),
      auth.getAccessToken({ minValidity: 600 }),
    ]);
    expect(any.accessToken).toBe('from-the-store');
    expect(lasting.expiresAt).toBe(now + 600_000);
    // Forced: straight to the token endpoint, the shared cache only written.
    expect(calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(requests()).toBe(1);
  });

  it('joining a request made for less: a forced mint that lives too short is refused', async () => {
    fx.server.mock.setTokenLifetime(300);
    const { cache } = serving(stored(100_000));
    const auth = fx.auth({ clock, cache });
    const [any, lasting] = await Promise.allSettled([
      auth.getAccessToken(),
      auth.getAccessToken({ minValidity: 600 }),
    ]);
    expect(any.status).toBe('fulfilled');
    expect(lasting).toMatchObject({
      status: 'rejected',
      reason: { code: 'ERR_INVALID_OPTIONS' },
    });
    expect(requests()).toBe(1);
  });

  // Joining a request that minted: its token is the newest, so a caller wanting longer is refused
  // at once, whether the token came without a shared cache, past a failing one, or through a
  // cache's singleFlight that called our mint (the token it hands back is ours: counted as minted).
  it.each([
    { name: 'without a shared cache', cache: undefined, cacheErrors: 0 },
    {
      name: 'because the shared cache failed',
      cache: {
        get: () => {
          throw new Error('store down');
        },
        set: () => {},
        delete: () => {},
      } satisfies TokenCache,
      cacheErrors: 1,
    },
    {
      name: "through a shared cache's singleFlight",
      cache: {
        get: () => undefined,
        set: () => {},
        delete: () => {},
        singleFlight: (_key, mint) => mint(),
      } satisfies TokenCache,
      cacheErrors: 0,
    },
  ])(
    'joining a request that minted $name: refused at once if too short',
    async ({ cache, cacheErrors }) => {
      fx.server.mock.setTokenLifetime(300);
      const auth = fx.auth({ clock, ...(cache === undefined ? {} : { cache }) });
      const [any, lasting] = await Promise.allSettled([
        auth.getAccessToken(),
        auth.getAccessToken({ minValidity: 600 }),
      ]);
      expect(any.status).toBe('fulfilled');
      expect(lasting).toMatchObject({
        status: 'rejected',
        reason: { code: 'ERR_INVALID_OPTIONS' },
      });
      expect(requests()).toBe(1);
      expect(ofType('cache_error')).toHaveLength(cacheErrors);
    },
  );

  it('joining a forced request that minted through a shared cache: likewise', async () => {
    fx.server.mock.setTokenLifetime(300);
    const { cache } = serving(undefined);
    const auth = fx.auth({ clock, cache });
    const [any, lasting] = await Promise.allSettled([
      auth.getAccessToken({ forceRefresh: true }),
      auth.getAccessToken({ forceRefresh: true, minValidity: 600 }),
    ]);
    expect(any.status).toBe('fulfilled');
    expect(lasting).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INVALID_OPTIONS' } });
    expect(requests()).toBe(1);
  });
});

describe('a failure backs off', () => {
  it('not when it was a foreground call, though a token is held', async () => {
    const auth = fx.auth({ clock, retry: false });
    await auth.getAccessToken();
    fx.server.mock.injectFault({ status: 400 });
    await failure(auth.getAccessToken({ forceRefresh: true }));
    const [failed] = ofType('token_failed');
    expect(failed).toMatchObject({ background: false });
    expect(failed).not.toHaveProperty('retryAt');
  });

  it('not when a background refresh fails after another call replaced the token', async () => {
    let hold: Promise<void> | undefined;
    let held = false;
    let release = () => {};
    const auth = fx.auth({
      clock,
      retry: false,
      fetch: async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (hold !== undefined && url.endsWith('/token')) {
          const wait = hold;
          hold = undefined;
          held = true;
          await wait;
        }
        return fetch(input, init);
      },
    });
    const token = await auth.getAccessToken();
    hold = new Promise((resolve) => {
      release = resolve;
    });
    now = token.expiresAt - 200_000;
    expect(await auth.getAccessToken()).toBe(token); // starts the background refresh
    await vi.waitFor(() => expect(held).toBe(true));
    const replaced = await auth.getAccessToken({ forceRefresh: true });
    expect(replaced.accessToken).not.toBe(token.accessToken);
    fx.server.mock.injectFault({ status: 503 });
    release();
    await vi.waitFor(() => expect(ofType('token_failed')).toHaveLength(1));
    const [failed] = ofType('token_failed');
    expect(failed).toMatchObject({ background: true });
    expect(failed).not.toHaveProperty('retryAt');
  });
});

describe('an unexpected failure', () => {
  it('is ERR_UNEXPECTED, with what was thrown as its cause', async () => {
    const thrown = new RangeError('the clock broke');
    let broken = false;
    const auth = fx.auth({
      clock: () => {
        if (broken) throw thrown;
        return now;
      },
      tokenEndpoint: fx.server.tokenEndpoint,
    });
    broken = true;
    const error = await failure(auth.getAccessToken());
    expect(error).toBeInstanceOf(DrillsterAuthError);
    expect(error).toMatchObject({
      code: 'ERR_UNEXPECTED',
      message: 'Getting an access token failed unexpectedly',
      cause: thrown,
    });
    expectNoLeaks([error, ...fx.events], {
      clientSecret: fx.client.clientSecret,
      privateKey: fx.account.keyFile.privateKey,
    });
  });
});

describe('Deno', () => {
  it('inspects the client as its description', () => {
    const auth = fx.auth({ clock }) as unknown as Record<symbol, () => string>;
    expect(auth[Symbol.for('Deno.customInspect')]?.()).toBe(String(auth));
  });
});
