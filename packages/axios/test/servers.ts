import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDrillsterAuth, type DrillsterAuthOptions } from '@drillster-auth/core';
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
 * the account.
 */
export interface Fixture {
  server: RunningMockDrillster;
  account: MockServiceAccount;
  client: MockClient;
  managedUser: MockManagedUser;
  /** A core client for the mock's service account. */
  auth(overrides?: Partial<DrillsterAuthOptions>): ReturnType<typeof createDrillsterAuth>;
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
    auth: (overrides) => createDrillsterAuth({ ...authOptions, ...overrides }),
  };
}

/** What a local server saw of one request. */
export interface SeenRequest {
  path: string;
  authorization: string | undefined;
}

/** A local HTTP server that records requests. */
export interface Recorder {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A gateway in front of the mock's protected resource that can refuse tokens the mock would
 * accept, standing in for Drillster revoking a token: tokens in `revoked`, or every token while
 * `rejectAll`, get a 401 without reaching the mock.
 */
export interface Gateway extends Recorder {
  apiBaseUrl: string;
  revoked: Set<string>;
  rejectAll: boolean;
  /** Requests with `hold=1` in their query wait for this before they are answered. */
  hold: Promise<void>;
}

/** Query parameter that makes the gateway answer 302 to its (URL) value instead. */
export const REDIRECT_PARAM = 'redirect-to';

export async function startGateway(server: RunningMockDrillster): Promise<Gateway> {
  const gateway = {
    revoked: new Set<string>(),
    rejectAll: false,
    hold: Promise.resolve(),
  } as Gateway;
  const recorder = await listen(async (path, headers) => {
    if (path.includes('hold=1')) await gateway.hold;
    const location = new URL(path, 'http://gateway').searchParams.get(REDIRECT_PARAM);
    if (location !== null) return { status: 302, headers: { location }, body: '' };
    const authorization = headers.authorization;
    const token = authorization?.replace(/^Bearer /i, '');
    if (token !== undefined && (gateway.rejectAll || gateway.revoked.has(token))) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        body: '{"error":"invalid_token"}',
      };
    }
    const upstream = await fetch(new URL(path.slice(1), server.url), {
      headers: authorization === undefined ? {} : { authorization },
    });
    const challenge = upstream.headers.get('www-authenticate');
    const answerHeaders: Record<string, string> = {};
    if (challenge !== null) answerHeaders['www-authenticate'] = challenge;
    return {
      status: upstream.status,
      headers: answerHeaders,
      body: await upstream.text(),
    };
  });
  return Object.assign(gateway, recorder, { apiBaseUrl: `${recorder.url}/api/2.1.1/` });
}

/** A server on another origin that answers every request with 200 `{}`. */
export function startRecorder(): Promise<Recorder> {
  return listen(async () => ({ status: 200, headers: {}, body: '{}' }));
}

/** A server on another origin that refuses every request with a bearer 401. */
export function startRefuser(): Promise<Recorder> {
  return listen(async () => ({
    status: 401,
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    body: '{"error":"invalid_token"}',
  }));
}

type Handler = (
  path: string,
  headers: IncomingHttpHeaders,
) => Promise<{ status: number; headers: Record<string, string>; body: string }>;

async function listen(handle: Handler): Promise<Recorder> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({ path, authorization: request.headers.authorization });
    handle(path, request.headers).then(
      (answer) => {
        response.writeHead(answer.status, {
          'content-type': 'application/json',
          ...answer.headers,
        });
        response.end(answer.body);
      },
      () => {
        response.writeHead(502);
        response.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
