// Pins what the behaviour tests of the client pass through without deciding: its own
// description, the exact event payloads, a throwing listener, the options object, the signal
// of getTokenEndpoint/createAssertion, invalidate() when no endpoint can be found, and when an
// invalid_grant corrects the clock (more than 30 s off, against the clock as corrected so far, a
// Date that parses). Found by mutation testing (`pnpm mutation`).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  ConfigurationError,
  createDrillsterAuth,
  type DrillsterAuthEvent,
  type DrillsterAuthOptions,
  type TokenCache,
  type TokenEndpointError,
} from '../src/index.js';
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

describe('the client describes itself', () => {
  it('in JSON with the secret redacted, the endpoint once it is known', async () => {
    const auth = fx.auth({ clock });
    const described = {
      issuer: fx.server.issuer,
      tokenEndpoint: '(not yet discovered)',
      clientId: fx.client.clientId,
      clientSecret: '[redacted]',
      serviceAccountId: fx.account.serviceAccountId,
      keyId: fx.account.keyId,
    };
    expect(auth.toJSON()).toEqual(described);
    await auth.getTokenEndpoint();
    expect(JSON.parse(JSON.stringify(auth))).toEqual({
      ...described,
      tokenEndpoint: fx.server.tokenEndpoint,
    });
    expect(auth.serviceAccountId).toBe(fx.account.serviceAccountId);
  });

  it('as a string and under inspect: the account and the client id, nothing else', () => {
    const auth = fx.auth({ clock });
    const text = `DrillsterAuth(serviceAccountId=${fx.account.serviceAccountId}, clientId=${fx.client.clientId})`;
    expect(String(auth)).toBe(text);
    expect(inspect(auth)).toBe(text);
    expectNoLeaks([String(auth), inspect(auth, { showHidden: true })], {
      clientSecret: fx.client.clientSecret,
      privateKey: fx.account.keyFile.privateKey,
    });
  });
});

describe('events', () => {
  it('say what was requested, issued (expiry, lifetime, duration) and served from memory', async () => {
    const auth = fx.auth({ clock });
    const token = await auth.getAccessToken();
    const subject = fx.account.serviceAccountId;
    expect(token.expiresAt).toBe(now + 3_600_000);
    expect(fx.events).toEqual([
      { type: 'token_requested', subject, attempt: 1, background: false },
      { type: 'token_issued', subject, expiresAt: now + 3_600_000, lifetime: 3600, durationMs: 0 },
    ]);
    fx.events.length = 0;
    expect(await auth.getAccessToken()).toBe(token);
    expect(fx.events).toEqual([
      { type: 'cache_hit', subject, expiresAt: token.expiresAt, source: 'memory' },
    ]);
  });

  it('reach no further than the listener: one that throws does not fail the call', async () => {
    const seen: DrillsterAuthEvent['type'][] = [];
    const auth = fx.auth({
      clock,
      onEvent: (event) => {
        seen.push(event.type);
        throw new Error('listener failed');
      },
    });
    const token = await auth.getAccessToken();
    expect(await auth.getAccessToken()).toBe(token);
    expect(seen).toEqual(['token_requested', 'token_issued', 'cache_hit']);
  });
});

describe('options', () => {
  function refusal(make: () => unknown): ConfigurationError {
    try {
      make();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return error as ConfigurationError;
    }
    throw new Error('expected a ConfigurationError');
  }

  it('must be an object', () => {
    for (const options of [undefined, null, 'key.json']) {
      const error = refusal(() => createDrillsterAuth(options as unknown as DrillsterAuthOptions));
      expect(error.code).toBe('ERR_INVALID_OPTIONS');
      expect(error.message).toBe('DrillsterAuth needs an options object');
    }
  });

  it('onEvent must be a function when given', () => {
    const error = refusal(() =>
      fx.auth({ onEvent: 'log' as unknown as DrillsterAuthOptions['onEvent'] }),
    );
    expect(error.code).toBe('ERR_INVALID_OPTIONS');
    expect(error.message).toBe('onEvent must be a function');
  });
});

describe('a signal that does not fire', () => {
  it('lets getTokenEndpoint and createAssertion resolve', async () => {
    const auth = fx.auth({ clock });
    const { signal } = new AbortController();
    expect(await auth.getTokenEndpoint({ signal })).toBe(fx.server.tokenEndpoint);
    const user = fx.server.mock.addManagedUser(fx.account.serviceAccountId).userId;
    const claims = decodeJwt(await auth.createAssertion({ subject: user, signal }));
    expect(claims).toMatchObject({ sub: user, aud: fx.server.tokenEndpoint, iat: now / 1000 });
  });

  it('and one that fires makes getTokenEndpoint fail with ERR_ABORTED at once', async () => {
    const auth = fx.auth({ clock });
    fx.server.mock.injectFault({ endpoint: 'metadata', delayMs: 300 });
    const controller = new AbortController();
    const pending = auth.getTokenEndpoint({ signal: controller.signal });
    controller.abort(new Error('stop'));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).code).toBe('ERR_ABORTED');
    // The discovery itself went on, for the next caller.
    expect(await auth.getTokenEndpoint()).toBe(fx.server.tokenEndpoint);
  });
});

