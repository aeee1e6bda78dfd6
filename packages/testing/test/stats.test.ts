import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type MockClient,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '../src/node.js';
import { assertionFor, JWT_BEARER, postForm, tokenRequest } from './helpers.js';

let server: RunningMockDrillster;
let account: MockServiceAccount;
let client: MockClient;

beforeAll(async () => {
  server = await startMockDrillster();
  ({ account, client } = await server.provision());
});
afterAll(() => server.close());

it('counts requests, issues, rejections and API calls, without secrets', async () => {
  const stats = server.mock.stats;
  const user = server.mock.addManagedUser(account.serviceAccountId);
  const assertion = (claims?: Record<string, unknown>) =>
    assertionFor(account, server.tokenEndpoint, { claims });

  const first = await tokenRequest(server.tokenEndpoint, client, await assertion());
  const { access_token } = (await first.json()) as { access_token: string };
  await tokenRequest(server.tokenEndpoint, client, await assertion({ sub: user.userId }));
  await tokenRequest(server.tokenEndpoint, client, await assertion({ exp: undefined }));
  await tokenRequest(server.tokenEndpoint, { ...client, clientSecret: 'nope' }, await assertion());
  await tokenRequest(server.tokenEndpoint, client, 'garbage');
  server.mock.injectFault({ status: 503 });
  await tokenRequest(server.tokenEndpoint, client, await assertion());
  const last = await assertion({ sub: user.email });
  await postForm(server.tokenEndpoint, {
    grant_type: 'password',
    client_id: client.clientId,
    client_secret: client.clientSecret,
    assertion: last,
    scope: 'x',
  });
  await fetch(`${server.apiBaseUrl}user`, { headers: { authorization: `Bearer ${access_token}` } });
  await fetch(`${server.apiBaseUrl}groups`, { headers: { authorization: 'Bearer forged' } });
  await fetch(`${server.apiBaseUrl}user`);

  expect(server.mock.stats).toBe(stats);
  expect(stats).toEqual({
    tokenRequests: 7,
    metadataRequests: 0,
    tokensIssued: 2,
    tokenRequestsBySubject: {
      [account.serviceAccountId]: 4,
      [user.userId]: 1,
      [user.email]: 1,
    },
    rejections: { invalid_grant: 2, invalid_client: 1, unsupported_grant_type: 1 },
    apiRequests: 3,
    apiRejections: 2,
    lastAssertion: last,
    lastRequestBody: { grant_type: 'password', client_id: client.clientId, scope: 'x' },
  });
  const serialized = JSON.stringify(stats);
  expect(serialized).not.toContain(client.clientSecret);
  expect(serialized).not.toContain(access_token);
  expect(serialized).not.toContain('PRIVATE KEY');

  server.mock.resetStats();
  expect(server.mock.stats).toBe(stats);
  expect(stats).toEqual({
    tokenRequests: 0,
    metadataRequests: 0,
    tokensIssued: 0,
    tokenRequestsBySubject: {},
    rejections: {},
    apiRequests: 0,
    apiRejections: 0,
    lastAssertion: undefined,
    lastRequestBody: undefined,
  });
  await tokenRequest(server.tokenEndpoint, client, await assertion());
  expect(stats.tokensIssued).toBe(1);
  expect(stats.lastRequestBody).toEqual({ grant_type: JWT_BEARER, client_id: client.clientId });
});
