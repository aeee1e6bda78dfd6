import { inspect } from 'node:util';
import {
  expectNoLeaks,
  FAULT_MATRIX_CLIENT_OPTIONS,
  faultMatrix,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AccessToken,
  createDrillsterAuth,
  DrillsterAuthError,
  type DrillsterAuthEvent,
} from '../src/index.js';

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

afterEach(() => server.mock.clearFaults());

/** Timers and sockets the process holds; what a call leaves behind shows as growth. */
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

const MIB = 1024 * 1024;

describe('the fault matrix through core', () => {
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
      const timersBefore = timers();
      const rssBefore = process.memoryUsage().rss;
      const started = performance.now();

      const outcome = await auth.getAccessToken().then(
        (token: AccessToken) => ({ token }),
        (error: unknown) => ({ error }),
      );

      const elapsed = performance.now() - started;
      const grown = process.memoryUsage().rss - rssBefore;
      if (fault.expect.token) {
        expect('error' in outcome ? outcome.error : undefined).toBeUndefined();
        const { token } = outcome as { token: AccessToken };
        expect(() => [String(token), inspect(token), JSON.stringify(token)]).not.toThrow();
        if (fault.expect.maxLifetime === undefined) {
          expect(await server.mock.verifyAccessToken(token.accessToken)).toBeDefined();
        } else {
          expect(token.expiresAt - Date.now()).toBeLessThanOrEqual(fault.expect.maxLifetime * 1000);
        }
      } else {
        expect('token' in outcome).toBe(false);
        const { error } = outcome as { error: DrillsterAuthError & { status?: number } };
        expect(error).toBeInstanceOf(DrillsterAuthError);
        expect(error.code).toBe(fault.expect.code);
        if (fault.expect.status !== undefined) expect(error.status).toBe(fault.expect.status);
        expect(() => [
          String(error),
          inspect(error, { showHidden: true, getters: true }),
        ]).not.toThrow();
      }
      expect(server.mock.stats.tokenRequests).toBe(fault.tokenRequests);
      expect(server.mock.stats.metadataRequests).toBe(fault.metadataRequests ?? 1);

      const secrets: Record<string, string> = {
        clientSecret: provision.client.clientSecret,
        privateKey: provision.account.keyFile.privateKey,
      };
      assertions.forEach((assertion, i) => {
        secrets[`assertion ${i + 1}`] = assertion;
      });
      if ('error' in outcome) expectNoLeaks(outcome.error, secrets, 'the error');
      for (const event of events) expectNoLeaks(event, secrets, `the ${event.type} event`);

      // Huge bodies are refused as they stream in: fast, and without buffering them.
      expect(elapsed).toBeLessThan(20_000);
      expect(grown).toBeLessThan(96 * MIB);
      auth.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers()).toBeLessThanOrEqual(timersBefore);
      expect(unhandled).toEqual([]);
    });
  }
});
