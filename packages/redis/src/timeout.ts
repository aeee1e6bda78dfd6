import { NetworkError } from '@drillster-auth/core';

/**
 * Runs one Redis command, giving up after `ms` milliseconds so a slow or unreachable server
 * costs the caller at most that long. Failures become {@link NetworkError}s whose message names
 * the command, without its arguments: they may hold a token.
 */
export async function withTimeout<T>(
  command: string,
  ms: number,
  run: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new NetworkError('ERR_TIMEOUT', `Redis ${command} took longer than ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(run), timedOut]);
  } catch (error) {
    if (error instanceof NetworkError) throw error;
    // Keep only the name and message: ioredis attaches the command's arguments to its errors.
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
    throw new NetworkError('ERR_NETWORK', `Redis ${command} failed (${reason})`);
  } finally {
    clearTimeout(timer);
  }
}
