import type { DrillsterAuthEventListener, TokenCache } from '@drillster-auth/core';
import { CliError } from './errors.js';
import type { CliIo } from './io.js';
import type { Secrets } from './secrets.js';
import { warn as warnOn } from './terminal.js';

/** A shared token cache for one CLI run, and how to let go of it. */
export interface OpenTokenCache {
  /** `undefined` when the cache could not be reached; the token is then got without it. */
  cache: TokenCache | undefined;
  /** Reports the cache's failures (as a warning on stderr, once). */
  onEvent: DrillsterAuthEventListener;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Longest wait for the Redis connection, in milliseconds: a token without the cache beats a hung shell. */
const CONNECT_TIMEOUT_MS = 1_000;

/**
 * Connects to the Redis at `url` and wraps it in `@drillster-auth/redis`, so that repeated
 * invocations reuse one token. A cache that cannot be reached costs a warning on stderr, not the
 * token. The URL forms (see {@link parseCacheUrl}):
 *
 * - `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for TLS: one server;
 * - `redis+cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]`: a Redis Cluster, any of its
 *   nodes as seeds (the password is every node's);
 * - `redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER[/DB][?sentinelUsername=U&sentinelPassword=P]`:
 *   the primary that these sentinels name MASTER (the password is the primary's; the sentinels'
 *   own credentials, if any, go in the query).
 *
 * @throws {CliError} `ERR_INVALID_CONFIG` when `url` is none of these.
 */
export async function openTokenCache(
  url: string,
  io: CliIo,
  secrets: Secrets,
): Promise<OpenTokenCache> {
  const target = parseCacheUrl(url, secrets);
  let warned = false;
  const warn = (why: string) => {
    if (warned) return;
    warned = true;
    warnOn(
      io,
      secrets.redact(`the token cache at ${target.display} ${why}; continuing without it`),
    );
  };
  const onEvent: DrillsterAuthEventListener = (event) => {
    if (event.type === 'cache_error') warn(`failed (${event.operation})`);
  };

  // Loaded on demand: only runs with a cache pay for the Redis client.
  const [{ Redis, Cluster }, { createRedisTokenCache }] = await Promise.all([
    import('ioredis'),
    import('@drillster-auth/redis'),
  ]);
  // One process, one short run: reconnecting would only delay the answer.
  const connection = {
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
  };
  const client =
    target.kind === 'redis'
      ? new Redis(url, {
          lazyConnect: true,
          enableOfflineQueue: false,
          retryStrategy: () => null,
          // No credentials here: ioredis reads them from the URL itself.
          connectTimeout: CONNECT_TIMEOUT_MS,
          maxRetriesPerRequest: 0,
        })
      : target.kind === 'cluster'
        ? // The offline queue stays on: the cluster connects to each node on first use, after
          // `connect()` resolved; the store's 200 ms timeout bounds those waits instead.
          new Cluster(target.nodes, {
            lazyConnect: true,
            clusterRetryStrategy: () => null,
            redisOptions: connection,
          })
        : new Redis({
            lazyConnect: true,
            enableOfflineQueue: false,
            retryStrategy: () => null,
            sentinelRetryStrategy: () => null,
            sentinels: target.nodes,
            name: target.master,
            db: target.db,
            ...(target.sentinelUsername === undefined
              ? {}
              : { sentinelUsername: target.sentinelUsername }),
            ...(target.sentinelPassword === undefined
              ? {}
              : { sentinelPassword: target.sentinelPassword }),
            ...connection,
          });
  let failure: string | undefined;
  // ioredis emits connection errors as events; without a listener they would crash the process.
  client.on('error', (error: NodeJS.ErrnoException) => {
    failure ??= error.code ?? error.name;
  });
  const close = async () => {
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  };
  try {
    await client.connect();
  } catch (error) {
    warn(`is unavailable (${failure ?? (error as NodeJS.ErrnoException).code ?? 'unreachable'})`);
    // A client whose connection already ended needs nothing more; disconnect() would arm a timer.
    if (client.status !== 'end') client.disconnect();
    return { cache: undefined, onEvent, close: async () => {} };
  }
  return { cache: createRedisTokenCache({ client }), onEvent, close };
}

/** Where the cache is, parsed from `--cache`; credentials are kept out of `display`. */
type CacheTarget = {
  /** The URL without credentials or query, for messages. */
  display: string;
  username?: string;
  password?: string;
} & (
  | { kind: 'redis' }
  | { kind: 'cluster'; nodes: HostPort[] }
  | {
      kind: 'sentinel';
      nodes: HostPort[];
      master: string;
      db: number;
      sentinelUsername?: string;
      sentinelPassword?: string;
    }
);

interface HostPort {
  host: string;
  port: number;
}

const USAGE =
  'like redis://HOST:PORT[/DB], redis+cluster://HOST:PORT,HOST:PORT or redis+sentinel://HOST:PORT/MASTER (DRILLSTER_CACHE likewise)';

/**
 * Checks the cache URL, remembers every password in it as a secret (raw and decoded) before
 * anything can quote it, and returns where it points.
 */
export function parseCacheUrl(url: string, secrets: Secrets): CacheTarget {
  const multi =
    /^(redis\+cluster|redis\+sentinel):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?$/i.exec(url);
  if (multi === null) return parseRedisUrl(url, secrets);
  const [, scheme = '', userinfo, hostList = '', path = '', query = ''] = multi;
  const kind = scheme.toLowerCase() === 'redis+cluster' ? 'cluster' : 'sentinel';
  const credentials = parseUserinfo(userinfo, secrets);
  const params = new URLSearchParams(query);
  const sentinelPassword = params.get('sentinelPassword') ?? undefined;
  secrets.add(sentinelPassword);
  // The query may hold a password: it is never shown.
  const display = `${scheme.toLowerCase()}://${hostList}${path}`;
  const defaultPort = kind === 'cluster' ? 6379 : 26379;
  const nodes = hostList.split(',').map((entry) => parseHostPort(entry, defaultPort, display));
  for (const name of params.keys()) {
    if (kind === 'cluster' || (name !== 'sentinelPassword' && name !== 'sentinelUsername')) {
      throw new CliError(
        'ERR_INVALID_CONFIG',
        // Not quoting the name: a mistyped query may hold a password.
        `--cache ${display}: ${kind === 'cluster' ? 'a cluster URL takes no query parameters' : 'the only query parameters are sentinelUsername and sentinelPassword'}`,
      );
    }
  }
  if (kind === 'cluster') {
    if (path !== '' && path !== '/') {
      throw new CliError(
        'ERR_INVALID_CONFIG',
        `--cache ${display}: a cluster has only database 0, so its URL takes no path`,
      );
    }
    return { kind, display, nodes, ...credentials };
  }
  const sentinelPath = /^\/([^/]+)(?:\/(\d+))?\/?$/.exec(path);
  if (sentinelPath === null) {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `--cache ${display}: name the primary after the sentinels, e.g. redis+sentinel://127.0.0.1:26379/mymaster[/DB]`,
    );
  }
  const sentinelUsername = params.get('sentinelUsername') ?? undefined;
  return {
    kind,
    display,
    nodes,
    master: decodeOrThrow(sentinelPath[1] ?? '', display),
    db: Number(sentinelPath[2] ?? 0),
    ...credentials,
    ...(sentinelUsername === undefined ? {} : { sentinelUsername }),
    ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
  };
}

