import { NetworkError } from '@drillster-auth/core';

/** A command waiting for its reply, and how to fail it. */
interface Pending {
  readonly command: string;
  /** `performance.now()` after which the command has taken too long. */
  readonly deadline: number;
  readonly fail: (error: NetworkError) => void;
}

/**
 * Gives up on Redis commands that take longer than `ms` milliseconds, so a slow or unreachable
 * server costs the caller at most that long. Failures become {@link NetworkError}s whose message
 * names the command, without its arguments: they may hold a token.
 *
 * One timer serves every command in flight, instead of a `setTimeout`, a `clearTimeout` and a
 * race of two promises per command: all commands share `ms`, so the order they were sent in is
 * the order of their deadlines, and the timer only ever needs to wake for the oldest.
 * A command that answers in time just leaves the queue; the timer, armed for a command that is
 * long gone, then finds the next one's deadline ahead and sleeps until it. The timer keeps the
 * process alive only while a command waits, as a timer per command did.
 */
export class CommandTimer {
  readonly #ms: number;
  /** In the order sent, which is deadline order. */
  readonly #pending = new Set<Pending>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Runs `run` (one command named `command`), failing with `ERR_TIMEOUT` after `ms`. */
  run<T>(command: string, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let reply: Promise<T>;
      try {
        reply = run();
      } catch (error) {
        reject(commandFailed(command, error));
        return;
      }
      const pending: Pending = { command, deadline: performance.now() + this.#ms, fail: reject };
      this.#add(pending);
      reply.then(
        (value) => {
          this.#remove(pending);
          resolve(value);
        },
        (error: unknown) => {
          this.#remove(pending);
          reject(commandFailed(command, error));
        },
      );
    });
  }

  #add(pending: Pending): void {
    this.#pending.add(pending);
    if (this.#timer === undefined) this.#arm(this.#ms);
    else if (this.#pending.size === 1) this.#timer.ref();
  }

  #remove(pending: Pending): void {
    // A command that timed out has left already; its late answer changes nothing.
    if (this.#pending.delete(pending) && this.#pending.size === 0) this.#timer?.unref();
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(this.#expire, delay);
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    for (const pending of this.#pending) {
      if (pending.deadline > now) {
        // Whole milliseconds, rounded up: a timer never fires before its deadline this way.
        this.#arm(Math.ceil(pending.deadline - now));
        return;
      }
      this.#pending.delete(pending);
      pending.fail(
        new NetworkError('ERR_TIMEOUT', `Redis ${pending.command} took longer than ${this.#ms} ms`),
      );
    }
  };
}

function commandFailed(command: string, error: unknown): NetworkError {
  if (error instanceof NetworkError) return error;
  // Keep only the name and message: ioredis attaches the command's arguments to its errors.
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
  return new NetworkError('ERR_NETWORK', `Redis ${command} failed (${reason})`);
}
