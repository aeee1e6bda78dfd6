import { createEncryptedTokenCache, type TokenCache } from '@drillster-auth/core';
import { createRedisTokenCache } from '@drillster-auth/redis';
import { Redis } from 'ioredis';
import { interleave, sequential } from '../measure.js';
import type { Row } from '../row.js';

const OPS = 100;
const ROUNDS = 41;

/**
 * The Redis store's `get` (ioredis, loopback), plain and encrypted, against a raw `GET` of the
 * very key it reads on the same client. Skipped, with a note, when 127.0.0.1:6379 does not answer.
 */
export async function redisRows(): Promise<Row[]> {
  const client = new Redis({
    host: '127.0.0.1',
    port: 6379,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  try {
    await client.connect();
    await client.ping();
  } catch {
    client.disconnect();
    const skipped = 'no Redis at 127.0.0.1:6379';
    return [
      row('redis-get', 'Redis store `get`', 1.25, skipped),
      row('redis-get-encrypted', 'encrypted Redis store `get`', 1.6, skipped),
    ];
  }
  const prefix = `drillster-bench:${process.pid}:`;
  try {
    const token = {
      accessToken: 'x'.repeat(600),
      expiresAt: Date.now() + 3_600_000,
      issuedAt: Date.now(),
      subject: 'bench',
    };
    const plain = createRedisTokenCache({ client, prefix });
    const encrypted = createEncryptedTokenCache(plain, {
      secret: 'a bench secret of 32 bytes......',
    });
    const measure = async (store: TokenCache, name: string) => {
      await store.set(name, token);
      const [key] = await client.keys(`${prefix}*`);
      if (key === undefined) throw new Error('the store wrote no key');
      const raw = sequential(() => client.get(key), OPS);
      const result = await interleave(
        sequential(() => store.get(name), OPS),
        raw,
        { rounds: ROUNDS },
      );
      await client.del(key);
      return result;
    };
    const p = await measure(plain, 'plain');
    const e = await measure(encrypted, 'encrypted');
    return [
      {
        ...row('redis-get', 'Redis store `get`', 1.25),
        value: p.candidate,
        baselineValue: p.baseline,
        ratio: p.ratio,
        spread: p.spread,
        limitValue: p.baseline * 1.25,
      },
      {
        ...row('redis-get-encrypted', 'encrypted Redis store `get`', 1.6),
        value: e.candidate,
        baselineValue: e.baseline,
        ratio: e.ratio,
        spread: e.spread,
        limitValue: e.baseline * 1.6,
      },
    ];
  } finally {
    client.disconnect();
  }
}

function row(id: string, figure: string, limit: number, skipped?: string): Row {
  return {
    id,
    figure: `${figure} (ioredis, loopback)`,
    baseline: 'raw `GET` of the same key on the same client',
    value: 0,
    baselineValue: 0,
    unit: 'ns',
    ratio: 0,
    ratioLabel: '× its time',
    budget: { op: '<=', limit },
    ...(skipped === undefined ? {} : { skipped, note: `skipped: ${skipped}` }),
  };
}
