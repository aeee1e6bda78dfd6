import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/** Options for {@link startWorkerd}. */
export interface StartWorkerdOptions {
  /**
   * Path of the workerd binary, e.g. the default export of the `workerd` npm package
   * (`createRequire(import.meta.url)('workerd').default`). Taken from the caller so that this
   * package does not depend on workerd.
   */
  binary: string;
  /** Path of the `.capnp` config to serve; its `embed` paths are relative to its directory. */
  config: string;
  /** Name of the config's socket to report, which should bind `127.0.0.1:0`. Default `http`. */
  socket?: string;
  /** Milliseconds to wait for workerd to listen before it is killed. Default 15000. */
  startTimeout?: number;
}

/** A workerd process serving on loopback, from {@link startWorkerd}. */
export interface RunningWorkerd {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The port the socket bound. */
  port: number;
  /** Everything workerd wrote to stderr so far, for failure messages. */
  stderr(): string;
  /** Stops workerd: SIGTERM, then SIGKILL after 3 seconds. Resolves once it has exited. */
  close(): Promise<void>;
  /** {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `workerd serve` on a config and resolves once its socket listens. The port is learnt
 * through `--control-fd`, so a config can bind `127.0.0.1:0` without a race for a free port.
 *
 * @throws Error if workerd exits, fails to spawn or does not listen within `startTimeout`; the
 *   message carries workerd's stderr.
 *
 * @example
 * ```ts
 * import { createRequire } from 'node:module';
 * import { startWorkerd } from '@drillster-auth/testing/node';
 *
 * const { default: binary } = createRequire(import.meta.url)('workerd') as { default: string };
 * await using worker = await startWorkerd({ binary, config: 'worker.capnp' });
 * console.log(await (await fetch(worker.url)).text());
 * ```
 */
export async function startWorkerd(options: StartWorkerdOptions): Promise<RunningWorkerd> {
  const { binary, config, socket = 'http', startTimeout = 15_000 } = options;
  const child = spawn(binary, ['serve', config, '--control-fd=3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail('did not start listening in time'), startTimeout);
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`workerd serve ${config}: ${reason}\n${errors}`));
    };
    child.once('error', (error) => fail(error.message));
    // 'close', not 'exit': it comes after stderr is drained, so the message has all of it.
    child.once('close', (code) => fail(`exited with ${code} before listening`));
    let buffered = '';
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      // The last piece is a line still being written; it is parsed when its newline comes.
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const event = parseEvent(line);
        if (
          event?.event === 'listen' &&
          event.socket === socket &&
          typeof event.port === 'number'
        ) {
          clearTimeout(timer);
          child.removeAllListeners('close');
          resolve(event.port);
          return;
        }
      }
    });
  });
  const close = () => stop(child);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stderr: () => errors,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function parseEvent(
  line: string,
): { event?: unknown; socket?: unknown; port?: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