/** `USER:PASSWORD`, `:PASSWORD` or `PASSWORD`-less `USER`, percent-decoded; both remembered as secrets. */
function parseUserinfo(
  userinfo: string | undefined,
  secrets: Secrets,
): { username?: string; password?: string } {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  const rawUser = colon === -1 ? userinfo : userinfo.slice(0, colon);
  const rawPassword = colon === -1 ? undefined : userinfo.slice(colon + 1);
  secrets.add(rawPassword);
  let password: string | undefined;
  try {
    password = rawPassword === undefined ? undefined : decodeURIComponent(rawPassword);
  } catch {
    // A malformed escape: the raw form, remembered above, is what any message would quote.
    throw new CliError('ERR_INVALID_CONFIG', '--cache: the password is not validly URL-encoded');
  }
  secrets.add(password);
  let username: string | undefined;
  try {
    username = rawUser === '' ? undefined : decodeURIComponent(rawUser);
  } catch {
    throw new CliError('ERR_INVALID_CONFIG', '--cache: the user name is not validly URL-encoded');
  }
  return {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined || password === '' ? {} : { password }),
  };
}

function parseHostPort(entry: string, defaultPort: number, display: string): HostPort {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(entry);
  const port = Number(match?.[2] ?? defaultPort);
  if (match === null || port < 1 || port > 65_535) {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `--cache ${display}: ${JSON.stringify(entry)} is not HOST:PORT; give one or more, comma-separated`,
    );
  }
  const host = match[1] ?? '';
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

function decodeOrThrow(text: string, display: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `--cache ${display}: the primary's name is not validly URL-encoded`,
    );
  }
}

/** Checks a `redis://` URL, remembers its password as a secret, and returns it without credentials for messages. */
function parseRedisUrl(url: string, secrets: Secrets): CacheTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError('ERR_INVALID_CONFIG', `--cache must be a URL ${USAGE}`);
  }
  secrets.add(parsed.password);
  try {
    secrets.add(decodeURIComponent(parsed.password));
  } catch {
    // A malformed escape: the raw form, remembered above, is what any message would quote.
  }
  const display = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `--cache must be a redis://, rediss://, redis+cluster:// or redis+sentinel:// URL, not ${parsed.protocol}`,
    );
  }
  if (!/^\/?(\d+)?$/.test(parsed.pathname)) {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `--cache ${display}: the path must be a database number, e.g. redis://127.0.0.1:6379/0`,
    );
  }
  return { kind: 'redis', display };
}
