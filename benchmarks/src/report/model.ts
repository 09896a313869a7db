/**
 * The benchmark report's data: result lines parsed out of `turbo run bench` output, the
 * reviewed targets of `benchmarks/targets.json`, and the check of one against the other.
 */
import type { Result, Unit } from '../harness.ts';

/** One result line as found in the output, with the turbo task that printed it. */
export interface Found {
  readonly result: Result;
  /** The turbo task prefix (`@fluxel/benchmarks:bench`), when the line had one. */
  readonly task?: string;
}

/** Comparison operators of a target; `report` asks only for the figure. */
export type Op = '>=' | '>' | '<=' | '<' | 'report';

/** A metric of a result line: `ratio`, `ours`, `theirs` or `extra.<key>`. */
export type Metric = string;

export interface Target {
  readonly bench: string;
  readonly issue: number;
  /** The issue's sentence, verbatim. */
  readonly wording: string;
  /** Short form for tables and charts. */
  readonly label: string;
  readonly metric: Metric;
  readonly op: Op;
  /** A number, or another metric of the same result line. */
  readonly value?: number | Metric;
  /** Unit of an `extra.*` metric (`ours`/`theirs` have the result's unit). */
  readonly unit?: string;
}

export interface PackageInfo {
  /** The part of the bench name before the first `/`. */
  readonly prefix: string;
  readonly title: string;
  /** File name of the chart: `docs/benchmarks/<slug>.svg`. */
  readonly slug: string;
  readonly issue: number;
  /** Later issues that set further targets for the package (issue 18 for the relay). */
  readonly laterIssues?: readonly number[];
}

export type Kind = 'peer' | 'limit';

export interface BenchInfo {
  /** Whether the bench's `theirs` is a peer library or a limit (hardware, floor, baseline). */
  readonly kind: Kind;
  readonly note?: string;
}

export interface Targets {
  readonly packages: readonly PackageInfo[];
  readonly benches: Readonly<Record<string, BenchInfo>>;
  readonly targets: readonly Target[];
}

export type Status = 'met' | 'not met' | 'not measured' | 'reported';

export interface Checked {
  readonly target: Target;
  readonly status: Status;
  /** The measured metric, when the bench printed it. */
  readonly measured?: number;
  /** The threshold, resolved when `value` names another metric. */
  readonly threshold?: number;
}

const UNITS: readonly Unit[] = [
  'ops/s',
  'MB/s',
  'ms',
  'records/s',
  'req/s',
  'lines/s',
  'µs',
  'statements/send',
];
const OPS: readonly Op[] = ['>=', '>', '<=', '<', 'report'];
/** Colour codes (ESC [ … m) that turbo may put around its task prefixes. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/**
 * Finds every result line in a stream of output: the line itself, or a line with a prefix
 * (turbo's `<pkg>:<task>: `) before the JSON object. Anything else is ignored; a line that
 * starts like a result but is not a valid one is an error, so a broken bench is not silently
 * left out of the report.
 */
export function parseResultLines(output: string): Found[] {
  const found: Found[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.replace(ANSI, '');
    const at = line.indexOf('{"bench":');
    if (at < 0) continue;
    const json = line.slice(at).trim();
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      throw new Error(`not a result line (bad JSON): ${json.slice(0, 200)}`);
    }
    const result = asResult(value);
    const prefix = line.slice(0, at).trim().replace(/:$/, '');
    found.push(prefix ? { result, task: prefix } : { result });
  }
  return found;
}

