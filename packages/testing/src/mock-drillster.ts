import { AccessTokens } from './access-token.js';
import { delay, FaultQueue, faultResponse } from './faults.js';
import { accountId, hexId, secret } from './ids.js';
import { generateKey } from './keys.js';
import { authorizationServerMetadata, TOKEN_PATH } from './metadata.js';
import { Registry } from './registry.js';
import { ReplayCache } from './replay.js';
import { API_PREFIX, protectedResource } from './resource.js';
import { baseHeaders, json, oauthError } from './responses.js';
import { type ServerState, serverNow } from './state.js';
import { tokenEndpoint } from './token-endpoint.js';
import type {
  FaultOptions,
  MockClient,
  MockDrillsterOptions,
  MockManagedUser,
  MockServiceAccount,
  MockStats,
  VerifiedAccessToken,
} from './types.js';

const METADATA_PATH = '/.well-known/oauth-authorization-server';

/**
 * A mock Drillster authorization server and protected resource as one web-standard request
 * handler: runs in Node (see `startMockDrillster` in `@drillster-auth/testing/node`), Deno, Bun
 * and Workers.
 *
 * Routes: `GET /.well-known/oauth-authorization-server` (RFC 8414), `POST /daas/oauth/token`
 * (RFC 7523 JWT bearer grant, `client_secret_post`), `GET /api/2.1.1/user` and
 * `GET /api/2.1.1/groups` (bearer token required). `/.well-known/openid-configuration` is 404,
 * as on Drillster.
 *
 * @example
 * ```ts
 * const mock = new MockDrillster();
 * const account = await mock.createServiceAccount();
 * const client = mock.registerClient();
 * const response = await mock.handle(new Request('https://www.drillster.com/.well-known/oauth-authorization-server'));
 * ```
 */
export class MockDrillster {
  readonly #issuer: string | undefined;
  readonly #state: ServerState;

