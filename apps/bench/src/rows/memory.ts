import { randomBytes } from 'node:crypto';
import { type CachedToken, createDrillsterAuth, type TokenCache } from '@drillster-auth/core';
import { generateServiceAccountKey } from '@drillster-auth/testing';
import { settledHeap } from '../measure.js';
import type { Row } from '../row.js';

const SUBJECTS = 100_000;
const TOKEN_CHARS = 400;

/** A flat (not concatenated) string of `TOKEN_CHARS` base64url characters, unique each call. */
const tokenString = () => randomBytes((TOKEN_CHARS * 3) / 4).toString('base64url');

/**
 * Heap per cached subject with 100,000 managed users in one client (`maxSubjects` raised), beyond
 * the 400-character token string itself, measured as heap deltas after full GCs. Tokens come
 * from a shared store that makes each on request and keeps nothing, so no mock server's records
 * and no minting are counted: only what the client keeps (slot, `AccessToken`, its header, the
 * map entry, the subject string).
 */
export async function memoryRows(): Promise<Row[]> {
  const { keyFile } = await generateServiceAccountKey();
  const now = Date.now();
  const store: TokenCache = {
    get: (key): CachedToken => ({
      accessToken: tokenString(),
      issuedAt: now,
      expiresAt: now + 3_600_000,
      subject: key.slice(key.lastIndexOf('|') + 1),
    }),
    set: () => {},
    delete: () => {},
  };
  const auth = createDrillsterAuth({
    key: keyFile,
    clientId: 'bench',
    clientSecret: 'bench-secret',
    tokenEndpoint: 'https://bench.drillster.test/daas/oauth/token',
    cache: store,
    maxSubjects: SUBJECTS * 2,
  });
  const subjects = (from: number) =>
    Array.from(
      { length: 1000 },
      (_, i) => `user-${(from + i).toString().padStart(8, '0')}@bench.example.com`,
    );

  // The token strings alone, as the baseline.
  let strings: string[] | undefined;
  const beforeStrings = settledHeap();
  strings = Array.from({ length: SUBJECTS }, tokenString);
  const perString = (settledHeap() - beforeStrings) / SUBJECTS - 8; // less the array's slot
  strings.length = 0;
  strings = undefined;

  const before = settledHeap();
  for (let from = 0; from < SUBJECTS; from += 1000) {
    await Promise.all(subjects(from).map((subject) => auth.getAccessToken({ subject })));
  }
  const after = settledHeap();
  const hit = await auth.getAccessToken({ subject: subjects(0)[0]! });
  if (hit.accessToken.length !== TOKEN_CHARS) throw new Error('the first subject was not kept');
  const perSubject = (after - before) / SUBJECTS;
  auth.close();
  return [
    {
      id: 'memory-per-subject',
      figure: 'memory per cached subject, 100,000 in one client, beyond the token string',
      baseline: 'the 400-character token string itself',
      value: perSubject - perString,
      baselineValue: perString,
      unit: 'B',
      ratio: (perSubject - perString) / 1024,
      ratioLabel: '× 1 KB',
      budget: { op: '<=', limit: 1 },
      limitValue: 1024,
      note: `${perSubject.toFixed(0)} B per subject in all (heap after GC, ${SUBJECTS.toLocaleString('en-US')} subjects, subject ids of ${subjects(0)[0]!.length} characters)`,
    },
  ];
}
