import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * The variable that carries a runner's JSON input. Not an argument: arguments show in `ps`, and
 * the input holds a (test) private key and client secret.
 */
export const INPUT_VARIABLE = 'DRILLSTER_TEST_INPUT';

/** `input` as the environment of a runner process. */
export function inputEnv(input: unknown): Record<string, string> {
  return { [INPUT_VARIABLE]: JSON.stringify(input) };
}

/** A runtime process that serves HTTP on loopback. */
export interface RuntimeServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Everything the process wrote to stderr so far, for failure messages. */
  stderr(): string;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

/** Spawns `command` and resolves with the first line of its stdout that parses as JSON with a numeric `port`. */
export async function spawnServer(
  command: string,
  args: string[],
  options: {
    /** Extra environment variables. */
    env?: Record<string, string>;
  } = {},
): Promise<RuntimeServer> {
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => fail(new Error('did not start listening in time')),
      START_TIMEOUT_MS,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args[0] ?? ''}: ${error.message}\n${errors}${output}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`exited with ${code} before listening`)));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        try {
          const event = JSON.parse(line) as { port?: unknown };
          if (typeof event.port === 'number') {
            clearTimeout(timer);
            child.removeAllListeners('exit');
            resolve(event.port);
            return;
          }
        } catch {
          // Not the line we wait for.
        }
      }
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stderr: () => errors,
    close: () => stop(child),
  };
}

/** Runs `command` to completion and returns its stdout; rejects with stderr on a non-zero exit. */
export async function runToCompletion(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} exited with ${code}\n${errors}`);
  return output;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
