import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachDrillsterAuth } from '@drillster-auth/axios';
import { createDrillsterAuth } from '@drillster-auth/core';
import { MockDrillster } from '@drillster-auth/testing';
import axios, { type AxiosInstance } from 'axios';
import { concurrent, interleave } from '../measure.js';
import type { Row } from '../row.js';

const REQUESTS = 200;
const CONCURRENCY = 8;
// 41 rounds, not 21: with 21 the median ratio moved 0.91–1.04 between idle runs; with 41 it
// stayed within 0.91–0.93.
const ROUNDS = 41;

/**
 * Requests per second through axios with 8 in flight against a keep-alive server on loopback
 * answering a small JSON body: with the adapter, with the least interceptor that does the job
 * (await `getAccessToken()`, set the header), and with no interceptor at all.
 */
export async function axiosRows(): Promise<Row[]> {
  const body = JSON.stringify({ id: 'WHrkrOC0SDqf6V3WaTknZQ', name: 'bench' });
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

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

  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const instance = () => axios.create({ baseURL: origin, httpAgent: agent });
  const ours = instance();
  attachDrillsterAuth(ours, auth, { allowedOrigins: [origin] });
  const minimal = instance();
  minimal.interceptors.request.use(async (config) => {
    config.headers.Authorization = `Bearer ${(await auth.getAccessToken()).accessToken}`;
    return config;
  });
  const plain = instance();
  const round = (api: AxiosInstance) => concurrent(() => api.get('/user'), REQUESTS, CONCURRENCY);

  const vsMinimal = await interleave(round(ours), round(minimal), { rounds: ROUNDS });
  const vsPlain = await interleave(round(ours), round(plain), { rounds: ROUNDS });
  agent.destroy();
  server.close();
  auth.close();
  const rate = (nsPerRequest: number) => 1e9 / nsPerRequest;
  return [
    {
      id: 'axios-vs-minimal',
      figure: 'axios adapter, 8 concurrent, keep-alive loopback',
      baseline: 'axios with a minimal interceptor (await `getAccessToken()`, set the header)',
      value: rate(vsMinimal.candidate),
      baselineValue: rate(vsMinimal.baseline),
      unit: 'req/s',
      ratio: 1 / vsMinimal.ratio,
      ratioLabel: '× its throughput',
      spread: [1 / vsMinimal.spread[1], 1 / vsMinimal.spread[0]],
      budget: { op: '>=', limit: 0.97 },
      limitValue: rate(vsMinimal.baseline) * 0.97,
    },
    {
      id: 'axios-vs-plain',
      figure: 'axios adapter, 8 concurrent, keep-alive loopback',
      baseline: 'plain axios, no interceptor',
      value: rate(vsPlain.candidate),
      baselineValue: rate(vsPlain.baseline),
      unit: 'req/s',
      ratio: 1 / vsPlain.ratio,
      ratioLabel: '× its throughput',
      spread: [1 / vsPlain.spread[1], 1 / vsPlain.spread[0]],
      note: 'reported, no budget: the difference is the two interceptors axios runs per request',
    },
  ];
}
