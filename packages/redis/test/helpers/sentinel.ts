import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, type RedisProcess, spawnRedis, tempDir, until } from './cluster.js';

/** The name the sentinel monitors the primary under. */
export const MASTER_NAME = 'drillster-auth-test';

/** A real Sentinel setup on loopback, in a temp dir: one primary, one replica, one sentinel. */
export interface RedisSentinel {
  /** The primary at start; after {@link RedisSentinel.failover} it is dead. */
  readonly primary: RedisProcess;
  /** The replica at start; after {@link RedisSentinel.failover} it is the primary. */
  readonly replica: RedisProcess;
  readonly sentinel: RedisProcess;
  /** What ioredis takes as `sentinels`. */
  readonly sentinels: { host: string; port: number }[];
  /** The port of the primary the sentinel names now. */
  masterPort(): Promise<number>;
  /** Kills the primary (SIGKILL) and waits until the sentinel has promoted the replica. */
  failover(): Promise<void>;
  /** Kills every process and removes the temp dir. */
  close(): Promise<void>;
}

/**
 * Starts a primary, a replica of it and a `redis-server --sentinel` that monitors the primary
 * (quorum 1, down after 2 s), and waits until the replica is in sync and the sentinel knows it:
 * a failover needs both. Everything started is torn down if a step fails.
 */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const dir = await tempDir('sentinel');
  const started: RedisProcess[] = [];
  const close = async () => {
    await Promise.all(started.map((server) => server.kill()));
    await dir.remove();
  };
  try {
    const primaryPort = await freePort();
    const primary = await spawnRedis(dir.path, primaryPort, [
      '--dbfilename',
      `primary-${primaryPort}.rdb`,
    ]);
    started.push(primary);
    const replicaPort = await freePort();
    const replica = await spawnRedis(dir.path, replicaPort, [
      '--replicaof',
      '127.0.0.1',
      String(primaryPort),
      '--dbfilename',
      `replica-${replicaPort}.rdb`,
      // Replication without a disk: nothing to write, faster on a busy machine.
      '--repl-diskless-load',
      'on-empty-db',
    ]);
    started.push(replica);
    await until('the replica in sync', async () => {
      const info = await replica.admin.info('replication');
      return info.includes('master_link_status:up');
    });

    // The sentinel rewrites its config file, so it gets one of its own in the temp dir.
    const sentinelConf = join(dir.path, 'sentinel.conf');
    await writeFile(
      sentinelConf,
      [
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primaryPort} 1`,
        // Quick to notice the killed primary, but not so quick that a primary stalled by a busy
        // machine is failed over in the middle of another test.
        `sentinel down-after-milliseconds ${MASTER_NAME} 2000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        '',
      ].join('\n'),
    );
    const sentinel = await spawnRedis(
      dir.path,
      await freePort(),
      [sentinelConf, '--sentinel'],
      '+monitor master',
    );
    started.push(sentinel);
    await until('the sentinel to see the replica', async () => {
      const replicas = (await sentinel.admin.call(
        'SENTINEL',
        'REPLICAS',
        MASTER_NAME,
      )) as string[][];
      return replicas.some((fields) => {
        const flags = fields[fields.indexOf('flags') + 1] ?? '';
        return fields.includes(String(replicaPort)) && flags === 'slave';
      });
    });

    const masterPort = async () => {
      const [, port] = (await sentinel.admin.call(
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        MASTER_NAME,
      )) as [string, string];
      return Number(port);
    };
    return {
      primary,
      replica,
      sentinel,
      sentinels: [{ host: '127.0.0.1', port: sentinel.port }],
      masterPort,
      async failover() {
        await primary.kill();
        await until('the sentinel to promote the replica', async () => {
          if ((await masterPort()) !== replica.port) return false;
          const role = (await replica.admin.call('ROLE')) as [string];
          return role[0] === 'master';
        });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
