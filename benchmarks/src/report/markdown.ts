/**
 * Writes `docs/benchmarks.md` from the collected results, the machine details and the targets,
 * and builds the per-package chart data.
 */
import type { Result } from '../harness.ts';
import {
  type Checked,
  check,
  type Found,
  kindOf,
  type PackageInfo,
  packageOf,
  type Targets,
} from './model.ts';
import type { Chart } from './svg.ts';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  readonly kernel: string;
  /** os.loadavg() (1, 5, 15 min) when the run started and when it ended. */
  readonly loadStart: readonly number[];
  readonly loadEnd: readonly number[];
  /** 1-minute load average sampled during the run. */
  readonly loadDuring?: { readonly min: number; readonly median: number; readonly max: number };
}

export interface RunInfo {
  /** ISO time the run started. */
  readonly started: string;
  readonly seconds: number;
  readonly quick: boolean;
  readonly command: string;
  readonly exitCode: number;
}

export interface ReportData {
  readonly machine: Machine;
  readonly run: RunInfo;
  readonly results: readonly Found[];
}

/** A package's section: its results in output order and the checks of its targets. */
export interface Section {
  readonly info: PackageInfo;
  readonly results: readonly Result[];
  readonly checks: readonly Checked[];
}

/** Groups results and checked targets by package, in the order of the targets file. */
export function sections(data: ReportData, targets: Targets): Section[] {
  const results = latest(data.results.map((f) => f.result));
  const all = targets.targets.map((t) => check(t, results));
  const infos = new Map<string, PackageInfo>();
  for (const p of targets.packages) infos.set(p.prefix, p);
  for (const r of results) {
    const p = packageOf(r.bench, targets.packages);
    if (!infos.has(p.prefix)) infos.set(p.prefix, p);
  }
  return [...infos.values()].map((info) => ({
    info,
    results: results.filter((r) => packageOf(r.bench, targets.packages).prefix === info.prefix),
    checks: all.filter((c) => packageOf(c.target.bench, targets.packages).prefix === info.prefix),
  }));
}

/** One result per bench: a bench that printed twice keeps its last line, at its first place. */
function latest(results: readonly Result[]): Result[] {
  const byBench = new Map<string, Result>();
  for (const r of results) byBench.set(r.bench, r);
  const seen = new Set<string>();
  const out: Result[] = [];
  for (const r of results) {
    if (seen.has(r.bench)) continue;
    seen.add(r.bench);
    out.push(byBench.get(r.bench) as Result);
  }
  return out;
}

/** The chart of a section: ratio targets only (others are in the tables). */
export function chartOf(section: Section, targets: Targets): Chart {
  return {
    title: section.info.title,
    rows: section.results.map((r) => ({
      bench: r.bench,
      against: r.peer,
      kind: kindOf(r.bench, targets),
      ratio: r.ratio,
      targets: section.checks
        .filter(
          (c) =>
            c.target.bench === r.bench &&
            c.target.metric === 'ratio' &&
            c.threshold !== undefined &&
            (c.status === 'met' || c.status === 'not met'),
        )
        .map((c) => ({
          value: c.threshold as number,
          label: c.target.label,
          met: c.status === 'met',
        })),
      others: section.checks
        .filter(
          (c) =>
            c.target.bench === r.bench &&
            c.target.metric !== 'ratio' &&
            (c.status === 'met' || c.status === 'not met'),
        )
        .map((c) => ({ label: c.target.label, met: c.status === 'met' })),
    })),
  };
}

/** Number formatting for tables: thousands separated, 3–4 significant digits. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  const rounded = Number(v.toFixed(digits));
  return rounded.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A ratio as the result line has it (4 significant digits), so 0.4996 never reads as 0.5. */
export function ratioText(v: number): string {
  return `${Number(v.toPrecision(4)).toLocaleString('en-US', { maximumSignificantDigits: 4 })}×`;
}

const STATUS: Record<Checked['status'], string> = {
  met: '**met**',
  'not met': '**not met**',
  'not measured': 'not measured',
  reported: 'reported (no target)',
};

/** Table-cell text: pipes escaped, and `<` where it could start an HTML tag. */
function cell(text: string): string {
  return text
    .replace(/\|/g, '\\|')
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;')
    .replace(/\r?\n/g, ' ');
}

function opText(op: string): string {
  return op === '>=' ? '≥' : op === '<=' ? '≤' : op;
}

