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
  const { account, managedUser, authOptions } = await server.provision();
  return {
    server,
    serviceAccountId: account.serviceAccountId,
    user: managedUser,
    options: {
      ...authOptions,
      retry: false,
      api: { baseURL: server.apiBaseUrl },
    },
  };
}
