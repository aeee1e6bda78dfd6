import type { DrillsterAuthEvent } from '@drillster-auth/core';
import {
  expectNoLeaks,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AxiosInstance } from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DRILLSTER_API,
  DrillsterAuthModule,
  type DrillsterAuthModuleOptions,
  DrillsterAuthService,
} from '../src/index.js';

// One clock for the client and the mock, so a round can move past a token's life without waiting.
let now = Date.now();
const clock = () => now;

let server: RunningMockDrillster;
let app: TestingModule | undefined;

beforeAll(async () => {
  server = await startMockDrillster({ clock });
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  server.mock.setTokenLifetime(3600);
  server.mock.resetStats();
});

afterAll(() => server.close());

describe.each(['forRoot', 'forRootAsync'] as const)(
  'DrillsterAuthModule.%s with a key list',
  (how) => {
    it('fails no call when the first key is deleted in the middle of a run of concurrent callers, at most one extra token request per subject', async () => {
      const { account, client, managedUser, authOptions } = await server.provision();
      const serviceAccountId = account.serviceAccountId;
      const [first, second]: MockServiceAccount[] = [
        await server.mock.addKey(serviceAccountId),
        await server.mock.addKey(serviceAccountId),
      ];
      const subjects = [
        serviceAccountId,
        managedUser.userId,
        ...[1, 2, 3].map(() => server.mock.addManagedUser(serviceAccountId).userId),
      ];
      const events: DrillsterAuthEvent[] = [];
      const options: DrillsterAuthModuleOptions = {
        ...authOptions,
        key: [first!.keyFileJson, second!.keyFile],
        clock,
        onEvent: (event) => events.push(event),
        api: { baseURL: server.apiBaseUrl },
      };
      const module =
        how === 'forRoot'
          ? DrillsterAuthModule.forRoot(options)
          : DrillsterAuthModule.forRootAsync({ useFactory: async () => options });
      app = await Test.createTestingModule({ imports: [module] }).compile();
      await app.init();
      const api = app.get<AxiosInstance>(DRILLSTER_API);
      const service = app.get(DrillsterAuthService);
      // Two-minute tokens: the rounds stay inside the ten minutes a refused key is passed over.
      server.mock.setTokenLifetime(120);

      const failures: unknown[] = [];
      const round = () =>
        Promise.all(
          subjects.flatMap((subject) =>
            Array.from({ length: 8 }, async (_, i) => {
              try {
                // Half through the API client, half through the service.
                if (i % 2 === 0) {
                  const response = await api.get('user', { drillster: { subject } });
                  expect(response.data).toMatchObject({ id: subject });
                } else {
                  const token = await service.getAccessToken({ subject });
                  expect(await server.mock.verifyAccessToken(token.accessToken)).toBeDefined();
                }
              } catch (error) {
                failures.push(error);
              }
            }),
          ),
        );
      const rounds = 4;
      for (let r = 0; r < rounds; r++) {
        const running = round();
        if (r === 1) {
          await vi.waitFor(() =>
            expect(server.mock.stats.tokenRequests).toBeGreaterThan(subjects.length),
          );
          server.mock.revokeKey(first!.keyId);
        }
        await running;
        now += 120_000; // every token is stale: the next round mints again
      }

      expect(failures).toEqual([]);
      const bySubject = server.mock.stats.tokenRequestsBySubject;
      for (const subject of subjects) {
        expect(bySubject[subject]).toBeGreaterThanOrEqual(rounds);
        expect(bySubject[subject]).toBeLessThanOrEqual(rounds + 1);
      }
      expect(events.filter((event) => event.type === 'key_rejected')).toEqual([
        expect.objectContaining({ keyId: first!.keyId, acceptedKeyId: second!.keyId }),
      ]);
      expectNoLeaks(
        events,
        {
          first: first!.keyFile.privateKey,
          second: second!.keyFile.privateKey,
          clientSecret: client.clientSecret,
        },
        'events',
      );
    });

    it('refuses keys of two service accounts at bootstrap', async () => {
      const { authOptions } = await server.provision();
      const stranger = await server.mock.createServiceAccount();
      const options: DrillsterAuthModuleOptions = {
        ...authOptions,
        key: [authOptions.key, stranger.keyFile],
      };
      const module =
        how === 'forRoot'
          ? DrillsterAuthModule.forRoot(options)
          : DrillsterAuthModule.forRootAsync({ useFactory: () => options });
      const compiling = Test.createTestingModule({ imports: [module] })
        .compile()
        .then(async (compiled) => {
          app = compiled;
          await compiled.init();
        });
      await expect(compiling).rejects.toMatchObject({
        name: 'ConfigurationError',
        code: 'ERR_INVALID_OPTIONS',
      });
    });
  },
);
