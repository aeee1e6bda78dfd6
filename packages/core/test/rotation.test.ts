import type { MockManagedUser, MockServiceAccount } from '@drillster-auth/testing';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type DrillsterAuth,
  type DrillsterAuthEvent,
  type DrillsterAuthOptions,
  MemoryTokenCache,
  TokenEndpointError,
} from '../src/index.js';
import { callApi, type Fixture, startFixture } from './server.js';

type KeyRejected = Extract<DrillsterAuthEvent, { type: 'key_rejected' }>;

// One clock for the client and the mock, so a test can move past a token's life without waiting.
let now = Date.now();
const clock = () => now;
const HOUR = 3_600_000;

let fx: Fixture;
let oldKey: MockServiceAccount;
let newKey: MockServiceAccount;
let users: MockManagedUser[];

beforeAll(async () => {
  fx = await startFixture({ clock });
  const serviceAccountId = fx.account.serviceAccountId;
  oldKey = fx.account;
  newKey = await fx.server.mock.addKey(serviceAccountId);
  users = [1, 2, 3, 4].map(() => fx.server.mock.addManagedUser(serviceAccountId));
});

afterAll(async () => {
  await fx.server.close();
});

const clients: DrillsterAuth[] = [];
function client(overrides: Partial<DrillsterAuthOptions>): DrillsterAuth {
  const auth = fx.auth({ clock, ...overrides });
  clients.push(auth);
  return auth;
}

afterEach(() => {
  for (const auth of clients.splice(0)) auth.close();
  now = Date.now();
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.server.mock.setTokenLifetime(3600);
  fx.events.length = 0;
});

const rejections = () => fx.events.filter((e): e is KeyRejected => e.type === 'key_rejected');
const secrets = () => ({
  oldPrivateKey: oldKey.keyFile.privateKey,
  newPrivateKey: newKey.keyFile.privateKey,
  clientSecret: fx.client.clientSecret,
  assertion: fx.server.mock.stats.lastAssertion,
});

/** A key of the fixture's service account that only this test knows, so revoking it spoils no other test. */
async function freshKey(): Promise<MockServiceAccount> {
  return fx.server.mock.addKey(fx.account.serviceAccountId);
}

