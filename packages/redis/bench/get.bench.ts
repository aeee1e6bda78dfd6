import { createEncryptedTokenCache, type TokenCache } from '@drillster-auth/core';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { createRedisTokenCache } from '../src/index.js';
import { clientKinds, type TestClient } from '../test/helpers/clients.js';
import { uniquePrefix } from '../test/helpers/drillster.js';

// What a shared-cache hit costs a process that does not hold the token in memory yet.
const clients: TestClient[] = [];
const caches = new Map<string, TokenCache>();
const prefix = uniquePrefix('bench');

beforeAll(async () => {
  const token = {
    accessToken: 'x'.repeat(600),
    expiresAt: Date.now() + 3_600_000,
    issuedAt: Date.now(),
    subject: 'bench',
  };
  for (const kind of clientKinds) {
    const client = await kind.connect();
    clients.push(client);
    const plain = createRedisTokenCache({ client: client.client, prefix });
    const encrypted = createEncryptedTokenCache(plain, {
      secret: 'a bench secret of 32 bytes......',
    });
    await plain.set('plain', token);
    await encrypted.set('encrypted', token);
    caches.set(`${kind.name}`, plain);
    caches.set(`${kind.name} encrypted`, encrypted);
  }
});

afterAll(async () => {
  await clients[0]?.raw.del(await clients[0].raw.keys(`${prefix}*`));
  await Promise.all(clients.map((client) => client.close()));
});

describe('RedisTokenCache.get (hit)', () => {
  for (const kind of clientKinds) {
    bench(kind.name, async () => {
      await caches.get(kind.name)!.get('plain');
    });
    bench(`${kind.name}, encrypted`, async () => {
      await caches.get(`${kind.name} encrypted`)!.get('encrypted');
    });
  }
});
