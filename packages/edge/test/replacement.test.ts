import { type CachedToken, createDrillsterAuth, type TokenCache } from '@drillster-auth/core';
import {
  expectNoLeaks,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createDrillsterFetch } from '../src/index.js';

// After a 401 the fetch asks core for a replacement token; on Node, against the mock on loopback.

let server: RunningMockDrillster;
let provision: MockProvision;

beforeAll(async () => {
  server = await startMockDrillster();
  provision = await server.provision();
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => server.mock.resetStats());

/** Sends to the mock, but answers 401 itself for the tokens in `revoked`; records each token sent. */
function gateway(revoked: Set<string>, sent: string[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
    sent.push(token);
    if (revoked.has(token)) return new Response('{"error":"invalid_token"}', { status: 401 });
    return fetch(request);
  };
}

/** An eventually consistent shared cache: a delete does not reach it, so it keeps handing back what it held. */
function staleCache(): TokenCache {
  const entries = new Map<string, CachedToken>();
  return {
    get: (key) => entries.get(key),
    set: (key, token) => void entries.set(key, token),
    delete: () => {},
  };
}

describe('createDrillsterFetch after a 401', () => {
  test('a shared cache that hands back the rejected token: retried with a new token', async () => {
    const auth = createDrillsterAuth({ ...provision.authOptions, cache: staleCache() });
    const { accessToken: old } = await auth.getAccessToken();
    const sent: string[] = [];
    const drillsterFetch = createDrillsterFetch({
      auth,
      allowedOrigins: [server.apiBaseUrl],
      fetch: gateway(new Set([old]), sent),
    });
    const response = await drillsterFetch(`${server.apiBaseUrl}user`);
    expect(response.status).toBe(200);
    expect(sent).toEqual([old, expect.not.stringMatching(old)]);
    auth.close();
  });

  test('a token endpoint that issues the rejected token again: rejects with ERR_INVALID_TOKEN_RESPONSE, no token in the error', async () => {
    const same = 'always-the-same-token';
    const auth = createDrillsterAuth({
      ...provision.authOptions,
      // The mock's token response, with one fixed token in it.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const url = input instanceof Request ? input.url : String(input);
        if (!url.endsWith('/token') || !response.ok) return response;
        const body = (await response.json()) as Record<string, unknown>;
        return Response.json({ ...body, access_token: same });
      },
    });
    const sent: string[] = [];
    const drillsterFetch = createDrillsterFetch({
      auth,
      allowedOrigins: [server.apiBaseUrl],
      fetch: gateway(new Set([same]), sent),
    });
    const error = await drillsterFetch(`${server.apiBaseUrl}user`).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TokenResponseError', code: 'ERR_INVALID_TOKEN_RESPONSE' });
    expectNoLeaks(error, { same, clientSecret: provision.authOptions.clientSecret });
    expect(sent).toEqual([same]);
    expect(server.mock.stats.tokenRequests).toBe(3);
    auth.close();
  });
});
