// Pins what mutation testing found unpinned in the Workers background-work change (issue 7):
// abandonAfter's exact value with and without discovery, `pending` at exactly abandonAfter,
// which discovery callers join and which they start again, and what a request left behind does
// to the slot or the discovery that replaced it when it settles late. What it leaves alive either
// is equivalent or needs workerd's refusal of a cross-request wait (a rejection that is not a
// DrillsterAuthError), which only packages/edge/test/background-work.test.ts produces.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { abandonAfter, parseClientOptions } from '../src/client-options.js';
import type { DrillsterAuth, DrillsterAuthOptions } from '../src/index.js';
import { emptySlot, pending } from '../src/token-slots.js';
import { generateKeyFile } from './helpers.js';
import { type Fixture, startFixture } from './server.js';

describe('abandonAfter', () => {
  const retry = { attempts: 3, baseDelay: 0, maxDelay: 1000 };

  it('with discovery: both requests, each attempt timing out after the longest backoff, the further keys and the shared cache', () => {
    // discovery 3 × 100 + 2 × 1000; mint (3 + 2) × 100 + 2 × 1000; shared cache 100
    expect(abandonAfter(retry, 100, 2, true)).toBe(4900);
    expect(abandonAfter({ attempts: 1, baseDelay: 0, maxDelay: 0 }, 50, 1, true)).toBe(200);
  });

  it('without discovery: the mint and the shared cache only', () => {
    expect(abandonAfter(retry, 100, 2, false)).toBe(2600);
    expect(abandonAfter({ attempts: 1, baseDelay: 0, maxDelay: 0 }, 50, 1, false)).toBe(150);
  });

  it('counts discovery only when there is no tokenEndpoint option', async () => {
    const { keyFile } = await generateKeyFile();
    const base = {
      key: keyFile,
      clientId: 'client',
      clientSecret: 'secret',
      retry: false as const,
      timeout: 50,
    };
    expect(parseClientOptions(base).abandonAfter).toBe(200);
    expect(
      parseClientOptions({ ...base, tokenEndpoint: 'https://example.com/daas/oauth/token' })
        .abandonAfter,
    ).toBe(150);
  });
});

describe('pending', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('holds a request in flight for less than abandonAfter, not at exactly abandonAfter', () => {
    const now = 1_700_000_000_000;
    vi.spyOn(Date, 'now').mockReturnValue(now);
    const slot = emptySlot();
    slot.inflight = new Promise(() => {});
    slot.inflightSince = now - 149;
    expect(pending(slot, 150)).toBe(true);
    slot.inflightSince = now - 150;
    expect(pending(slot, 150)).toBe(false);
  });
});

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});

afterAll(async () => {
  await fx.server.close();
});

const clients: DrillsterAuth[] = [];
function client(overrides: Partial<DrillsterAuthOptions> = {}): DrillsterAuth {
  const auth = fx.auth(overrides);
  clients.push(auth);
  return auth;
}

afterEach(() => {
  for (const auth of clients.splice(0)) auth.close();
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.events.length = 0;
});

const managedUser = () => fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId).userId;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isMetadata = (url: string) => url.includes('/.well-known/');
const isToken = (url: string) => url.endsWith('/daas/oauth/token');

/**
 * A `fetch` that holds each request `match` accepts until the test releases it (with the server's
 * answer, or with `answer`), whatever its signal does: a request left behind that settles late.
 * It ignores every request's signal.
 * `sent` counts the requests `match` accepted.
 */
function holding(match: (url: string) => boolean) {
  const held: ((answer?: Response) => void)[] = [];
  let sent = 0;
  const hold: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    // No request is timed out: on a busy machine a 50 ms timeout would fail the requests that
    // are not held, and abandonAfter, not the timeout, is what these tests are about.
    if (!match(url)) return fetch(input, { ...init, signal: undefined });
    sent += 1;
    return new Promise<Response>((resolve, reject) => {
      held.push((answer) => {
        if (answer) resolve(answer);
        else fetch(input, { ...init, signal: undefined }).then(resolve, reject);
      });
    });
  };
  return {
    fetch: hold,
    sent: () => sent,
    release: async (index: number, answer?: Response) => {
      await vi.waitFor(() => expect(held[index]).toBeDefined());
      held[index]!(answer);
    },
  };
}

