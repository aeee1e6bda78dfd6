import {
  createDrillsterAuth,
  type DrillsterAuth,
  type DrillsterAuthEvent,
  type DrillsterAuthOptions,
} from '@drillster-auth/core';
import {
  type MockClient,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';

/** The shared fixture shape: the mock Drillster (`server`) and what its `provision()` made. */
export interface Fixture {
  server: RunningMockDrillster;
  account: MockServiceAccount;
  client: MockClient;
  /** A client for the account; its events land in `events`. */
  auth(options?: Partial<DrillsterAuthOptions>): {
    auth: DrillsterAuth;
    events: DrillsterAuthEvent[];
  };
}

export async function startFixture(): Promise<Fixture> {
  const server = await startMockDrillster();
  const { account, client, authOptions } = await server.provision();
  return {
    server,
    account,
    client,
    auth(options = {}) {
      const events: DrillsterAuthEvent[] = [];
      const auth = createDrillsterAuth({
        ...authOptions,
        tokenEndpoint: server.tokenEndpoint,
        onEvent: (event) => events.push(event),
        ...options,
      });
      return { auth, events };
    },
  };
}

/** A prefix no other test run uses, so runs never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `drillster-auth-test:${label}:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
}
