import type { FaultOptions } from './types.js';

interface QueuedFault {
  fault: FaultOptions;
  remaining: number;
}

/**
 * Injected faults. Counted faults queue in order and each token request takes one from the head;
 * a clock fault without `count` stands (under the head) until cleared, later ones overriding
 * earlier ones.
 */
export class FaultQueue {
  #queue: QueuedFault[] = [];
  #standing: FaultOptions[] = [];

  add(fault: FaultOptions): void {
    validate(fault);
    if (fault.dateOffsetMs !== undefined && fault.count === undefined) {
      this.#standing.push({ ...fault });
    } else {
      this.#queue.push({ fault: { ...fault }, remaining: fault.count ?? 1 });
    }
  }

  clear(): void {
    this.#queue = [];
    this.#standing = [];
  }

  /** The clock offset outside the token endpoint, in milliseconds. */
  get standingOffsetMs(): number {
    let offset = 0;
    for (const fault of this.#standing) offset = fault.dateOffsetMs ?? offset;
    return offset;
  }

  /** The fault for the token request being handled, if any; consumes one use of the head. */
  take(): FaultOptions | undefined {
    const head = this.#queue[0];
    if (head !== undefined) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.#queue.shift();
    }
    if (head === undefined && this.#standing.length === 0) return undefined;
    return Object.assign({}, ...this.#standing, head?.fault);
  }
}

function validate(fault: FaultOptions): void {
  const { status, count, delayMs, dateOffsetMs } = fault;
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw new RangeError(`fault status must be an HTTP status from 200 to 599; got ${status}`);
  }
  if (status !== undefined && status < 400 && fault.body === undefined) {
    throw new RangeError(`fault status ${status} needs a body; error bodies are for 4xx and 5xx`);
  }
  if (count !== undefined && !(count === Number.POSITIVE_INFINITY || Number.isInteger(count))) {
    throw new RangeError(`fault count must be a positive integer or Infinity; got ${count}`);
  }
  if (count !== undefined && count < 1) {
    throw new RangeError(`fault count must be at least 1; got ${count}`);
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new RangeError(`fault delayMs must be a non-negative number; got ${delayMs}`);
  }
  if (dateOffsetMs !== undefined && !Number.isFinite(dateOffsetMs)) {
    throw new RangeError(`fault dateOffsetMs must be a finite number; got ${dateOffsetMs}`);
  }
}
