import { type RunningMockDrillster, startMockDrillster } from '@drillster-auth/testing/node';
import type { DrillsterAuthModuleOptions } from '../src/index.js';

export interface Fixture {
  server: RunningMockDrillster;
  serviceAccountId: string;
  user: { userId: string; email: string };
  /** Module options for the mock's service account, with the API client pointed at the mock. */
  options: DrillsterAuthModuleOptions;
}

/** The mock Drillster server with one service account, one client and one managed user. */
export async function startFixture(): Promise<Fixture> {
  const server = await startMockDrillster();
  const account = await server.mock.createServiceAccount();
  const client = server.mock.registerClient();
  const user = server.mock.addManagedUser(account.serviceAccountId);
  return {
    server,
    serviceAccountId: account.serviceAccountId,
    user,
    options: {
      key: account.keyFile,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      issuer: server.issuer,
      retry: false,
      api: { baseURL: server.apiBaseUrl },
    },
  };
}
