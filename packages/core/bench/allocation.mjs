// Bytes allocated per call on the cached-token path, against the same loop over an awaited
// Map.get. Run with --expose-gc (the bench script does).
import { MockDrillster } from '@drillster-auth/testing';
import { createDrillsterAuth } from '../dist/index.js';

const issuer = 'https://bench.drillster.test';
const mock = new MockDrillster({ issuer });
const account = await mock.createServiceAccount();
const auth = createDrillsterAuth({
  key: account.keyFile,
  ...mock.registerClient(),
  issuer,
  fetch: (input, init) => mock.handle(new Request(input, init)),
});
await auth.getAccessToken();
const map = new Map([['subject', { accessToken: 'x' }]]);

const calls = 200_000;
async function measure(name, fn) {
  for (let i = 0; i < 10_000; i++) await fn();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await fn();
  const elapsed = Number(process.hrtime.bigint() - started);
  const bytes = (process.memoryUsage().heapUsed - before) / calls;
  console.log(
    `${name.padEnd(32)} ${(elapsed / calls).toFixed(0).padStart(5)} ns/call  ~${bytes.toFixed(1).padStart(5)} B/call (heap growth; approximate: a scavenge may run)`,
  );
  return bytes;
}

const baseline = await measure('await Map.get', async () => map.get('subject'));
const cached = await measure('await getAccessToken()', () => auth.getAccessToken());
await measure('await getAuthorizationHeader()', () => auth.getAuthorizationHeader());
console.log(
  `getAccessToken() allocates ${(cached - baseline).toFixed(1)} B/call more than the baseline`,
);
