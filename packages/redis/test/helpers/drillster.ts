import {
  createDrillsterAuth,
  type DrillsterAuth,
  type DrillsterAuthEvent,
  type DrillsterAuthOptions,
} from '@drillster-auth/core';
import {
  type MockClient,
  type MockManagedUser,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';

/**
 * The fixture every package's tests share in name and shape: the mock Drillster (`server`) and
 * what its `provision()` made (`account`, `client`, `managedUser`), and `auth()` for a client of
 * the account. Redis's extra: `authWithEvents()`, a client with its own list of events, for
 * tests that tell several clients of one store apart.
 */
export interface Fixture {
  server: RunningMockDrillster;
  account: MockServiceAccount;
  client: MockClient;
  managedUser: MockManagedUser;
  /** A client for the account, sending its assertions to the mock's token endpoint. */
  auth(overrides?: Partial<DrillsterAuthOptions>): DrillsterAuth;
  /** {@link Fixture.auth}, with the client's events collected in `events`. */
  authWithEvents(overrides?: Partial<DrillsterAuthOptions>): {
    auth: DrillsterAuth;
    events: DrillsterAuthEvent[];
  };
}

export async function startFixture(): Promise<Fixture> {
  const server = await startMockDrillster();
  const { account, client, managedUser, authOptions } = await server.provision();
  const auth = (overrides: Partial<DrillsterAuthOptions> = {}) =>
    createDrillsterAuth({ ...authOptions, tokenEndpoint: server.tokenEndpoint, ...overrides });
  return {
    server,
    account,
    client,
    managedUser,
    auth,
    authWithEvents(overrides = {}) {
      const events: DrillsterAuthEvent[] = [];
      return { auth: auth({ onEvent: (event) => events.push(event), ...overrides }), events };
    },
  };
}

/** A prefix no other test run uses, so runs never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `drillster-auth-test:${label}:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
}