describe('invalidate with a shared cache', () => {
  it('touches nothing when the token endpoint cannot be discovered', async () => {
    const calls: string[] = [];
    const cache: TokenCache = {
      get: (key) => {
        calls.push(`get ${key}`);
        return undefined;
      },
      set: (key) => {
        calls.push(`set ${key}`);
      },
      delete: (key) => {
        calls.push(`delete ${key}`);
      },
    };
    fx.server.mock.injectFault({ endpoint: 'metadata', status: 400 });
    const auth = fx.auth({ clock, cache, retry: false });
    await expect(auth.invalidate()).resolves.toBeUndefined();
    expect(fx.server.mock.stats.metadataRequests).toBe(1);
    expect(calls).toEqual([]);
    // With the endpoint known, the key names it.
    await auth.invalidate();
    expect(calls).toEqual([
      `delete drillster-auth:v2:${fx.server.tokenEndpoint}|${fx.client.clientId}|${fx.account.serviceAccountId}|${fx.account.serviceAccountId}`,
    ]);
  });
});

describe('clock skew', () => {
  it('adopts the server clock to the millisecond, for tokens and for createAssertion', async () => {
    const twoHours = 7_200_000;
    fx.server.mock.injectFault({ dateOffsetMs: twoHours });
    const auth = fx.auth({ clock });
    const token = await auth.getAccessToken();
    expect(fx.events.filter((e) => e.type === 'clock_skew')).toEqual([
      { type: 'clock_skew', offsetMs: twoHours },
    ]);
    // The lifetime counts from our clock; the assertions are dated by the server's.
    expect(token.expiresAt).toBe(now + 3_600_000);
    expect(decodeJwt(await auth.createAssertion()).iat).toBe((now + twoHours) / 1000);
  });

  const skews = () => fx.events.filter((e) => e.type === 'clock_skew');
  const invalidGrant = JSON.stringify({ error: 'invalid_grant' });

  it('is corrected when the Date is more than 30 s off, not when it is exactly 30 s off', async () => {
    const refusal = { status: 400, body: invalidGrant, dateOffsetMs: 30_000, count: 1 };
    fx.server.mock.injectFault(refusal);
    await expect(fx.auth({ clock }).getAccessToken()).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(skews()).toEqual([]);

    fx.server.mock.injectFault(refusal);
    await expect(fx.auth({ clock: () => now - 1 }).getAccessToken()).resolves.toBeDefined();
    expect(skews()).toEqual([{ type: 'clock_skew', offsetMs: 30_001 }]);
    expect(fx.server.mock.stats.tokenRequests).toBe(3);
  });

  it('is not corrected again by a later invalid_grant whose Date agrees with the corrected clock', async () => {
    const twoHours = 7_200_000;
    fx.server.mock.injectFault({ dateOffsetMs: twoHours });
    const auth = fx.auth({ clock });
    await auth.getAccessToken();
    expect(skews()).toEqual([{ type: 'clock_skew', offsetMs: twoHours }]);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    // Refused with the same server Date: the clock is right, so the refusal is final.
    fx.server.mock.injectFault({ status: 400, body: invalidGrant });
    const error = await auth
      .getAccessToken({ subject: fx.managedUser.userId })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_grant' });
    expect(fx.server.mock.stats.tokenRequests).toBe(3);
    expect(skews()).toHaveLength(1);
  });

  it('is left alone by an invalid_grant without a Date, or with one that is not a date', async () => {
    for (const date of [undefined, 'not a date']) {
      let requests = 0;
      const endpoint = createServer((req, res) => {
        requests++;
        req.resume();
        req.on('end', () => {
          res.sendDate = false;
          res.writeHead(400, {
            'content-type': 'application/json',
            ...(date === undefined ? {} : { date }),
          });
          res.end(invalidGrant);
        });
      });
      await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
      try {
        const tokenEndpoint = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`;
        const error = await fx
          .auth({ clock, tokenEndpoint })
          .getAccessToken()
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_grant' });
        expect((error as TokenEndpointError).response.headers.get('date')).toBe(date ?? null);
        expect(requests, String(date)).toBe(1);
      } finally {
        endpoint.closeAllConnections();
        await new Promise((resolve) => endpoint.close(resolve));
      }
    }
    expect(skews()).toEqual([]);
  });
});