  constructor(options: MockDrillsterOptions = {}) {
    this.#issuer = options.issuer === undefined ? undefined : normalizeIssuer(options.issuer);
    this.#state = {
      registry: new Registry(),
      replay: new ReplayCache(),
      tokens: new AccessTokens(),
      faults: new FaultQueue(),
      metadataFaults: new FaultQueue(),
      apiFaults: new FaultQueue(),
      stats: emptyStats(),
      tokenLifetime: checkLifetime(options.tokenLifetime ?? 3600),
      clock: options.clock ?? Date.now,
    };
  }

  /** Handles one request: the whole server. Never rejects; unexpected failures answer 500. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const issuer = this.#issuer ?? url.origin;
    try {
      if (url.pathname === TOKEN_PATH) return await tokenEndpoint(request, issuer, this.#state);
      if (url.pathname.startsWith(API_PREFIX)) {
        return await protectedResource(request, this.#state);
      }
      if (url.pathname === METADATA_PATH && request.method === 'GET') {
        return await this.#metadata(request, issuer);
      }
      const headers = baseHeaders(serverNow(this.#state));
      return json(
        { error: 'not_found', error_description: 'No such resource on this server' },
        404,
        headers,
      );
    } catch {
      return oauthError(
        500,
        'server_error',
        'The mock server failed to handle the request',
        baseHeaders(this.#state.clock()),
      );
    }
  }

  async #metadata(request: Request, issuer: string): Promise<Response> {
    this.#state.stats.metadataRequests += 1;
    const fault = this.#state.metadataFaults.take(this.#state.clock());
    if (fault?.delayMs) await delay(fault.delayMs, request.signal);
    const headers = baseHeaders(serverNow(this.#state));
    const injected = fault && faultResponse(fault, headers, new URLSearchParams());
    return injected ?? json(authorizationServerMetadata(issuer), 200, headers);
  }

  /**
   * Creates a service account with one freshly generated RSA key and returns its key file.
   *
   * @param options.serviceAccountId Default: random, Drillster-shaped (22 base64url characters).
   * @param options.modulusLength RSA modulus in bits, also for keys added later. Default 2048.
   *   jose refuses RS256 with smaller keys, so a 1024-bit key file only serves to test that a
   *   client rejects it.
   * @throws Error if the service account already exists.
   */
  async createServiceAccount(
    options: { serviceAccountId?: string; modulusLength?: number } = {},
  ): Promise<MockServiceAccount> {
    const serviceAccountId = options.serviceAccountId ?? accountId();
    const { accounts } = this.#state.registry;
    if (accounts.has(serviceAccountId)) {
      throw new Error(
        `Service account ${JSON.stringify(serviceAccountId)} already exists; use addKey() for another key`,
      );
    }
    // Reserved before the slow key generation, so a concurrent call with the same id fails.
    accounts.set(serviceAccountId, {
      serviceAccountId,
      modulusLength: options.modulusLength ?? 2048,
      users: [],
    });
    try {
      return await this.addKey(serviceAccountId);
    } catch (error) {
      accounts.delete(serviceAccountId);
      throw error;
    }
  }

  /**
   * Generates another key for an existing service account (key rotation). Earlier keys stay valid
   * until {@link revokeKey}.
   *
   * @throws Error if the service account does not exist.
   */
  async addKey(serviceAccountId: string): Promise<MockServiceAccount> {
    const { registry } = this.#state;
    const account = registry.account(serviceAccountId);
    const { keyFile, keyFileJson, publicKey } = await generateKey(
      serviceAccountId,
      account.modulusLength,
    );
    registry.keys.set(keyFile.keyId, {
      keyId: keyFile.keyId,
      serviceAccountId,
      publicKey,
      revoked: false,
    });
    return { serviceAccountId, keyId: keyFile.keyId, keyFile, keyFileJson };
  }

  /**
   * Deletes a key's public half, as Drillster's console does: assertions signed with it are
   * rejected with `invalid_grant` from now on. Access tokens already issued stay valid.
   *
   * @throws Error if the key does not exist.
   */
  revokeKey(keyId: string): void {
    const key = this.#state.registry.keys.get(keyId);
    if (key === undefined) throw new Error(`No key ${JSON.stringify(keyId)} on this mock`);
    key.revoked = true;
  }

  /**
   * Registers an OAuth client. Default id: 32 hexadecimal characters; default secret: random
   * base64url. Registering an existing id replaces its secret.
   */
  registerClient(options: Partial<MockClient> = {}): MockClient {
    const client = {
      clientId: options.clientId ?? hexId(),
      clientSecret: options.clientSecret ?? secret(),
    };
    this.#state.registry.setClient(client.clientId, client.clientSecret);
    return client;
  }

  /**
   * Adds an account managed by the service account's organization, so assertions from that
   * service account may name it as `sub`, by `userId` or by `email`.
   *
   * @param options.userId Default: random, Drillster-shaped.
   * @param options.email Default: `<userId>@users.example.com`, lowercased.
   * @throws Error if the service account does not exist.
   */
  addManagedUser(
    serviceAccountId: string,
    options: Partial<MockManagedUser> = {},
  ): MockManagedUser {
    const account = this.#state.registry.account(serviceAccountId);
    const userId = options.userId ?? accountId();
    const user = { userId, email: options.email ?? `${userId.toLowerCase()}@users.example.com` };
    account.users.push(user);
    return { ...user };
  }

  /**
   * Applies a fault to the next token-endpoint requests (or metadata requests, with
   * `endpoint: 'metadata'`, or API requests, with `endpoint: 'api'`). Faults queue in order, one
   * queue per route; each request takes one
   * use of the first. A fault with `dateOffsetMs` and no `count` stays in force until
   * {@link clearFaults}.
   *
   * @throws RangeError for an impossible fault (status outside 200–599, a status below 400
   *   without `body` or `bodyBytes`, `count` below 1, negative `delayMs`, `bodyBytes` or
   *   `closeAfterBytes`, a `durationMs` that is not positive or comes with `count`, an unknown
   *   `endpoint`).
   */
  injectFault(fault: FaultOptions): void {
    if (fault.endpoint === 'metadata') this.#state.metadataFaults.add(fault);
    else if (fault.endpoint === 'api') this.#state.apiFaults.add(fault);
    else this.#state.faults.add(fault);
  }

  /** Removes all queued and standing faults, of every route. */
  clearFaults(): void {
    this.#state.faults.clear();
    this.#state.metadataFaults.clear();
    this.#state.apiFaults.clear();
  }

  /**
   * Revokes every access token issued so far, as a server-side logout of all sessions would:
   * the API answers each of them 401 `invalid_token` from now on; tokens issued afterwards are
   * valid. For soak tests of the adapters' 401 handling.
   */
  revokeAllTokens(): void {
    this.#state.tokens.revokeAll();
  }

  /**
   * Sets the lifetime of tokens issued from now on, in seconds.
   *
   * @throws RangeError unless `seconds` is a non-negative integer.
   */
  setTokenLifetime(seconds: number): void {
    this.#state.tokenLifetime = checkLifetime(seconds);
  }

  /** Live counters: the same object throughout, updated as requests arrive. */
  get stats(): MockStats {
    return this.#state.stats;
  }

  /** Zeroes {@link stats} in place. */
  resetStats(): void {
    Object.assign(this.#state.stats, emptyStats(), {
      lastAssertion: undefined,
      lastRequestBody: undefined,
    });
  }

  /**
   * Verifies an access token as the protected resource does: issued by this mock and unexpired
   * at the server's (possibly fault-shifted) now.
   */
  verifyAccessToken(token: string): Promise<VerifiedAccessToken | undefined> {
    return this.#state.tokens.verify(token, serverNow(this.#state));
  }
}

function emptyStats(): MockStats {
  return {
    tokenRequests: 0,
    metadataRequests: 0,
    tokensIssued: 0,
    tokenRequestsBySubject: {},
    rejections: {},
    apiRequests: 0,
    apiRejections: 0,
  };
}

function checkLifetime(seconds: number): number {
  if (!(Number.isInteger(seconds) && seconds >= 0)) {
    throw new RangeError(
      `token lifetime must be a non-negative integer of seconds; got ${seconds}`,
    );
  }
  return seconds;
}

/** Drillster's issuer is an origin; routes are matched at the root, so a path cannot work. */
function normalizeIssuer(issuer: string): string {
  const url = new URL(issuer);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new TypeError(
      `issuer must be an origin such as https://www.drillster.com; got ${issuer}`,
    );
  }
  return url.origin;
}
