/**
 * The shared fault matrix (issue 7) through the axios adapter: each fault at the token endpoint
 * or the metadata route ends in the right typed error or an answered request, within the attempt
 * bound, with nothing leaked, no unhandled rejection and no timer left running.
 */
import { Agent } from 'node:http';
import {
  createDrillsterAuth,
  DrillsterAuthError,
  type DrillsterAuthEvent,
} from '@drillster-auth/core';
import {
  expectNoLeaks,
  FAULT_MATRIX_CLIENT_OPTIONS,
  faultMatrix,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import axios, { type AxiosResponse } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachDrillsterAuth } from '../src/index.js';

let server: RunningMockDrillster;
let provision: MockProvision;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
// No keep-alive: a pooled socket's idle timer would read as a timer the call left running.
const httpAgent = new Agent({ keepAlive: false });

beforeAll(async () => {
  server = await startMockDrillster();
  provision = await server.provision();
  // Characters that every encoding spells differently, so each echo case has something to find.
  const hostile = server.mock.registerClient({
    clientSecret: `s3cr+t/${crypto.randomUUID()}=&"\\ü`,
  });
  provision = {
    ...provision,
    client: hostile,
    authOptions: { ...provision.authOptions, ...hostile },
  };
  process.on('unhandledRejection', onUnhandled);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await server.close();
});

beforeEach(() => {
  server.mock.clearFaults();
  server.mock.resetStats();
  unhandled.length = 0;
});

function timers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

/** The assertions actually sent, read off the wire, so the leak scan can look for each. */
function recordingFetch(assertions: string[]): typeof fetch {
  return async (input, init) => {
    if (typeof init?.body === 'string') {
      const assertion = new URLSearchParams(init.body).get('assertion');
      if (assertion !== null) assertions.push(assertion);
    }
    return fetch(input, init);
  };
}

describe('the fault matrix through axios', () => {
  for (const fault of faultMatrix) {
    it(fault.name, async () => {
      for (const injected of fault.faults()) server.mock.injectFault(injected);
      const events: DrillsterAuthEvent[] = [];
      const assertions: string[] = [];
      const auth = createDrillsterAuth({
        ...provision.authOptions,
        ...FAULT_MATRIX_CLIENT_OPTIONS,
        onEvent: (event) => events.push(event),
        fetch: recordingFetch(assertions),
      });
      const api = axios.create({ baseURL: server.apiBaseUrl, httpAgent });
      const detach = attachDrillsterAuth(api, auth);
      const timersBefore = timers();

      const outcome = await api.get('user').then(
        (response: AxiosResponse) => ({ response }),
        (error: unknown) => ({ error }),
      );

      const secrets: Record<string, string | undefined> = {
        clientSecret: provision.client.clientSecret,
        privateKey: provision.account.keyFile.privateKey,
      };
      assertions.forEach((assertion, i) => {
        secrets[`assertion ${i + 1}`] = assertion;
      });
      // A token the mock does not know (the clamped lifetime case mints "abc") is refused by the
      // API; the 401 retry then costs one more token request and gets a real one.
      let tokenRequests = fault.tokenRequests;
      if (fault.expect.token) {
        expect('error' in outcome ? outcome.error : undefined).toBeUndefined();
        const { response } = outcome as { response: AxiosResponse };
        expect(response.status).toBe(200);
        expect(response.data).toMatchObject({ id: provision.account.serviceAccountId });
        if (fault.expect.maxLifetime !== undefined) tokenRequests += 1;
        secrets.accessToken = (await auth.getAccessToken()).accessToken;
        expectNoLeaks(response, secrets, 'the answer');
      } else {
        expect('response' in outcome).toBe(false);
        const { error } = outcome as { error: DrillsterAuthError & { status?: number } };
        expect(error).toBeInstanceOf(DrillsterAuthError);
        expect(error.code).toBe(fault.expect.code);
        if (fault.expect.status !== undefined) expect(error.status).toBe(fault.expect.status);
        expectNoLeaks(error, secrets, 'the error');
        expect(server.mock.stats.apiRequests).toBe(0);
      }
      expect(server.mock.stats.tokenRequests).toBe(tokenRequests);
      expect(server.mock.stats.metadataRequests).toBe(fault.metadataRequests ?? 1);
      for (const event of events) expectNoLeaks(event, secrets, `the ${event.type} event`);

      detach();
      auth.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers()).toBeLessThanOrEqual(timersBefore);
      expect(unhandled).toEqual([]);
    });
  }
});