/** The measured figure with its unit (`×` for ratios). */
function valueText(c: Checked, unit?: string): string {
  if (c.measured === undefined) return '—';
  const metric = c.target.metric;
  const u = metric === 'ours' || metric === 'theirs' ? unit : c.target.unit;
  return metric === 'ratio'
    ? ratioText(c.measured)
    : `${formatNumber(c.measured)}${u ? ` ${u}` : ''}`;
}

/** The measured figure and, for a checked target, its threshold. */
function measuredText(c: Checked, unit?: string): string {
  if (c.measured === undefined) return '—';
  const metric = c.target.metric;
  const u = metric === 'ours' || metric === 'theirs' ? unit : c.target.unit;
  const value = valueText(c, unit);
  if (c.status === 'reported' || c.threshold === undefined) return value;
  const threshold =
    metric === 'ratio'
      ? ratioText(c.threshold)
      : `${formatNumber(c.threshold)}${u && typeof c.target.value === 'number' ? ` ${u}` : ''}`;
  return `${value} (${opText(c.target.op)} ${threshold})`;
}

function durationText(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

function loadText(load: readonly number[]): string {
  return load.map((l) => l.toFixed(2)).join(' / ');
}

/** Renders the whole report. `chartPath(slug)` is the chart's path relative to the report. */
export function renderMarkdown(
  data: ReportData,
  targets: Targets,
  chartPath: (slug: string) => string = (slug) => `benchmarks/${slug}.svg`,
): string {
  const { machine, run } = data;
  const secs = sections(data, targets);
  const checks = secs.flatMap((s) => s.checks);
  const results = secs.flatMap((s) => s.results);
  const count = (status: Checked['status']) => checks.filter((c) => c.status === status).length;
  const busiest = Math.max(
    machine.loadStart[0] ?? 0,
    machine.loadEnd[0] ?? 0,
    machine.loadDuring?.max ?? 0,
  );
  const busy = busiest > machine.cores * 0.5;
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);

  push(
    '# Benchmarks',
    '',
    `Written by \`pnpm bench\` (${run.quick ? '**quick run** — fewer samples, figures only indicative' : 'full run'}) on ${run.started.slice(0, 10)} at ${run.started.slice(11, 16)} UTC; the run took **${durationText(run.seconds)}**${run.exitCode === 0 ? '' : ` and **exited with ${run.exitCode}** (a suite failed; its results are missing below)`}. Do not edit by hand: run \`pnpm bench\` again (\`node scripts/bench.mjs --from docs/benchmarks/results.json\` re-renders this page from the saved results after a change of [\`benchmarks/targets.json\`](../benchmarks/targets.json)).`,
    '',
  );
  push(
    busy
      ? `> **The machine was busy during this run** (1-minute load average ${machine.loadStart[0]?.toFixed(2)} at the start, ${machine.loadEnd[0]?.toFixed(2)} at the end${machine.loadDuring ? `, up to ${machine.loadDuring.max.toFixed(2)} in between` : ''}, on ${machine.cores} cores): other jobs shared the CPU. Every peer and limit is measured in the same run, side by side with ours, so **compare the ratios, not the absolute figures**.`
      : `> Load average ${machine.loadStart[0]?.toFixed(2)} at the start and ${machine.loadEnd[0]?.toFixed(2)} at the end, on ${machine.cores} cores. Every peer and limit is measured in the same run, side by side with ours, so compare the ratios rather than the absolute figures.`,
    '',
    '`ratio` is oriented so that higher is better for us: ours ÷ theirs for rates, theirs ÷ ours for times (ms). `theirs` is a **peer** (another library doing the same job) or a **limit** (the hardware limit such as raw `node:crypto`, a protocol floor, or a bare baseline with none of our work).',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${cell(machine.cpu)} |`,
    `| cores | ${machine.cores} |`,
    `| RAM | ${machine.memoryGiB.toFixed(1)} GiB |`,
    `| Node.js | ${cell(machine.node)} |`,
    `| OS | ${cell(machine.os)} (kernel ${cell(machine.kernel)}) |`,
    `| load average (1 / 5 / 15 min) at start | ${loadText(machine.loadStart)} |`,
    `| load average (1 / 5 / 15 min) at end | ${loadText(machine.loadEnd)} |`,
    ...(machine.loadDuring
      ? [
          `| 1-min load average during the run (min / median / max) | ${machine.loadDuring.min.toFixed(2)} / ${machine.loadDuring.median.toFixed(2)} / ${machine.loadDuring.max.toFixed(2)} |`,
        ]
      : []),
    `| date (UTC) | ${run.started.replace('T', ' ').slice(0, 19)} |`,
    `| command | \`${cell(run.command)}\` |`,
    `| duration | ${durationText(run.seconds)} |`,
    '',
    '## Targets from the issues',
    '',
    `${count('met')} met, ${count('not met')} not met, ${count('not measured')} not measured${count('reported') > 0 ? `; ${count('reported')} figures the issues ask only to report` : ''}. The issues' exact sentences are quoted under each package.`,
    '',
    '| issue | benchmark | target | measured | status |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const c of checks) {
    const unit = results.find((r) => r.bench === c.target.bench)?.unit;
    push(
      `| #${c.target.issue} | \`${c.target.bench}\` | ${cell(c.target.label)} | ${cell(measuredText(c, unit))} | ${STATUS[c.status]} |`,
    );
  }
  push('');

  push('## Packages', '');
  for (const s of secs) push(`- [${s.info.title}](#${anchor(s.info)})`);
  push('');

  for (const s of secs) {
    push(`## ${s.info.title}`, '');
    if (s.info.issue > 0) {
      const issues = [s.info.issue, ...(s.info.laterIssues ?? [])].map((i) => `#${i}`);
      push(`Targets from issue${issues.length > 1 ? 's' : ''} ${issues.join(', ')}.`, '');
    }
    if (s.results.length === 0) {
      push(
        '_No results in this run_ — the suite printed nothing (a missing tool, or it failed; see the run output).',
        '',
      );
    } else {
      push(
        `![${s.info.title}: ratios against peers and limits, with targets](${chartPath(s.info.slug)})`,
        '',
        '| benchmark | ours | peer | limit | ratio | unit | target | status |',
        '| --- | ---: | --- | --- | ---: | --- | --- | --- |',
      );
      for (const r of s.results) {
        const kind = kindOf(r.bench, targets);
        const theirs = `${formatNumber(r.theirs)} (${cell(r.peer)})`;
        const own = s.checks.filter((c) => c.target.bench === r.bench && c.status !== 'reported');
        const target = own.length ? own.map((c) => cell(c.target.label)).join('; ') : 'no target';
        const status = own.length
          ? own
              .map((c) =>
                c.measured !== undefined && c.target.metric !== 'ratio'
                  ? `${STATUS[c.status]} (${cell(valueText(c, r.unit))})`
                  : STATUS[c.status],
              )
              .join('; ')
          : 'no target';
        push(
          `| \`${r.bench}\` | ${formatNumber(r.ours)} | ${kind === 'peer' ? theirs : ''} | ${kind === 'limit' ? theirs : ''} | ${ratioText(r.ratio)} | ${r.unit} | ${target} | ${status} |`,
        );
      }
      push('');
      const extras = s.results.filter((r) => r.extra && Object.keys(r.extra).length > 0);
      if (extras.length > 0) {
        push('Further figures the benchmarks print:', '');
        for (const r of extras) {
          const parts = Object.entries(r.extra ?? {}).map(
            ([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : cell(String(v))}`,
          );
          push(`- \`${r.bench}\`: ${parts.join(', ')}`);
        }
        push('');
      }
      const notes = s.results.filter((r) => targets.benches[r.bench]?.note);
      for (const r of notes) push(`Note on \`${r.bench}\`: ${targets.benches[r.bench]?.note}`, '');
    }
    const reported = s.checks.filter((c) => c.status === 'reported');
    if (reported.length > 0) {
      push(
        `Asked only to be reported: ${reported
          .map(
            (c) =>
              `${c.target.label.replace(/ reported$/, '')} ${measuredText(c, s.results.find((r) => r.bench === c.target.bench)?.unit)}`,
          )
          .join('; ')}.`,
        '',
      );
    }
    const missing = s.checks.filter((c) => c.status === 'not measured');
    if (missing.length > 0 && s.results.length > 0) {
      push(
        `Not measured in this run: ${missing.map((c) => `\`${c.target.bench}\` (${c.target.label})`).join(', ')}.`,
        '',
      );
    }
    const wordings = [
      ...new Set(s.checks.map((c) => `${c.target.issue}\u0000${c.target.wording}`)),
    ];
    if (wordings.length > 0) {
      push('Where the targets come from:', '');
      for (const w of wordings) {
        const [issue, wording] = w.split('\u0000') as [string, string];
        push(`> Issue #${issue}: “${wording}”`, '>');
      }
      lines.pop();
      push('');
    }
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** GitHub's heading anchor for a package title. */
export function anchor(info: PackageInfo): string {
  return info.title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}
