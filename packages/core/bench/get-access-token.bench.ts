import { MockDrillster } from '@drillster-auth/testing';
import { bench, describe } from 'vitest';
import { createDrillsterAuth, parseServiceAccountKey, signAssertion } from '../src/index.js';

// The mock's web handler stands in for the network, so the numbers are the SDK's own cost.
const issuer = 'https://bench.drillster.test';
const mock = new MockDrillster({ issuer });
const account = await mock.createServiceAccount();
const client = mock.registerClient();
const user = mock.addManagedUser(account.serviceAccountId);
const auth = createDrillsterAuth({
  key: account.keyFile,
  ...client,
  issuer,
  fetch: (input, init) => mock.handle(new Request(input, init)),
});
await auth.getAccessToken();
await auth.getAccessToken({ subject: user.userId });
const key = parseServiceAccountKey(account.keyFile);
const map = new Map([['subject', { accessToken: 'x' }]]);
const subjectOptions = { subject: user.userId };

describe('cached token', () => {
  bench('baseline: await Map.get', async () => {
    await map.get('subject');
  });
  bench('getAccessToken()', async () => {
    await auth.getAccessToken();
  });
  bench('getAccessToken({ subject })', async () => {
    await auth.getAccessToken(subjectOptions);
  });
  bench('getAuthorizationHeader()', async () => {
    await auth.getAuthorizationHeader();
  });
});

describe('minting', () => {
  bench('signAssertion (key imported once)', async () => {
    await signAssertion(key, { audience: `${issuer}/daas/oauth/token` });
  });
  bench(
    'getAccessToken({ forceRefresh }) against the in-process mock',
    async () => {
      await auth.getAccessToken({ forceRefresh: true });
    },
    { iterations: 50 },
  );
});
