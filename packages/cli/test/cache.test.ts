import type { MockClient } from '@drillster-auth/testing';
import { expectNoLeaks, startMockDrillster } from '@drillster-auth/testing/node';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The real topologies the redis package's tests start, reused rather than copied.
import { type RedisCluster, startRedisCluster } from '../../redis/test/helpers/cluster.js';
import {
  MASTER_NAME,
  type RedisSentinel,
  startRedisSentinel,
} from '../../redis/test/helpers/sentinel.js';
import { parseCacheUrl } from '../src/cache.js';
import { Secrets } from '../src/secrets.js';
import { CORRUPT_KEY_FILE, closedPort, expectFailure, run, tempDir } from './helpers.js';

/** The Redis the repository's tests use. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let server: Awaited<ReturnType<typeof startMockDrillster>>;
let client: MockClient;
let privateKey: string;
let dir: Awaited<ReturnType<typeof tempDir>>;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startMockDrillster();
  // Short-lived tokens, so the entries these tests leave in Redis expire soon.
  server.mock.setTokenLifetime(120);
  const provisioned = await server.provision();
  const { account } = provisioned;
  privateKey = account.keyFile.privateKey;
  client = provisioned.client;
  dir = await tempDir();
  env = {
    DRILLSTER_KEY_FILE: await dir.file('key.json', account.keyFileJson),
    DRILLSTER_CLIENT_ID: client.clientId,
    DRILLSTER_CLIENT_SECRET: client.clientSecret,
    DRILLSTER_ISSUER: server.issuer,
  };
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

describe('token --cache', () => {
  it('repeated runs share one token through Redis, by flag or by DRILLSTER_CACHE', async () => {
    server.mock.resetStats();
    const first = await run(['token', '--cache', REDIS_URL], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const second = await run(['token', '--cache', REDIS_URL], env);
    const third = await run(['token'], { ...env, DRILLSTER_CACHE: REDIS_URL });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(server.mock.stats.tokensIssued).toBe(1);

    const uncached = await run(['token'], env);
    expect(uncached.stdout).not.toBe(first.stdout);
    expect(server.mock.stats.tokensIssued).toBe(2);
  });

  it('an unreachable cache costs a warning, not the token, and hides its password', async () => {
    server.mock.resetStats();
    // Characters that URL encoding changes, so the encoded form is checked for too.
    const password = 'cache/pass+word=1';
    const url = `redis://:${encodeURIComponent(password)}@127.0.0.1:${await closedPort()}/0`;
    const result = await run(['token', '--cache', url], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\S+\n$/);
    expect(result.stderr).toMatch(
      /^drillster-auth: warning: the token cache at redis:\/\/127\.0\.0\.1:\d+\/0 is unavailable \(ECONNREFUSED\); continuing without it\n$/,
    );
    expect(server.mock.stats.tokensIssued).toBe(1);
    expectNoLeaks(result.stderr, {
      password,
      clientSecret: client.clientSecret,
      privateKey,
      assertion: server.mock.stats.lastAssertion,
    });
  });

  it('closes the Redis connection when the key file is unusable', async () => {
    const result = await run(['token', '--cache', REDIS_URL, '--key-file', CORRUPT_KEY_FILE], env);
    expectFailure(result, 2, 'ERR_KEY_FILE_MALFORMED_KEY', [client.clientSecret]);
  });

  it('exits 2 for a cache URL that is not Redis', async () => {
    server.mock.resetStats();
    const result = await run(['token', '--cache', 'http://127.0.0.1:6379'], env);
    expectFailure(result, 2, 'ERR_INVALID_CONFIG', [client.clientSecret]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });
});

describe('token --cache with a Redis Cluster or Sentinel URL', () => {
  let cluster: RedisCluster;
  let sentinel: RedisSentinel;

  beforeAll(async () => {
    [cluster, sentinel] = await Promise.all([startRedisCluster(), startRedisSentinel()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([cluster?.close(), sentinel?.close()]);
  });

  it('redis+cluster://HOST:PORT,HOST:PORT: repeated runs share one token stored on the cluster', async () => {
    server.mock.resetStats();
    const url = `redis+cluster://${cluster.startupNodes.map(({ port }) => `127.0.0.1:${port}`).join(',')}`;
    const first = await run(['token', '--cache', url], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const second = await run(['token'], { ...env, DRILLSTER_CACHE: url });
    expect(second).toEqual(first);
    expect(server.mock.stats.tokensIssued).toBe(1);
    const redis = new Cluster(cluster.startupNodes);
    try {
      const stored = await Promise.all(
        cluster.nodes.map(async (node) => node.admin.keys('drillster-auth:*')),
      );
      const [key, ...others] = stored.flat();
      expect(others).toEqual([]);
      expect(JSON.parse((await redis.get(key!))!).accessToken).toBe(first.stdout.trim());
    } finally {
      redis.disconnect();
    }
  });

  it('redis+sentinel://HOST:PORT/MASTER: repeated runs share one token stored on the primary', async () => {
    server.mock.resetStats();
    const url = `redis+sentinel://127.0.0.1:${sentinel.sentinel.port}/${MASTER_NAME}`;
    const first = await run(['token', '--cache', url], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const second = await run(['token'], { ...env, DRILLSTER_CACHE: url });
    expect(second).toEqual(first);
    expect(server.mock.stats.tokensIssued).toBe(1);
    const [key] = await sentinel.primary.admin.keys('drillster-auth:*');
    expect(JSON.parse((await sentinel.primary.admin.get(key!))!).accessToken).toBe(
      first.stdout.trim(),
    );
  });

  it('an unreachable cluster or sentinel costs a warning, not the token, and hides every password', async () => {
    const password = 'node/pass+word=1';
    const sentinelPassword = 'sentinel/pass+word=2';
    const [a, b] = [await closedPort(), await closedPort()];
    for (const [url, shown] of [
      [
        `redis+cluster://app:${encodeURIComponent(password)}@127.0.0.1:${a},127.0.0.1:${b}`,
        `redis\\+cluster://127\\.0\\.0\\.1:${a},127\\.0\\.0\\.1:${b}`,
      ],
      [
        `redis+sentinel://:${encodeURIComponent(password)}@127.0.0.1:${a}/${MASTER_NAME}/0?sentinelPassword=${encodeURIComponent(sentinelPassword)}`,
        `redis\\+sentinel://127\\.0\\.0\\.1:${a}/${MASTER_NAME}/0`,
      ],
    ] as const) {
      server.mock.resetStats();
      const result = await run(['token', '--cache', url], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^\S+\n$/);
      expect(result.stderr).toMatch(
        new RegExp(
          `^drillster-auth: warning: the token cache at ${shown} is unavailable \\([^)]+\\); continuing without it\n$`,
        ),
      );
      expect(server.mock.stats.tokensIssued).toBe(1);
      expectNoLeaks(result.stderr, {
        password,
        sentinelPassword,
        clientSecret: client.clientSecret,
        privateKey,
        assertion: server.mock.stats.lastAssertion,
      });
    }
  });

  it.each([
    ['no hosts', 'redis+cluster://'],
    ['an empty host', 'redis+cluster://127.0.0.1:7000,:7001'],
    ['a port out of range', 'redis+cluster://127.0.0.1:70000'],
    ['a database on a cluster', 'redis+cluster://127.0.0.1:7000/1'],
    ['a query on a cluster', 'redis+cluster://127.0.0.1:7000?password=hunter2-secret'],
    ['no primary name', 'redis+sentinel://127.0.0.1:26379'],
    ['a database that is no number', 'redis+sentinel://127.0.0.1:26379/mymaster/x'],
    ['an unknown query parameter', 'redis+sentinel://127.0.0.1:26379/m?passwd=hunter2-secret'],
    ['a malformed password escape', 'redis+sentinel://:hunter2%zz@127.0.0.1:26379/m'],
  ])('exits 2 (ERR_INVALID_CONFIG) for %s, before any token request', async (_, url) => {
    server.mock.resetStats();
    const result = await run(['token', '--cache', url], env);
    expectFailure(result, 2, 'ERR_INVALID_CONFIG', [
      client.clientSecret,
      'hunter2-secret',
      'hunter2%zz',
    ]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });
});

describe('parseCacheUrl', () => {
  it('reads hosts, default ports, credentials (percent-decoded), the primary name and database', () => {
    const secrets = new Secrets();
    expect(
      parseCacheUrl('redis+cluster://app:p%40ss%2Fword@10.0.0.1:7000,[::1]:7001,redis-2', secrets),
    ).toEqual({
      kind: 'cluster',
      display: 'redis+cluster://10.0.0.1:7000,[::1]:7001,redis-2',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
        { host: 'redis-2', port: 6379 },
      ],
      username: 'app',
      password: 'p@ss/word',
    });
    expect(
      parseCacheUrl(
        'redis+sentinel://:s3cret-pass@s1:26380,s2/my%20primary/2?sentinelUsername=watch&sentinelPassword=w%2Btch-pass',
        secrets,
      ),
    ).toEqual({
      kind: 'sentinel',
      display: 'redis+sentinel://s1:26380,s2/my%20primary/2',
      nodes: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      master: 'my primary',
      db: 2,
      password: 's3cret-pass',
      sentinelUsername: 'watch',
      sentinelPassword: 'w+tch-pass',
    });
    // Every password is scrubbed from what the CLI prints, however it is spelled.
    expect(
      secrets.redact('p@ss/word p%40ss%2Fword s3cret-pass w+tch-pass w%2Btch-pass'),
    ).not.toMatch(/p@ss|p%40ss|s3cret|w\+tch|w%2Btch/);
  });
});
