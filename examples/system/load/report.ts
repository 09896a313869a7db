/** The summary of a load run: figures, checks, the printed table and the JSON report. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Incarnation } from './procs.ts';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface MemoryFigure {
  readonly process: string;
  readonly pid: number;
  readonly startMiB: number;
  readonly warmMiB: number;
  readonly peakMiB: number;
  readonly endMiB: number;
  readonly growthMiB: number;
  readonly boundMiB: number;
  readonly samples: number;
  /** False for an incarnation that ended before its warm-up window was over (nothing to judge). */
  readonly judged: boolean;
  readonly ok: boolean;
}

const MiB = 1024 * 1024;
const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Memory figure of one process incarnation. "warm" is the median RSS over the 10 s after its
 * warm-up (`warmupMs` after the later of its start and the load start), "end" the median of
 * its last 10 s of samples; growth = end − warm must stay within `boundMiB`.
 */
export function memoryFigure(
  inc: Incarnation,
  loadStartedAt: number,
  warmupMs: number,
  boundMiB: number,
): MemoryFigure {
  const s = inc.samples;
  const warmFrom = Math.max(inc.startedAt, loadStartedAt) + warmupMs;
  const warmWindow = s.filter((x) => x.t >= warmFrom && x.t < warmFrom + 10_000).map((x) => x.rss);
  const last = s.at(-1)?.t ?? 0;
  const endWindow = s.filter((x) => x.t > last - 10_000).map((x) => x.rss);
  // An incarnation that lived shorter than its warm-up (a restart during a fault) has no
  // growth after warm-up to judge; it is listed, not judged.
  const judged = s.some((x) => x.t >= warmFrom + 10_000);
  const warm = warmWindow.length > 0 ? median(warmWindow) : (s[0]?.rss ?? 0);
  const end = median(endWindow);
  const afterWarm = s.filter((x) => x.t >= warmFrom).map((x) => x.rss);
  const peak = Math.max(0, ...(afterWarm.length > 0 ? afterWarm : s.map((x) => x.rss)));
  const growth = (end - warm) / MiB;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    process: inc.process,
    pid: inc.pid,
    startMiB: round((s[0]?.rss ?? 0) / MiB),
    warmMiB: round(warm / MiB),
    peakMiB: round(peak / MiB),
    endMiB: round(end / MiB),
    growthMiB: round(growth),
    boundMiB,
    samples: s.length,
    judged,
    ok: !judged || growth <= boundMiB,
  };
}

