import { inspect } from 'node:util';
import {
  faultMatrix,
  type MockProvision,
  type RunningMockDrillster,
  runFaultCase,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessToken, createDrillsterAuth, DrillsterAuthError } from '../src/index.js';

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

describe('the fault matrix through core', () => {
  for (const fault of faultMatrix) {
    it(fault.name, async () => {
      await runFaultCase<AccessToken>(server, provision, fault, {
        async setUp(options) {
          const auth = createDrillsterAuth({ ...provision.authOptions, ...options });
          return { call: () => auth.getAccessToken(), close: () => auth.close() };
        },
        async checkAnswer(token) {
          expect(() => [String(token), inspect(token), JSON.stringify(token)]).not.toThrow();
          if (fault.expect.token && fault.expect.maxLifetime !== undefined) {
            expect(token.expiresAt - Date.now()).toBeLessThanOrEqual(
              fault.expect.maxLifetime * 1000,
            );
          } else {
            expect(await server.mock.verifyAccessToken(token.accessToken)).toBeDefined();
          }
          return { accessToken: token.accessToken };
        },
        checkError(error) {
          expect(error).toBeInstanceOf(DrillsterAuthError);
        },
      });
    });
  }
});
