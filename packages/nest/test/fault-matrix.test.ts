/**
 * The shared fault matrix (issue 7) through the Nest module: a fresh module per fault, one
 * `getWidgetToken` call (default minimum validity), and the right typed error or a token,
 * within the attempt bound, with nothing leaked, no unhandled rejection and no timer left after
 * `app.close()`.
 */
import { DrillsterAuthError } from '@drillster-auth/core';
import {
  faultMatrix,
  type MockProvision,
  type RunningMockDrillster,
  runFaultCase,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillsterAuthModule, DrillsterAuthService, type WidgetToken } from '../src/index.js';

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

describe('the fault matrix through Nest', () => {
  for (const fault of faultMatrix) {
    it(fault.name, async () => {
      await runFaultCase<WidgetToken>(server, provision, fault, {
        async setUp(options) {
          const app = await Test.createTestingModule({
            imports: [
              DrillsterAuthModule.forRoot({
                ...provision.authOptions,
                ...options,
                api: { baseURL: server.apiBaseUrl },
              }),
            ],
          }).compile();
          await app.init();
          return {
            call: () => app.get(DrillsterAuthService).getWidgetToken(provision.managedUser.userId),
            close: () => app.close(),
          };
        },
        async checkAnswer(token) {
          if (fault.expect.token && fault.expect.maxLifetime !== undefined) {
            expect(token.expiresAt - Date.now()).toBeLessThanOrEqual(
              fault.expect.maxLifetime * 1000,
            );
          } else {
            expect(await server.mock.verifyAccessToken(token.token)).toMatchObject({
              subject: provision.managedUser.userId,
            });
          }
          return { accessToken: token.token };
        },
        checkError(error) {
          expect(error).toBeInstanceOf(DrillsterAuthError);
        },
      });
    });
  }
});
