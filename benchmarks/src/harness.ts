/**
 * The benchmark harness. Every benchmark in the repository reports through `emit`, which
 * prints one JSON object per line:
 *   {"bench":"<pkg>/<case>","ours":n,"peer":"<name>","theirs":n,"unit":"ops/s|MB/s|ms|…","ratio":n}
 * `ratio` is oriented so that higher is better for us: ours/theirs for rates, theirs/ours for
 * costs (times, CPU per operation, statements per operation). A peer is either another library
 * or the hardware limit (e.g. raw node:crypto).
 */

/**
 * A quick run (`pnpm bench -- --quick`, which sets `FLUXEL_BENCH_QUICK=1`): fewer samples and
 * rounds, to try the pipeline end to end. Its figures are indicative only; the report says so.
 */
export const QUICK = process.env.FLUXEL_BENCH_QUICK === '1';

/** `full` in a normal run, `quick` in a quick one. */
export function scaled<T>(full: T, quick: T): T {
  return QUICK ? quick : full;
}

/**
 * Units a result can be in: rates (higher is better) and costs (lower is better: `ms` a time,
 * `µs` CPU time per operation, `statements/send` database statements per operation).
 */
export type Unit =
  | 'ops/s'
  | 'MB/s'
  | 'ms'
  | 'records/s'
  | 'req/s'
  | 'lines/s'
  | 'µs'
  | 'statements/send';

/** The units of costs, where lower is better. */
export const COST_UNITS: readonly Unit[] = ['ms', 'µs', 'statements/send'];

/** One benchmark result line. */
export interface Result {
  readonly bench: string;
  readonly ours: number;
  readonly peer: string;
  readonly theirs: number;
  readonly unit: Unit;
  readonly ratio: number;
  /** Free-form extra figures (peak RSS, p99, …), kept beside the ratio. */
  readonly extra?: Record<string, number | string>;
}

/** Whether a larger number is better for the unit. */
export function higherIsBetter(unit: Unit): boolean {
  return !COST_UNITS.includes(unit);
}

/** Builds a result with its ratio oriented so that > 1 means we are better. */
export function result(
  bench: string,
  ours: number,
  peer: string,
  theirs: number,
  unit: Unit,
  extra?: Record<string, number | string>,
): Result {
  if (!(ours > 0) || !(theirs > 0))
    throw new Error(`${bench}: figures must be positive (${ours}, ${theirs})`);
  const ratio = higherIsBetter(unit) ? ours / theirs : theirs / ours;
  return {
    bench,
    ours: round(ours),
    peer,
    theirs: round(theirs),
    unit,
    ratio: round(ratio),
    ...(extra ? { extra } : {}),
  };
}

/** Prints a result as one JSON line and returns it. */
export function emit(...args: Parameters<typeof result>): Result {
  const line = result(...args);
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return line;
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Time spent before measuring, to let the JIT settle. Default 200 ms. */
  readonly warmupMs?: number;
  /** Number of timed samples; the median is reported. Default 7. */
  readonly samples?: number;
  /** Minimum time per sample. Default 150 ms. */
  readonly sampleMs?: number;
}

/**
 * Runs `fn` (sync or async; one call = one operation) repeatedly and returns the median rate in
 * operations per second over several samples, so a noisy neighbour moves one sample, not the
 * figure.
 */
export async function measure(fn: () => unknown, options: MeasureOptions = {}): Promise<number> {
  const {
    warmupMs = scaled(200, 50),
    samples = scaled(7, 3),
    sampleMs = scaled(150, 60),
  } = options;
  await runFor(fn, warmupMs);
  const rates: number[] = [];
  for (let i = 0; i < samples; i++) {
    const { count, elapsed } = await runFor(fn, sampleMs);
    rates.push(count / (elapsed / 1000));
  }
  return median(rates);
}

async function runFor(fn: () => unknown, ms: number): Promise<{ count: number; elapsed: number }> {
  const start = performance.now();
  let count = 0;
  let elapsed = 0;
  // Check the clock in batches that grow while the operation is cheap.
  let batch = 1;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) {
      const value = fn();
      if (value instanceof Promise) await value;
    }
    count += batch;
    elapsed = performance.now() - start;
    if (elapsed < ms / 20) batch *= 2;
  }
  return { count, elapsed };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Percentile (0–100) of a non-empty list, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}
