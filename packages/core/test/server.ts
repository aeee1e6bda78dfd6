import { type RunningMockDrillster, startMockDrillster } from '@drillster-auth/testing/node';
import {
  createDrillsterAuth,
  type DrillsterAuthEvent,
  type DrillsterAuthOptions,
} from '../src/index.js';

export interface Fixture {
  server: RunningMockDrillster;
  keyFile: { privateKey: string; keyId: string; serviceAccountId: string };
  clientId: string;
  clientSecret: string;
  /** A client on the mock server; events land in `events`. */
  auth(overrides?: Partial<DrillsterAuthOptions>): ReturnType<typeof createDrillsterAuth>;
  events: DrillsterAuthEvent[];
}

/** A running mock server, provisioned with a service account, a client and a managed user. */
export async function startFixture(
  options?: Parameters<typeof startMockDrillster>[0],
): Promise<Fixture> {
  const server = await startMockDrillster(options);
  const { account, client, authOptions } = await server.provision();
  const events: DrillsterAuthEvent[] = [];
  return {
    server,
    keyFile: account.keyFile,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
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
