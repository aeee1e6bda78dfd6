import { importSigningKey, parseServiceAccountKey, signAssertion } from '@drillster-auth/core';
import { generateServiceAccountKey } from '@drillster-auth/testing';
import { concurrent, type Interleaved, interleave, sequential } from '../measure.js';
import type { Row } from '../row.js';

const audience = 'https://www.drillster.com/daas/oauth/token';

/**
 * Assertion signing against the floor WebCrypto sets: `crypto.subtle.sign` RS256 with the same
 * key over signing input of the same length, one at a time and 64 in flight.
 */
export async function signingRows(): Promise<Row[]> {
  const key = parseServiceAccountKey((await generateServiceAccountKey()).keyFile);
  const cryptoKey = (await importSigningKey(key)) as CryptoKey;
  const sample = await signAssertion(key, { audience });
  const input = new TextEncoder().encode(sample.slice(0, sample.lastIndexOf('.')));
  const ours = () => signAssertion(key, { audience });
  const raw = () => crypto.subtle.sign('RSASSA-PKCS1-v1_5', cryptoKey, input);

  // Rounds of 32 signatures (about 10 ms), not 8: with 8, what a round pays once (a thread pool
  // hand-off, a scavenge) weighed on the ratio, whose median then moved 0.84–0.97 between idle runs.
  const one = await interleave(sequential(ours, 32), sequential(raw, 32), {
    rounds: 61,
    warmup: 20,
  });
  const many = await interleave(concurrent(ours, 128, 64), concurrent(raw, 128, 64), {
    rounds: 21,
  });
  return [
    rateRow(
      'signing-sequential',
      'assertion signing, sequential',
      'raw `crypto.subtle.sign` RS256, same key',
      one,
      0.9,
    ),
    rateRow(
      'signing-64',
      'assertion signing, 64 in flight',
      'raw `crypto.subtle.sign`, 64 in flight',
      many,
      0.95,
    ),
  ];
}

/** A row of rates (signatures per second) from times per signature. */
function rateRow(id: string, figure: string, baseline: string, m: Interleaved, limit: number): Row {
  return {
    id,
    figure,
    baseline,
    value: 1e9 / m.candidate,
    baselineValue: 1e9 / m.baseline,
    unit: '/s',
    ratio: 1 / m.ratio,
    ratioLabel: '× its rate',
    spread: [1 / m.spread[1], 1 / m.spread[0]],
    budget: { op: '>=', limit },
    limitValue: (1e9 / m.baseline) * limit,
  };
}
