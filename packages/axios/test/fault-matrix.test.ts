/**
 * The shared fault matrix (issue 7) through the axios adapter: each fault at the token endpoint
 * or the metadata route ends in the right typed error or an answered request, within the attempt
 * bound, with nothing leaked, no unhandled rejection and no timer left running (testing's
 * runFaultCase checks what every adapter must show; the checks here are axios').
 */
import { Agent } from 'node:http';
import { createDrillsterAuth, type DrillsterAuth, DrillsterAuthError } from '@drillster-auth/core';
import {
  expectNoLeaks,
  faultMatrix,
  type MockProvision,
  type RunningMockDrillster,
  runFaultCase,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import axios, { type AxiosResponse } from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachDrillsterAuth } from '../src/index.js';

// No keep-alive: a pooled socket's idle timer would read as a timer the call left running.
const httpAgent = new Agent({ keepAlive: false });

let server: RunningMockDrillster;
let provision: MockProvision;

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
});

afterAll(async () => {
  await server.close();
});

describe('the fault matrix through axios', () => {
  for (const fault of faultMatrix) {
    it(fault.name, async () => {
      let client: DrillsterAuth | undefined;
      await runFaultCase<AxiosResponse>(server, provision, fault, {
        async setUp(options) {
          const auth = createDrillsterAuth({ ...provision.authOptions, ...options });
          client = auth;
          const api = axios.create({ baseURL: server.apiBaseUrl, httpAgent });
          const detach = attachDrillsterAuth(api, auth);
          return {
            call: () => api.get('user'),
            close: () => {
              detach();
              auth.close();
            },
          };
        },
        async checkAnswer(response, secrets) {
          expect(response.status).toBe(200);
          expect(response.data).toMatchObject({ id: provision.account.serviceAccountId });
          const accessToken = (await client?.getAccessToken())?.accessToken ?? '';
          expectNoLeaks(response, { ...secrets, accessToken }, 'the answer');
          // A token the mock does not know (the clamped lifetime case mints "abc") is refused by
          // the API; the 401 retry then costs one more token request and gets a real one.
          const clamped = fault.expect.token && fault.expect.maxLifetime !== undefined;
          return { accessToken, extraTokenRequests: clamped ? 1 : 0 };
        },
        checkError(error) {
          expect(error).toBeInstanceOf(DrillsterAuthError);
          expect(server.mock.stats.apiRequests).toBe(0);
        },
      });
    });
  }
});
