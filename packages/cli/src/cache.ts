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
 * Connects to the Redis at `url` (`redis://[:password@]HOST:PORT[/DB]`, or `rediss://`) and
 * wraps it in `@drillster-auth/redis`, so that repeated invocations reuse one token. A cache
 * that cannot be reached costs a warning on stderr, not the token.
 *
 * @throws {CliError} `ERR_INVALID_CONFIG` when `url` is not a Redis URL.
 */
export async function openTokenCache(
  url: string,
  io: CliIo,
  secrets: Secrets,
): Promise<OpenTokenCache> {
  const target = parseRedisUrl(url, secrets);
  let warned = false;
  const warn = (why: string) => {
    if (warned) return;
    warned = true;
    warnOn(io, secrets.redact(`the token cache at ${target} ${why}; continuing without it`));
  };
  const onEvent: DrillsterAuthEventListener = (event) => {
    if (event.type === 'cache_error') warn(`failed (${event.operation})`);
  };

  // Loaded on demand: only runs with a cache pay for the Redis client.
  const [{ Redis }, { createRedisTokenCache }] = await Promise.all([
    import('ioredis'),
    import('@drillster-auth/redis'),
  ]);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // One process, one short run: reconnecting would only delay the answer.
    retryStrategy: () => null,
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

/** Checks the URL, remembers its password as a secret, and returns it without credentials for messages. */
function parseRedisUrl(url: string, secrets: Secrets): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      '--cache must be a URL like redis://HOST:PORT[/DB] (DRILLSTER_CACHE likewise)',
    );
  }
  secrets.add(parsed.password);
  try {
    secrets.add(decodeURIComponent(parsed.password));
  } catch {
    // A malformed escape: the raw form, remembered above, is what any message would quote.
  }
  const target = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `--cache must be a redis:// or rediss:// URL, not ${parsed.protocol}`,
    );
  }
  if (!/^\/?(\d+)?$/.test(parsed.pathname)) {
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `--cache ${target}: the path must be a database number, e.g. redis://127.0.0.1:6379/0`,
    );
  }
  return target;
}
