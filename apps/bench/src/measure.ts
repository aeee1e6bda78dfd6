/**
 * Ratios measured against a baseline in the same run: absolute times drift on a shared machine,
 * a ratio of two things measured side by side much less. Rounds alternate which side goes first,
 * and the median of the per-round ratios is reported with its interquartile range.
 */

/** One side of a comparison: runs a round and returns its cost per operation (any unit). */
export type Round = () => Promise<number>;

/** What {@link interleave} measured. */
export interface Interleaved {
  /** Median cost per operation of the candidate. */
  candidate: number;
  /** Median cost per operation of the baseline. */
  baseline: number;
  /** Median of the per-round `candidate / baseline`. */
  ratio: number;
  /** Interquartile range of the per-round ratios. */
  spread: [number, number];
  rounds: number;
}

/** Runs `rounds` rounds of each side, alternating which goes first, after `warmup` rounds of each. */
export async function interleave(
  candidate: Round,
  baseline: Round,
  options: { rounds: number; warmup?: number },
): Promise<Interleaved> {
  for (let i = 0; i < (options.warmup ?? 10); i++) {
    await candidate();
    await baseline();
  }
  const candidates: number[] = [];
  const baselines: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < options.rounds; i++) {
    let c: number;
    let b: number;
    if (i % 2 === 0) {
      c = await candidate();
      b = await baseline();
    } else {
      b = await baseline();
      c = await candidate();
    }
    candidates.push(c);
    baselines.push(b);
    ratios.push(c / b);
  }
  return {
    candidate: quantile(candidates, 0.5),
    baseline: quantile(baselines, 0.5),
    ratio: quantile(ratios, 0.5),
    spread: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
    rounds: options.rounds,
  };
}

/** Nanoseconds per call of `ops` sequential awaited calls of `fn`. */
export function sequential(fn: () => unknown, ops: number): Round {
  return async () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) await fn();
    return Number(process.hrtime.bigint() - started) / ops;
  };
}

/** Nanoseconds per call of `ops` calls of `fn` with `concurrency` of them in flight at a time. */
export function concurrent(fn: () => Promise<unknown>, ops: number, concurrency: number): Round {
  return async () => {
    let next = 0;
    const lane = async () => {
      while (next < ops) {
        next += 1;
        await fn();
      }
    };
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: concurrency }, lane));
    return Number(process.hrtime.bigint() - started) / ops;
  };
}

/** The `q` quantile (0 to 1) of `values`, linearly interpolated. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/** Heap in use after full garbage collections (needs `--expose-gc`). */
export function settledHeap(): number {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('Run with node --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}
