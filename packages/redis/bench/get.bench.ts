import { createEncryptedTokenCache, type TokenCache } from '@drillster-auth/core';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { createRedisTokenCache } from '../src/index.js';
import { clientKinds, type TestClient } from '../test/helpers/clients.js';
import { type RedisCluster, startRedisCluster } from '../test/helpers/cluster.js';
import { uniquePrefix } from '../test/helpers/drillster.js';

// What a shared-cache hit costs a process that does not hold the token in memory yet.
const clients: TestClient[] = [];
const caches = new Map<string, TokenCache>();
const prefix = uniquePrefix('bench');
let cluster: RedisCluster | undefined;
const closeClusterClients: (() => unknown)[] = [];

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
  // The same hit on a real 3-primary cluster: one more hop only if the client's slot map is stale.
  cluster = await startRedisCluster();
  const ioredisCluster = new Cluster(cluster.startupNodes, { lazyConnect: true });
  await ioredisCluster.connect();
  const nodeRedisCluster = createCluster({
    rootNodes: cluster.startupNodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
  });
  await nodeRedisCluster.connect();
  closeClusterClients.push(
    () => ioredisCluster.disconnect(),
    () => nodeRedisCluster.destroy(),
  );
  for (const [name, client] of [
    ['ioredis Cluster', ioredisCluster],
    ['node-redis createCluster', nodeRedisCluster],
  ] as const) {
    const store = createRedisTokenCache({ client, prefix });
    await store.set('plain', token);
    caches.set(name, store);
  }
});

afterAll(async () => {
  await clients[0]?.raw.del(await clients[0].raw.keys(`${prefix}*`));
  await Promise.all(clients.map((client) => client.close()));
  for (const close of closeClusterClients) close();
  await cluster?.close();
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

describe('RedisTokenCache.get (hit) on a 3-primary cluster', () => {
  for (const name of ['ioredis Cluster', 'node-redis createCluster']) {
    bench(name, async () => {
      await caches.get(name)!.get('plain');
    });
  }
});
