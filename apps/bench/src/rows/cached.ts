import { createDrillsterAuth } from '@drillster-auth/core';
import { MockDrillster } from '@drillster-auth/testing';
import { JWT } from 'google-auth-library';
import { interleave, sequential } from '../measure.js';
import type { Row } from '../row.js';

const OPS = 2000;
const ROUNDS = 301;

/**
 * A cached token, three ways: against the floor any async cache must pay (an `await`, a
 * `Map.get` and one `Date.now()` comparison), and against google-auth-library's `JWT` answering
 * from its own cache (`getAccessToken()`, and `getRequestHeaders()` for the header).
 */
export async function cachedRows(): Promise<Row[]> {
  // The mock's web handler stands in for the network: only the first call mints.
  const issuer = 'https://bench.drillster.test';
  const mock = new MockDrillster({ issuer });
  const account = await mock.createServiceAccount();
  const auth = createDrillsterAuth({
    key: account.keyFile,
    ...mock.registerClient(),
    issuer,
    fetch: (input, init) => mock.handle(new Request(input, init)),
  });
  const token = await auth.getAccessToken();

  const entries = new Map([[token.subject, { token, staleAt: Date.now() + 3_600_000 }]]);
  const subject = token.subject;
  const floor = async () => {
    const entry = entries.get(subject);
    return entry !== undefined && Date.now() < entry.staleAt ? entry.token : undefined;
  };

  const google = new JWT({
    email: `${account.serviceAccountId}@bench.iam.gserviceaccount.com`,
    key: account.keyFile.privateKey,
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
  });
  google.setCredentials({
    access_token: token.accessToken,
    token_type: 'Bearer',
    expiry_date: Date.now() + 3_600_000,
  });
  const googleToken = await google.getAccessToken();
  if (googleToken.token !== token.accessToken)
    throw new Error('google-auth-library did not answer from its cache');

  const ours = sequential(() => auth.getAccessToken(), OPS);
  const vsFloor = await interleave(ours, sequential(floor, OPS), { rounds: ROUNDS });
  const vsGoogle = await interleave(
    ours,
    sequential(() => google.getAccessToken(), OPS),
    {
      rounds: ROUNDS,
    },
  );
  const header = await interleave(
    sequential(() => auth.getAuthorizationHeader(), OPS),
    sequential(() => google.getRequestHeaders(), OPS / 10),
    { rounds: ROUNDS },
  );
  auth.close();
  return [
    {
      id: 'cached-vs-floor',
      figure: 'cached `getAccessToken()`',
      baseline: 'floor: `await` + `Map.get` + one `Date.now()` comparison',
      value: vsFloor.candidate,
      baselineValue: vsFloor.baseline,
      unit: 'ns',
      ratio: vsFloor.ratio,
      ratioLabel: "× the floor's time",
      spread: vsFloor.spread,
      budget: { op: '<=', limit: 1.3 },
    },
    {
      id: 'cached-vs-google',
      figure: 'cached `getAccessToken()`',
      baseline: 'google-auth-library `JWT#getAccessToken()` from its cache',
      value: vsGoogle.candidate,
      baselineValue: vsGoogle.baseline,
      unit: 'ns',
      ratio: vsGoogle.ratio,
      ratioLabel: '× its time',
      spread: vsGoogle.spread,
      budget: { op: '<=', limit: 0.8 },
    },
    {
      id: 'header-vs-google',
      figure: '`getAuthorizationHeader()`',
      baseline: 'google-auth-library `JWT#getRequestHeaders()`',
      value: header.candidate,
      baselineValue: header.baseline,
      unit: 'ns',
      ratio: 1 / header.ratio,
      ratioLabel: '× faster',
      spread: [1 / header.spread[1], 1 / header.spread[0]],
      budget: { op: '>=', limit: 10 },
    },
  ];
}
