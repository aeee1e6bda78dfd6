import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { vi } from 'vitest';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? '/usr/bin/redis-cli';

/** Every server any helper started in this process, killed on exit should a test runner skip teardown. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One `redis-server` process of ours. */
export interface RedisProcess {
  readonly port: number;
  /** An admin connection for assertions and cluster commands. */
  readonly admin: Redis;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

/**
 * Starts `redis-server` with `args` on `port` (loopback only, no persistence, files in `dir`)
 * and waits until it accepts connections.
 */
export async function spawnRedis(
  dir: string,
  port: number,
  args: string[],
  ready = 'Ready to accept connections',
): Promise<RedisProcess> {
  const child = spawn(
    REDIS_SERVER,
    [
      ...args,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('exit', (code) =>
      reject(
        new Error(`redis-server on ${port} exited with ${code} before it was ready:\n${output}`),
      ),
    );
    child.once('error', reject);
  });
  const admin = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50 });
  admin.on('error', () => {
    // Expected while the server is killed; assertions use the replies, not the events.
  });
  await admin.connect();
  return {
    port,
    admin,
    async kill() {
      admin.disconnect();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A temporary directory for server files, and how to remove it. */
export async function tempDir(label: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `drillster-auth-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** `vi.waitFor` on a check that says yes or no: every 50 ms, failing with `what` after `timeout` ms. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeout = 20_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check().catch(() => false))) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout, interval: 50 },
  );
}

/** A cluster node: a primary of ours, with its cluster node id. */
export interface ClusterNode extends RedisProcess {
  readonly id: string;
}

/** A real Redis Cluster of three primaries on loopback, in a temp dir. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** Startup nodes in the shape both client libraries accept. */
  readonly startupNodes: { host: string; port: number }[];
  /** The slot of `key`. */
  slotOf(key: string): Promise<number>;
  /** The primary that serves `slot` now, as every live node sees it. */
  ownerOf(slot: number): Promise<ClusterNode>;
  /**
   * Moves `slot` to `target` in the steps `redis-cli --cluster reshard` takes, stopping after
   * the keys have moved but before the slot is handed over, so that clients get `ASK`.
   * Call the returned `finish()` to hand it over; clients then get `MOVED`.
   */
  startMigration(slot: number, target: ClusterNode): Promise<{ finish(): Promise<void> }>;
  /** Kills every node and removes the temp dir. */
  close(): Promise<void>;
}

/**
 * Starts three `redis-server --cluster-enabled yes` on free loopback ports and joins them with
 * `redis-cli --cluster create`, then waits until every node reports `cluster_state:ok` and
 * knows the other two. Everything started is torn down if a step fails.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await tempDir('cluster');
  const started: RedisProcess[] = [];
  const close = async () => {
    await Promise.all(started.map((node) => node.kill()));
    await dir.remove();
  };
  try {
    for (let index = 0; index < 3; index++) {
      const [port, busPort] = [await freePort(), await freePort()];
      started.push(
        await spawnRedis(dir.path, port, [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          join(dir.path, `nodes-${port}.conf`),
          // Shorter than the default 15 s, yet long enough that a node stalled by a busy machine
          // is not failed by its peers (with no replicas, that would take the cluster down).
          '--cluster-node-timeout',
          '5000',
        ]),
      );
    }
    await promisify(execFile)(
      REDIS_CLI,
      [
        '--cluster',
        'create',
        ...started.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const nodes: ClusterNode[] = await Promise.all(
      started.map(async (node) => ({
        ...node,
        id: (await node.admin.cluster('MYID')) as string,
      })),
    );
    await until('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(
        nodes.map((node) => node.admin.cluster('INFO') as Promise<string>),
      );
      return infos.every(
        (info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'),
      );
    });

    const live = async () => {
      const answers = await Promise.all(
        nodes.map((node) =>
          node.admin.ping().then(
            () => node,
            () => undefined,
          ),
        ),
      );
      return answers.filter((node) => node !== undefined);
    };
    const ownerOf = async (slot: number): Promise<ClusterNode> => {
      const owners = new Set<string>();
      for (const node of await live()) {
        for (const [from, to, primary] of await node.admin.cluster('SLOTS')) {
          if (slot >= from && slot <= to && primary !== undefined) owners.add(primary[2]);
        }
      }
      const [id, ...others] = [...owners];
      const owner = nodes.find((node) => node.id === id);
      if (owner === undefined || others.length > 0) {
        throw new Error(`slot ${slot} has no single owner (${[...owners].join(', ')})`);
      }
      return owner;
    };

    return {
      nodes,
      startupNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
      slotOf: async (key) => (await nodes[0]!.admin.cluster('KEYSLOT', key)) as number,
      ownerOf,
      async startMigration(slot, target) {
        const source = await ownerOf(slot);
        if (source === target) throw new Error(`slot ${slot} is on ${target.port} already`);
        await target.admin.cluster('SETSLOT', slot, 'IMPORTING', source.id);
        await source.admin.cluster('SETSLOT', slot, 'MIGRATING', target.id);
        const keys = (await source.admin.cluster('GETKEYSINSLOT', slot, 1000)) as string[];
        if (keys.length > 0) {
          await source.admin.migrate('127.0.0.1', target.port, '', 0, 5_000, 'KEYS', ...keys);
        }
        return {
          async finish() {
            // The order redis-cli uses: the importing side first, so the slot is never ownerless.
            await target.admin.cluster('SETSLOT', slot, 'NODE', target.id);
            await source.admin.cluster('SETSLOT', slot, 'NODE', target.id);
            for (const node of nodes) {
              if (node !== source && node !== target) {
                await node.admin.cluster('SETSLOT', slot, 'NODE', target.id);
              }
            }
            await until(`slot ${slot} owned by ${target.port}`, async () => {
              return (await ownerOf(slot)) === target;
            });
          },
        };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
