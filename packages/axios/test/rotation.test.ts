import { createDrillsterAuth, type DrillsterAuthEvent } from '@drillster-auth/core';
import {
  expectNoLeaks,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attachDrillsterAuth } from '../src/index.js';

// One clock for the client and the mock, so a round can move past a token's life without waiting.
let now = Date.now();
const clock = () => now;

let server: RunningMockDrillster;

beforeAll(async () => {
  server = await startMockDrillster({ clock });
});

afterAll(() => server.close());

describe('deleting the first key in the middle of a run of concurrent callers', () => {
  it('fails no request through axios and costs at most one extra token request per subject', async () => {
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
    const auth = createDrillsterAuth({
      ...authOptions,
      key: [first!.keyFileJson, second!.keyFile],
      clock,
      onEvent: (event) => events.push(event),
    });
    const api = axios.create({ baseURL: server.apiBaseUrl });
    attachDrillsterAuth(api, auth);
    // Two-minute tokens: the rounds stay inside the ten minutes a refused key is passed over.
    server.mock.setTokenLifetime(120);

    const failures: unknown[] = [];
    const round = () =>
      Promise.all(
        subjects.flatMap((subject) =>
          Array.from({ length: 8 }, () =>
            api.get('user', { drillster: { subject } }).then(
              (response) => expect(response.data).toMatchObject({ id: subject }),
              (error: unknown) => failures.push(error),
            ),
          ),
        ),
      );
    const rounds = 4;
    try {
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
    } finally {
      auth.close();
    }

    expect(failures).toEqual([]);
    const bySubject = server.mock.stats.tokenRequestsBySubject;
    for (const subject of subjects) {
      expect(bySubject[subject]).toBeGreaterThanOrEqual(rounds);
      expect(bySubject[subject]).toBeLessThanOrEqual(rounds + 1);
    }
    const rejected = events.filter((event) => event.type === 'key_rejected');
    expect(rejected).toEqual([
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
});
