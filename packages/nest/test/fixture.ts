import {
  type MockClient,
  type MockManagedUser,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import type { DrillsterAuthModuleOptions } from '../src/index.js';

/**
 * The fixture every package's tests share in name and shape: the mock Drillster (`server`) and
 * what its `provision()` made (`account`, `client`, `managedUser`). Nest makes its client through
 * the module, so instead of `auth()` it has `options`.
 */
export interface Fixture {
  server: RunningMockDrillster;
  account: MockServiceAccount;
  client: MockClient;
  managedUser: MockManagedUser;
  /** Module options for the mock's service account, with the API client pointed at the mock. */
  options: DrillsterAuthModuleOptions;
}

/** The mock Drillster server with one service account, one client and one managed user. */
export async function startFixture(): Promise<Fixture> {
  const server = await startMockDrillster();
  const { account, client, managedUser, authOptions } = await server.provision();
  return {
    server,
    account,
    client,
    managedUser,
    options: {
      ...authOptions,
      retry: false,
      api: { baseURL: server.apiBaseUrl },
    },
  };
}
