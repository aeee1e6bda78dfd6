import type { CachedToken, DrillsterAuth, TokenCache } from '@drillster-auth/core';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import axios, { type AxiosInstance } from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachDrillsterAuth } from '../src/index.js';
import { type Fixture, type Gateway, startFixture, startGateway } from './servers.js';

// After a 401 the interceptor asks core for a replacement token; these show the rules it now
// shares with the edge adapter.

let fixture: Fixture;
let gateway: Gateway;
let auth: DrillsterAuth;
let api: AxiosInstance;
let detach: () => void;

/** An eventually consistent shared cache: a delete does not reach it, so it keeps handing back what it held. */
function staleCache(): TokenCache {
  const entries = new Map<string, CachedToken>();
  return {
    get: (key) => entries.get(key),
    set: (key, token) => void entries.set(key, token),
    delete: () => {},
  };
}

beforeAll(async () => {
  fixture = await startFixture();
  gateway = await startGateway(fixture.server);
});

afterAll(async () => {
  await Promise.all([fixture.server.close(), gateway.close()]);
});

beforeEach(() => {
  auth = fixture.auth({ retry: false, cache: staleCache() });
  api = axios.create({ baseURL: gateway.apiBaseUrl });
  detach = attachDrillsterAuth(api, auth);
  gateway.requests.length = 0;
  gateway.revoked.clear();
});

afterEach(() => {
  detach();
  auth.close();
});

describe('a 401 with a shared cache that hands back the rejected token', () => {
  it('retries with a new token, never the rejected one', async () => {
    const { accessToken: old } = await auth.getAccessToken();
    gateway.revoked.add(old);
    fixture.server.mock.resetStats();
    const response = await api.get('user');
    expect(response.status).toBe(200);
    const sent = gateway.requests.map((r) => r.authorization?.replace(/^Bearer /, ''));
    expect(sent).toEqual([old, expect.not.stringMatching(old)]);
    expect(fixture.server.mock.stats.tokenRequests).toBe(1);
    expectNoLeaks(response, { old, new: sent[1] });
  });
});
