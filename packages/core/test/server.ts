import {
  type MockClient,
  type MockManagedUser,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import {
  createDrillsterAuth,
  type DrillsterAuthEvent,
  type DrillsterAuthOptions,
} from '../src/index.js';

/**
 * The fixture every package's tests share in name and shape: the mock Drillster (`server`) and
 * what its `provision()` made (`account`, `client`, `managedUser`), and `auth()` for a client of
 * the account. Core's extra: `events`, where every client made by `auth()` reports.
 */
export interface Fixture {
  server: RunningMockDrillster;
  account: MockServiceAccount;
  client: MockClient;
  managedUser: MockManagedUser;
  /** A client on the mock server, retrying fast; events land in `events`. */
  auth(overrides?: Partial<DrillsterAuthOptions>): ReturnType<typeof createDrillsterAuth>;
  events: DrillsterAuthEvent[];
}

/** A running mock server, provisioned with a service account, a client and a managed user. */
export async function startFixture(
  options?: Parameters<typeof startMockDrillster>[0],
): Promise<Fixture> {
  const server = await startMockDrillster(options);
  const { account, client, managedUser, authOptions } = await server.provision();
  const events: DrillsterAuthEvent[] = [];
  return {
    server,
    account,
    client,
    managedUser,
    events,
    auth: (overrides) =>
      createDrillsterAuth({
        ...authOptions,
        retry: { baseDelay: 5, maxDelay: 2000 },
        onEvent: (event) => events.push(event),
        ...overrides,
      }),
  };
}

/** Calls the mock's protected resource with `authorization`; returns the HTTP status. */
export async function callApi(
  server: RunningMockDrillster,
  authorization: string,
): Promise<number> {
  const response = await fetch(`${server.apiBaseUrl}user`, { headers: { authorization } });
  await response.arrayBuffer();
  return response.status;
}
