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
    ok: s.length > 0 && growth <= boundMiB,
  };
}

export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
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