// With retry off and a 500 ms timeout, abandonAfter is 2 s with discovery, 1.5 s without: room
// for a stalled machine between the steps that must fall inside it.
describe('a discovery in flight', () => {
  it('is joined by a caller for another subject, not started again', async () => {
    const metadata = holding(isMetadata);
    const auth = client({
      retry: false,
      timeout: 2000,
      issuer: fx.server.issuer,
      fetch: metadata.fetch,
    });
    const first = auth.getAccessToken();
    const second = auth.getAccessToken({ subject: managedUser() });
    await sleep(20);
    expect(metadata.sent()).toBe(1);
    await metadata.release(0);
    await Promise.all([first, second]);
    expect(metadata.sent()).toBe(1);
    expect(fx.server.mock.stats.metadataRequests).toBe(1);
  });

  it('that never settles is started again by its joiners at its deadline, once for all of them', async () => {
    const metadata = holding(isMetadata);
    const auth = client({
      retry: false,
      timeout: 500,
      issuer: fx.server.issuer,
      fetch: metadata.fetch,
    });
    const never = auth.getAccessToken();
    const from = performance.now();
    const joiners = Promise.all([
      auth.getAccessToken({ subject: managedUser() }),
      auth.getAccessToken({ subject: managedUser() }),
    ]);
    await vi.waitFor(() => expect(metadata.sent()).toBe(2), { timeout: 5000 });
    expect(performance.now() - from).toBeGreaterThanOrEqual(1990);
    await metadata.release(1);
    const [a, b] = await joiners;
    expect(a.accessToken).toBeTruthy();
    expect(b.accessToken).toBeTruthy();
    expect(metadata.sent()).toBe(2);
    expect(await Promise.race([never, 'pending'])).toBe('pending');
  });

  it('left behind that fails late does not drop the discovery that replaced it', async () => {
    const metadata = holding(isMetadata);
    const auth = client({
      retry: false,
      timeout: 500,
      issuer: fx.server.issuer,
      fetch: metadata.fetch,
    });
    const behind = auth.getAccessToken();
    behind.catch(() => {});
    await sleep(2200);
    const second = auth.getAccessToken({ subject: managedUser() });
    await vi.waitFor(() => expect(metadata.sent()).toBe(2));
    await metadata.release(0, new Response('', { status: 500 }));
    await expect(behind).rejects.toBeDefined();
    const third = auth.getAccessToken({ subject: managedUser() });
    await sleep(20);
    expect(metadata.sent()).toBe(2);
    await metadata.release(1);
    await Promise.all([second, third]);
  });

  it('that failed after one left behind found the endpoint is started again, not taken for found', async () => {
    const metadata = holding(isMetadata);
    const auth = client({
      retry: false,
      timeout: 500,
      issuer: fx.server.issuer,
      fetch: metadata.fetch,
    });
    const behind = auth.getAccessToken();
    await sleep(2200);
    const second = auth.getAccessToken({ subject: managedUser() });
    second.catch(() => {});
    await vi.waitFor(() => expect(metadata.sent()).toBe(2));
    // The discovery left behind finds the endpoint late; the one that replaced it fails.
    await metadata.release(0);
    await behind;
    await metadata.release(1, new Response('', { status: 500 }));
    await expect(second).rejects.toBeDefined();
    const third = auth.getAccessToken({ subject: managedUser() });
    await metadata.release(2);
    expect((await third).accessToken).toBeTruthy();
    expect(metadata.sent()).toBe(3);
  });
});

describe('a token request left behind', () => {
  it('that settles late does not drop the request that replaced it', async () => {
    const tokens = holding(isToken);
    const auth = client({
      retry: false,
      timeout: 500,
      tokenEndpoint: fx.server.tokenEndpoint,
      fetch: tokens.fetch,
    });
    const behind = auth.getAccessToken();
    await sleep(1700);
    const forced = auth.getAccessToken({ forceRefresh: true });
    await vi.waitFor(() => expect(tokens.sent()).toBe(2));
    await tokens.release(0);
    await behind;
    // The forced request is still in flight: another forced call joins it.
    const joiner = auth.getAccessToken({ forceRefresh: true });
    await sleep(20);
    expect(tokens.sent()).toBe(2);
    await tokens.release(1);
    expect(await joiner).toBe(await forced);
  });
});
