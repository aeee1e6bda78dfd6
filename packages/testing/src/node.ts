import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockDrillster } from './mock-drillster.js';
import type {
  MockClient,
  MockDrillsterOptions,
  MockManagedUser,
  MockServiceAccount,
  ServiceAccountKeyFile,
} from './types.js';

export {
  type FaultCaseAdapter,
  type FaultCaseClientOptions,
  runFaultCase,
} from './fault-case.js';
export * from './index.js';
export { expectNoLeaks, findLeaks, secretForms } from './leaks.js';
export { type RunningWorkerd, type StartWorkerdOptions, startWorkerd } from './workerd.js';

/** Options for {@link startMockDrillster}. */
export interface StartMockDrillsterOptions extends MockDrillsterOptions {
  /** Port to listen on. Default 0: a free port chosen by the system. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
}

/** A {@link MockDrillster} listening on a local port. */
export interface RunningMockDrillster {
  mock: MockDrillster;
  /** Where the server listens, e.g. `http://127.0.0.1:54321`. */
  url: string;
  /** The `issuer` option, else {@link url}. */
  issuer: string;
  /** `${issuer}/daas/oauth/token`: also the `aud` assertions must carry. */
  tokenEndpoint: string;
  /** `${url}/api/2.1.1/`. */
  apiBaseUrl: string;
  /**
   * Creates what most tests need at once: a service account with a key, a registered client and
   * one user the account manages, plus the options that point the SDK at this server.
   */
  provision(): Promise<MockProvision>;
  /** Stops the server and closes every connection at once, idle or not. */
  close(): Promise<void>;
  /** {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What {@link RunningMockDrillster.provision} creates. */
export interface MockProvision {
  account: MockServiceAccount;
  client: MockClient;
  managedUser: MockManagedUser;
  /** `key`, `clientId`, `clientSecret` and `issuer`: spread them into `createDrillsterAuth`. */
  authOptions: {
    key: ServiceAccountKeyFile;
    clientId: string;
    clientSecret: string;
    issuer: string;
  };
}

/**
 * Starts a {@link MockDrillster} on a Node HTTP server.
 *
 * @example
 * ```ts
 * await using server = await startMockDrillster();
 * const { authOptions, managedUser } = await server.provision();
 * const auth = createDrillsterAuth(authOptions);
 * await auth.getAccessToken({ subject: managedUser.userId });
 * ```
 */
export async function startMockDrillster(
  options: StartMockDrillsterOptions = {},
): Promise<RunningMockDrillster> {
  const { port = 0, host = '127.0.0.1', ...mockOptions } = options;
  const mock = new MockDrillster(mockOptions);
  const server = createServer((req, res) => {
    serve(mock, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostname}:${address.port}`;
  const issuer = options.issuer === undefined ? url : new URL(options.issuer).origin;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error === undefined ? resolve() : reject(error)));
      server.closeAllConnections();
    });
    return closing;
  };
  const provision = async (): Promise<MockProvision> => {
    const account = await mock.createServiceAccount();
    const client = mock.registerClient();
    const managedUser = mock.addManagedUser(account.serviceAccountId);
    return {
      account,
      client,
      managedUser,
      authOptions: { key: account.keyFile, ...client, issuer },
    };
  };
  return {
    mock,
    url,
    issuer,
    tokenEndpoint: `${issuer}/daas/oauth/token`,
    apiBaseUrl: `${url}/api/2.1.1/`,
    provision,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Translates one Node request to a web `Request` and the handler's `Response` back. */
async function serve(
  mock: MockDrillster,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const aborted = new AbortController();
  res.once('close', () => aborted.abort());

  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // The Host header is what the client addressed, so the default issuer matches its URLs.
  const origin = `http://${req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`}`;
  const request = new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    body: hasBody ? Buffer.concat(chunks) : undefined,
    signal: aborted.signal,
  });

  const response = await mock.handle(request);
  if (response.type === 'error') {
    req.socket.destroy();
    return;
  }
  if (res.destroyed) return;
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body === null) {
    res.end();
    return;
  }
  await stream(response.body, req, res);
}

/**
 * Writes a body as the client reads it (a fault's huge body costs no memory); a body that fails
 * part way cuts the connection, as a server that crashes mid-answer does. A body of one chunk is
 * ended with it, so Node sends it with a `Content-Length`.
 */
async function stream(
  body: ReadableStream<Uint8Array>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const reader = body.getReader();
  const gone = new Promise<void>((resolve) => res.once('close', resolve));
  let pending: Uint8Array | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (pending !== undefined && !res.write(pending)) {
        await Promise.race([new Promise((resolve) => res.once('drain', resolve)), gone]);
      }
      pending = value;
    }
    if (!res.destroyed) res.end(pending);
  } catch {
    // What was read goes out first, so the client sees a body cut short, not no answer.
    if (pending !== undefined && !res.destroyed) res.write(pending, () => req.socket.destroy());
    else req.socket.destroy();
  } finally {
    reader.cancel().catch(() => {});
  }
}