/** Checks the documented field set of a result line. */
export function asResult(value: unknown): Result {
  const v = value as Record<string, unknown>;
  const problem =
    typeof v !== 'object' || v === null
      ? 'not an object'
      : typeof v.bench !== 'string' || !v.bench.includes('/')
        ? 'bench must be "<pkg>/<case>"'
        : !isFiniteNumber(v.ours) || !isFiniteNumber(v.theirs) || !isFiniteNumber(v.ratio)
          ? 'ours, theirs and ratio must be numbers'
          : typeof v.peer !== 'string'
            ? 'peer must be a string'
            : !UNITS.includes(v.unit as Unit)
              ? `unknown unit ${String(v.unit)}`
              : v.extra !== undefined && (typeof v.extra !== 'object' || v.extra === null)
                ? 'extra must be an object'
                : undefined;
  if (problem) throw new Error(`invalid result line (${problem}): ${JSON.stringify(value)}`);
  return v as unknown as Result;
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Validates the targets file's shape (it is hand-edited). */
export function asTargets(value: unknown): Targets {
  const v = value as Partial<Targets>;
  if (!Array.isArray(v.packages) || !Array.isArray(v.targets) || typeof v.benches !== 'object')
    throw new Error('targets: expected { packages: [], benches: {}, targets: [] }');
  for (const p of v.packages) {
    if (
      !p.prefix ||
      !p.title ||
      !/^[a-z0-9-]+$/.test(p.slug) ||
      !Number.isInteger(p.issue) ||
      (p.laterIssues !== undefined &&
        !(Array.isArray(p.laterIssues) && p.laterIssues.every(Number.isInteger)))
    )
      throw new Error(`targets: bad package entry ${JSON.stringify(p)}`);
  }
  for (const [bench, info] of Object.entries(v.benches ?? {})) {
    if (info.kind !== 'peer' && info.kind !== 'limit')
      throw new Error(`targets: ${bench} kind must be "peer" or "limit"`);
  }
  for (const t of v.targets) {
    const where = `targets: ${t.bench} "${t.label}"`;
    if (!t.bench?.includes('/') || !Number.isInteger(t.issue) || !t.wording || !t.label)
      throw new Error(`${where}: needs bench, issue, wording and label`);
    if (!OPS.includes(t.op)) throw new Error(`${where}: unknown op ${t.op}`);
    if (!isMetric(t.metric)) throw new Error(`${where}: unknown metric ${t.metric}`);
    if (t.op !== 'report' && !(isFiniteNumber(t.value) || isMetric(t.value)))
      throw new Error(`${where}: needs a value (number or metric)`);
  }
  return v as Targets;
}

function isMetric(m: unknown): m is Metric {
  return (
    typeof m === 'string' &&
    (m === 'ratio' || m === 'ours' || m === 'theirs' || /^extra\.[A-Za-z0-9_]+$/.test(m))
  );
}

/** Reads a metric off a result line; undefined when the line does not have it as a number. */
export function metricOf(result: Result, metric: Metric): number | undefined {
  if (metric === 'ratio' || metric === 'ours' || metric === 'theirs') return result[metric];
  const key = metric.startsWith('extra.') ? metric.slice('extra.'.length) : undefined;
  const value = key === undefined ? undefined : result.extra?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Checks one target against the results (the last line of a bench wins if it ran twice). */
export function check(target: Target, results: readonly Result[]): Checked {
  const result = results.findLast((r) => r.bench === target.bench);
  const measured = result ? metricOf(result, target.metric) : undefined;
  if (result === undefined || measured === undefined) return { target, status: 'not measured' };
  if (target.op === 'report') return { target, status: 'reported', measured };
  const threshold =
    typeof target.value === 'number'
      ? target.value
      : target.value === undefined
        ? undefined
        : metricOf(result, target.value);
  if (threshold === undefined) return { target, status: 'not measured', measured };
  return {
    target,
    status: compare(measured, target.op, threshold) ? 'met' : 'not met',
    measured,
    threshold,
  };
}

export function compare(a: number, op: Exclude<Op, 'report'>, b: number): boolean {
  switch (op) {
    case '>=':
      return a >= b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '<':
      return a < b;
  }
}

/** The package a bench belongs to, by the bench name's first segment (`relay-client/…`). */
export function packageOf(bench: string, packages: readonly PackageInfo[]): PackageInfo {
  const head = bench.slice(0, bench.indexOf('/'));
  const known = packages.find((p) => p.prefix === head);
  return known ?? { prefix: head, title: head, slug: head.replace(/[^a-z0-9-]/gi, '-'), issue: 0 };
}

/** Whether `theirs` of a bench is a peer or a limit; unknown benches count as peers. */
export function kindOf(bench: string, targets: Targets): Kind {
  return targets.benches[bench]?.kind ?? 'peer';
}