describe('deleting the first key in the middle of a run of concurrent callers', () => {
  it('fails no call and costs at most one extra token request per subject', async () => {
    const first = await freshKey();
    const second = await freshKey();
    const auth = client({ key: [first.keyFile, second.keyFile] });
    const subjects = [fx.account.serviceAccountId, ...users.map((u) => u.userId)];
    const rounds = 4;
    // Two-minute tokens: four rounds stay inside the ten minutes the deleted key is passed over.
    fx.server.mock.setTokenLifetime(120);
    const failures: unknown[] = [];
    /** One round: every subject, eight concurrent callers each, each token used on the API. */
    const round = () =>
      Promise.all(
        subjects.flatMap((subject) =>
          Array.from({ length: 8 }, async () => {
            try {
              const status = await callApi(
                fx.server,
                await auth.getAuthorizationHeader({ subject }),
              );
              if (status !== 200) failures.push(status);
            } catch (error) {
              failures.push(error);
            }
          }),
        ),
      );

    for (let r = 0; r < rounds; r++) {
      const running = round();
      if (r === 1) {
        // Mid-round: some subjects' requests have gone out signed with the first key.
        await vi.waitFor(() => expect(fx.server.mock.stats.tokenRequests).toBeGreaterThan(6));
        fx.server.mock.revokeKey(first.keyId);
      }
      await running;
      now += 120_000; // every token is stale: the next round mints again
    }

    expect(failures).toEqual([]);
    const bySubject = fx.server.mock.stats.tokenRequestsBySubject;
    for (const subject of subjects) {
      expect(bySubject[subject]).toBeGreaterThanOrEqual(rounds);
      expect(bySubject[subject]).toBeLessThanOrEqual(rounds + 1);
    }
    expect(fx.server.mock.stats.rejections).toEqual({
      invalid_grant: fx.server.mock.stats.tokenRequests - rounds * subjects.length,
    });
    expect(rejections()).toHaveLength(1);
    expect(rejections()[0]).toMatchObject({
      keyId: first.keyId,
      acceptedKeyId: second.keyId,
      error: { code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_grant' },
    });
    expectNoLeaks(fx.events, secrets(), 'events');
  });
});

describe('a key list', () => {
  it('signs with the first key while it works, and never touches the others', async () => {
    const auth = client({ key: [newKey.keyFile, oldKey.keyFile] });
    await auth.getAccessToken();
    const assertion = fx.server.mock.stats.lastAssertion as string;
    expect(decodeProtectedHeader(assertion).kid).toBe(newKey.keyId);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(rejections()).toEqual([]);
  });

  it('tries the next key once on invalid_grant, reports the refused key, and passes it over for the pause', async () => {
    const deleted = await freshKey();
    fx.server.mock.revokeKey(deleted.keyId);
    const sent: string[] = [];
    const auth = client({
      key: [deleted.keyFile, newKey.keyFile],
      rejectedKeyPause: 60_000,
      // Keeps every assertion sent, the refused one too, for the leak scan.
      fetch: async (input, init) => {
        const assertion = new URLSearchParams(String(init?.body ?? '')).get('assertion');
        if (assertion !== null) sent.push(assertion);
        return fetch(input, init);
      },
    });

    const token = await auth.getAccessToken();
    expect(await callApi(fx.server, `Bearer ${token.accessToken}`)).toBe(200);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    const requested = fx.events.filter((e) => e.type === 'token_requested');
    expect(requested).toEqual([
      {
        type: 'token_requested',
        subject: fx.account.serviceAccountId,
        attempt: 1,
        background: false,
      },
      {
        type: 'token_requested',
        subject: fx.account.serviceAccountId,
        attempt: 1,
        background: false,
      },
    ]);
    expect(rejections()).toEqual([
      {
        type: 'key_rejected',
        keyId: deleted.keyId,
        acceptedKeyId: newKey.keyId,
        retryAt: now + 60_000,
        error: expect.any(TokenEndpointError),
      },
    ]);
    expect(rejections()[0]?.error.error).toBe('invalid_grant');
    expect(sent.map((assertion) => decodeProtectedHeader(assertion).kid)).toEqual([
      deleted.keyId,
      newKey.keyId,
    ]);
    const assertions = Object.fromEntries(
      sent.map((assertion, i) => [`assertion ${i}`, assertion]),
    );
    expectNoLeaks(
      fx.events,
      { ...secrets(), ...assertions, deleted: deleted.keyFile.privateKey },
      'events',
    );

    // Within the pause the refused key is not tried: one request per token.
    fx.server.mock.resetStats();
    await auth.getAccessToken({ subject: users[0]?.userId });
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(decodeProtectedHeader(fx.server.mock.stats.lastAssertion as string).kid).toBe(
      newKey.keyId,
    );
    expect(decodeProtectedHeader(await auth.createAssertion()).kid).toBe(newKey.keyId);

    // After it, the refused key is preferred again (the refusal may have been something else).
    now += 60_000;
    fx.server.mock.resetStats();
    await auth.getAccessToken({ subject: users[1]?.userId });
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    expect(rejections()).toHaveLength(2);
    expect(rejections()[1]?.retryAt).toBe(now + 60_000);
  });

  it('a background refresh moves to the next key too, and the caller keeps being served', async () => {
    const first = await freshKey();
    const auth = client({ key: [first.keyFile, newKey.keyFile] });
    const old = await auth.getAccessToken();
    fx.server.mock.revokeKey(first.keyId);
    now += 56 * 60_000; // inside the refresh window of the hour-long token
    fx.server.mock.resetStats();

    expect(await auth.getAccessToken()).toBe(old);
    await vi.waitFor(() =>
      expect(fx.events).toContainEqual(expect.objectContaining({ type: 'key_rejected' })),
    );
    await vi.waitFor(async () =>
      expect((await auth.getAccessToken()).accessToken).not.toBe(old.accessToken),
    );
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    expect(fx.events.filter((e) => e.type === 'token_failed')).toEqual([]);
    expect(fx.events.filter((e) => e.type === 'token_requested')).toMatchObject([
      { background: false },
      { background: true },
      { background: true },
    ]);
  });

  it('gives the last invalid_grant when every key is refused, and passes none over', async () => {
    const [one, two] = [await freshKey(), await freshKey()];
    fx.server.mock.revokeKey(one.keyId);
    fx.server.mock.revokeKey(two.keyId);
    const auth = client({ key: [one.keyFile, two.keyFile] });

    const error = await auth.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ error: 'invalid_grant' });
    expect((error as TokenEndpointError).errorDescription).toContain(two.keyId);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    expect(rejections()).toEqual([]);
    expectNoLeaks(error, secrets(), 'error');

    fx.server.mock.resetStats();
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(TokenEndpointError);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('does not blame a key for an invalid_grant that is about the subject', async () => {
    const auth = client({ key: [newKey.keyFile, oldKey.keyFile] });
    await expect(auth.getAccessToken({ subject: 'nobody@example.com' })).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    expect(rejections()).toEqual([]);

    fx.server.mock.resetStats();
    await auth.getAccessToken();
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(decodeProtectedHeader(fx.server.mock.stats.lastAssertion as string).kid).toBe(
      newKey.keyId,
    );
  });

  it('corrects the clock first and only then moves to the next key', async () => {
    const deleted = await freshKey();
    fx.server.mock.revokeKey(deleted.keyId);
    fx.server.mock.injectFault({ dateOffsetMs: 2 * HOUR });
    const auth = client({ key: [deleted.keyFile, newKey.keyFile] });

    await auth.getAccessToken();
    const types = fx.events.map((e) => e.type);
    expect(types.filter((t) => t === 'clock_skew')).toHaveLength(1);
    // deleted key (skewed), deleted key (corrected), new key
    expect(fx.server.mock.stats.tokenRequests).toBe(3);
    expect(rejections()).toHaveLength(1);
  });

  it('retries a transient failure of the next key with the retry policy', async () => {
    const deleted = await freshKey();
    fx.server.mock.revokeKey(deleted.keyId);
    const auth = client({ key: [deleted.keyFile, newKey.keyFile] });
    fx.server.mock.injectFault({ status: 503, count: 1 }); // the deleted key's request is refused first
    fx.server.mock.injectFault({ status: 503, count: 1 });

    await auth.getAccessToken();
    // 503 (deleted key), invalid_grant (deleted key), 503 (new key), 200 (new key)
    expect(fx.server.mock.stats.tokenRequests).toBe(4);
    expect(fx.events.filter((e) => e.type === 'retry')).toHaveLength(2);
    expect(rejections()).toHaveLength(1);
  });

  it('imports each key into WebCrypto once', async () => {
    const deleted = await freshKey();
    const spare = await freshKey();
    fx.server.mock.revokeKey(deleted.keyId);
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    try {
      const auth = client({ key: [deleted.keyFile, spare.keyFile], rejectedKeyPause: 0 });
      for (const user of users) await auth.getAccessToken({ subject: user.userId });
      await auth.createAssertion();
      expect(fx.server.mock.stats.tokenRequests).toBe(2 * users.length);
      // The mock server in this process imports keys of its own; the client's are PKCS#8.
      const imports = importKey.mock.calls.filter(([format]) => format === 'pkcs8');
      expect(imports).toHaveLength(2);
    } finally {
      importKey.mockRestore();
    }
  });
});

describe('the shared cache across a rotation', () => {
  it('serves a token cached under key A to a client switched to [B, A]', async () => {
    const cache = new MemoryTokenCache();
    const before = client({ key: oldKey.keyFile, cache });
    const token = await before.getAccessToken({ subject: users[0]?.userId });
    fx.server.mock.resetStats();

    const after = client({ key: [newKey.keyFile, oldKey.keyFile], cache });
    const served = await after.getAccessToken({ subject: users[0]?.userId });
    expect(served.accessToken).toBe(token.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
    expect(fx.events.filter((e) => e.type === 'cache_hit')).toMatchObject([{ source: 'shared' }]);
  });
});

describe('the key options', () => {
  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['over 2^31 − 1', 2 ** 31],
    ['a string', '600000'],
  ])('refuses a %s rejectedKeyPause', (_, value) => {
    expect(() => client({ rejectedKeyPause: value as number })).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        code: 'ERR_INVALID_OPTIONS',
        message: expect.stringContaining('rejectedKeyPause must be a number from 0 to 2147483647'),
      }),
    );
  });

  it('refuses an empty list and keys of two service accounts when the client is created', async () => {
    expect(() => client({ key: [] })).toThrow(/non-empty list of keys/);
    const stranger = await fx.server.mock.createServiceAccount();
    let error: unknown;
    try {
      client({ key: [oldKey.keyFile, stranger.keyFile] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_OPTIONS' });
    expect((error as Error).message).toContain('all keys must be of one service account');
    expectNoLeaks(error, { ...secrets(), stranger: stranger.keyFile.privateKey }, 'error');
  });

  it('names every key id in toJSON and none of the keys', () => {
    const auth = client({ key: [newKey.keyFile, oldKey.keyFile] });
    expect(auth.toJSON().keyId).toBe(`${newKey.keyId}, ${oldKey.keyId}`);
    expect(auth.serviceAccountId).toBe(oldKey.serviceAccountId);
    expectNoLeaks(auth, secrets(), 'client');
  });
});