export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  // the first column left-aligned, figures right-aligned, a last text column (detail) unpadded
  const last = headers.length - 1;
  const line = (r: string[]) =>
    r
      .map((c, i) =>
        i === 0
          ? c.padEnd(widths[i] ?? 0)
          : i === last && last > 1
            ? c
            : c.padStart(widths[i] ?? 0),
      )
      .join('  ');
  return [
    line(cells[0] as string[]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

export function writeReport(path: string, report: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

type Latency = { p50: number | null; p99: number | null; n: number };

/** What `printSummary` shows of the report. */
export interface SummaryView {
  readonly seed: number;
  readonly settings: {
    readonly durationSeconds: number;
    readonly agents: number;
    readonly recordsPerSecondHeld: number;
    readonly webhooksPerSecond: number;
    readonly warmupMs: number;
  };
  readonly drainSeconds: number;
  readonly records: {
    readonly sent: number;
    readonly delivered: number;
    readonly duplicates: number;
    readonly reforwardedDeduplicatedByTarget: number;
    readonly lost: number;
    readonly deadLettered: number;
    readonly rejected: number;
    readonly latencyMs: {
      readonly all: Latency;
      readonly beforeFaults: Latency;
      readonly duringFaults: Latency;
      readonly outsideFaults: Latency;
    };
    readonly failedAttemptsByCode: Record<string, number>;
  };
  readonly mailbox: {
    readonly in: number;
    readonly picked: number;
    readonly expectedPicked: number;
    readonly expired: number;
    readonly expectedExpired: number;
    readonly left: number;
  };
  readonly faults: readonly {
    kind: string;
    startedAt?: number;
    endedAt?: number;
    detail: string;
  }[];
  readonly balancerConnections: Record<string, number>;
  readonly audit: readonly { instance: string; ok: boolean; records: number }[];
  readonly memory: readonly MemoryFigure[];
  readonly checks: readonly Check[];
}

const ms = (n: number | null) => (n === null ? '-' : `${n}`);
const lat = (l: Latency) => `${ms(l.p50)} / ${ms(l.p99)} ms (n ${l.n})`;

/** The summary table, the faults, the RSS figures and the checks, on stdout. */
export function printSummary(s: SummaryView, reportPath: string): void {
  const r = s.records;
  const first = Math.min(...s.faults.map((f) => f.startedAt ?? Number.POSITIVE_INFINITY));
  const secs = (t: number | undefined) =>
    t === undefined || !Number.isFinite(first) ? '-' : `${((t - first) / 1000).toFixed(1)}s`;
  console.log('\n=== load and fault suite ===');
  console.log(
    table(
      ['figure', 'value'],
      [
        ['seed (FLUXEL_LOAD_SEED)', s.seed],
        ['duration / drain', `${s.settings.durationSeconds}s / ${s.drainSeconds}s`],
        ['agents', s.settings.agents],
        [
          'records/s held / webhooks/s',
          `${s.settings.recordsPerSecondHeld} / ${s.settings.webhooksPerSecond}`,
        ],
        ['records sent (dropped)', r.sent],
        ['delivered (distinct)', r.delivered],
        ['duplicate effects', r.duplicates],
        ["re-forwards absorbed by the target's idempotency key", r.reforwardedDeduplicatedByTarget],
        ['lost', r.lost],
        ['dead-lettered / rejected', `${r.deadLettered} / ${r.rejected}`],
        ['latency drop→counterpart p50 / p99', lat(r.latencyMs.all)],
        ['  … before the first fault', lat(r.latencyMs.beforeFaults)],
        ['  … dropped during a fault (+5 s)', lat(r.latencyMs.duringFaults)],
        ['  … dropped between and after faults', lat(r.latencyMs.outsideFaults)],
        [
          'failed attempts (retried) by code',
          Object.entries(r.failedAttemptsByCode)
            .map(([c, n]) => `${c.replace(/^ERR_RELAY_/, '')} ${n}`)
            .join(', ') || '-',
        ],
        ['mailbox events in', s.mailbox.in],
        ['mailbox events picked', `${s.mailbox.picked} of ${s.mailbox.expectedPicked}`],
        ['mailbox events expired', `${s.mailbox.expired} of ${s.mailbox.expectedExpired}`],
        ['mailbox rows left', s.mailbox.left],
        ['faults injected', s.faults.length],
        [
          'agent connections via the balancer',
          Object.entries(s.balancerConnections)
            .map(([name, n]) => `${name} ${n}`)
            .join(', '),
        ],
        [
          'audit verify',
          s.audit.map((a) => `${a.instance} ${a.ok ? 'OK' : 'FAILED'} (${a.records})`).join(', '),
        ],
      ],
    ),
  );
  console.log(
    `\nfaults (time from the first):\n${table(
      ['from', 'to', 'fault', 'detail'],
      s.faults.map((f) => [secs(f.startedAt), secs(f.endedAt), f.kind, f.detail]),
    )}`,
  );
  console.log(
    `\nRSS (MiB; growth = end − warm, warm = 10 s after ${s.settings.warmupMs / 1000} s of warm-up):\n${table(
      ['process', 'pid', 'start', 'warm', 'peak', 'end', 'growth', 'bound', 'ok'],
      s.memory.map((m) => [
        m.process,
        m.pid,
        m.startMiB,
        m.warmMiB,
        m.peakMiB,
        m.endMiB,
        m.growthMiB,
        m.boundMiB,
        m.judged ? (m.ok ? 'yes' : 'NO') : 'short-lived',
      ]),
    )}`,
  );
  console.log(
    `\nchecks:\n${table(
      ['check', 'ok', 'detail'],
      s.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAIL', c.detail]),
    )}`,
  );
  console.log(`\nreport: ${reportPath}`);
}
