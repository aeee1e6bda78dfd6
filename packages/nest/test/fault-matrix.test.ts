/**
 * The shared fault matrix (issue 7) through the Nest module: a fresh module per fault, one
 * `getWidgetToken` call (default minimum validity), and the right typed error or a token,
 * within the attempt bound, with nothing leaked, no unhandled rejection and no timer left after
 * `app.close()`.
 */
import { DrillsterAuthError, type DrillsterAuthEvent } from '@drillster-auth/core';
import {
  expectNoLeaks,
  FAULT_MATRIX_CLIENT_OPTIONS,
  faultMatrix,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DrillsterAuthModule, DrillsterAuthService, type WidgetToken } from '../src/index.js';

let server: RunningMockDrillster;
let provision: MockProvision;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

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

describe('the fault matrix through Nest', () => {
  for (const fault of faultMatrix) {
    it(fault.name, async () => {
      const events: DrillsterAuthEvent[] = [];
      const assertions: string[] = [];
      const timersBefore = timers();
      const app = await Test.createTestingModule({
        imports: [
          DrillsterAuthModule.forRoot({
            ...provision.authOptions,
            ...FAULT_MATRIX_CLIENT_OPTIONS,
            onEvent: (event) => events.push(event),
            fetch: recordingFetch(assertions),
            api: { baseURL: server.apiBaseUrl },
          }),
        ],
      }).compile();
      await app.init();
      for (const injected of fault.faults()) server.mock.injectFault(injected);

      const outcome = await app
        .get(DrillsterAuthService)
        .getWidgetToken(provision.managedUser.userId)
        .then(
          (token: WidgetToken) => ({ token }),
          (error: unknown) => ({ error }),
        );

      const secrets: Record<string, string | undefined> = {
        clientSecret: provision.client.clientSecret,
        privateKey: provision.account.keyFile.privateKey,
      };
      assertions.forEach((assertion, i) => {
        secrets[`assertion ${i + 1}`] = assertion;
      });
      if (fault.expect.token) {
        expect('error' in outcome ? outcome.error : undefined).toBeUndefined();
        const { token } = outcome as { token: WidgetToken };
        if (fault.expect.maxLifetime === undefined) {
          expect(await server.mock.verifyAccessToken(token.token)).toMatchObject({
            subject: provision.managedUser.userId,
          });
        } else {
          expect(token.expiresAt - Date.now()).toBeLessThanOrEqual(fault.expect.maxLifetime * 1000);
        }
        secrets.accessToken = token.token;
      } else {
        expect('token' in outcome).toBe(false);
        const { error } = outcome as { error: DrillsterAuthError & { status?: number } };
        expect(error).toBeInstanceOf(DrillsterAuthError);
        expect(error.code).toBe(fault.expect.code);
        if (fault.expect.status !== undefined) expect(error.status).toBe(fault.expect.status);
        expectNoLeaks(error, secrets, 'the error');
      }
      expect(server.mock.stats.tokenRequests).toBe(fault.tokenRequests);
      expect(server.mock.stats.metadataRequests).toBe(fault.metadataRequests ?? 1);
      for (const event of events) expectNoLeaks(event, secrets, `the ${event.type} event`);

      await app.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers()).toBeLessThanOrEqual(timersBefore);
      expect(unhandled).toEqual([]);
    });
  }
});
