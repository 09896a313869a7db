/**
 * `pnpm bench` (through scripts/bench.mjs): runs `turbo run bench` — every workspace's bench
 * script, one task at a time so benchmarks do not compete with each other for the CPU — with
 * its output passed through, collects the result lines (see ../harness.ts) and writes
 *   docs/benchmarks.md            the report: machine, date, targets met or not, per package
 *   docs/benchmarks/<slug>.svg    one chart per package
 *   docs/benchmarks/results.json  what the report was made from
 *
 * Options:
 *   --quick             short run (FLUXEL_BENCH_QUICK=1: fewer samples and rounds)
 *   --from <file>       no run: re-render the report from a saved results.json
 *   --out <dir>         write the report somewhere else than docs/ (tests, trials)
 * Exits with turbo's exit code, after writing the report with what was collected.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { machineNow, sampleLoad } from './machine.ts';
import { chartOf, type ReportData, renderMarkdown, sections } from './markdown.ts';
import { asResult, asTargets, type Found, parseResultLines, type Targets } from './model.ts';
import { renderChart } from './svg.ts';

const root = resolve(import.meta.dirname, '../../..');
const targetsFile = join(root, 'benchmarks', 'targets.json');

interface Options {
  quick: boolean;
  from?: string;
  out: string;
}

export function parseArgs(argv: readonly string[]): Options {
  const options: Options = { quick: false, out: join(root, 'docs') };
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--from' && args[i + 1]) options.from = resolve(args[++i] as string);
    else if (arg === '--out' && args[i + 1]) options.out = resolve(args[++i] as string);
    else
      throw new Error(
        `unknown option ${arg} (options: --quick, --from <results.json>, --out <dir>)`,
      );
  }
  return options;
}

/** Runs turbo, passing its output through, and returns the result lines it printed. */
async function runTurbo(
  quick: boolean,
): Promise<{ found: Found[]; exitCode: number; command: string }> {
  const args = ['run', 'bench', '--concurrency=1', '--env-mode=loose'];
  const env = { ...process.env };
  if (quick) {
    env.FLUXEL_BENCH_QUICK = '1';
    env.AGENT_BENCH_MESSAGES ??= '300';
    env.PORTAL_BENCH_ROUNDS ??= '15';
  }
  const command = `turbo ${args.join(' ')}${quick ? ' (FLUXEL_BENCH_QUICK=1)' : ''}`;
  process.stderr.write(`# pnpm bench: ${command}\n`);
  const child = spawn(join(root, 'node_modules', '.bin', 'turbo'), args, {
    cwd: root,
    env,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  let text = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    process.stdout.write(chunk);
    text += chunk;
  });
  const exitCode = await new Promise<number>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (signal) fail(new Error(`turbo was stopped by ${signal}; the report is left as it was`));
      else done(code ?? 1);
    });
  });
  return { found: parseResultLines(text), exitCode, command: `pnpm bench → ${command}` };
}

/** Writes the report and the charts into `out` (docs/), returns the files written. */
export function writeReport(data: ReportData, targets: Targets, out: string): string[] {
  const chartDir = join(out, 'benchmarks');
  mkdirSync(chartDir, { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string) => {
    writeFileSync(file, text);
    written.push(file);
  };
  write(join(chartDir, 'results.json'), `${JSON.stringify(data, null, 2)}\n`);
  for (const section of sections(data, targets)) {
    const file = join(chartDir, `${section.info.slug}.svg`);
    if (section.results.length === 0) rmSync(file, { force: true });
    else write(file, renderChart(chartOf(section, targets)));
  }
  write(join(out, 'benchmarks.md'), renderMarkdown(data, targets));
  return written;
}

/**
 * Formats the saved results the way the repository's formatter does, so `pnpm format` leaves the
 * committed file alone. Only inside the repository (elsewhere Biome has no configuration).
 */
function formatJson(files: readonly string[]): void {
  const inside = files.filter((f) => !relative(root, f).startsWith('..'));
  if (inside.length === 0) return;
  const biome = spawnSync(
    join(root, 'node_modules', '.bin', 'biome'),
    ['format', '--write', ...inside],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (biome.status !== 0)
    process.stderr.write(
      `# pnpm bench: biome format failed on ${inside.join(', ')}: ${biome.stderr}\n`,
    );
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const targets = asTargets(JSON.parse(readFileSync(targetsFile, 'utf8')));
  let data: ReportData;
  let exitCode = 0;
  if (options.from) {
    const saved = JSON.parse(readFileSync(options.from, 'utf8')) as ReportData;
    data = { ...saved, results: saved.results.map((f) => ({ ...f, result: asResult(f.result) })) };
  } else {
    const started = new Date();
    const machine = machineNow();
    const stopSampling = sampleLoad();
    const t0 = performance.now();
    const run = await runTurbo(options.quick);
    const seconds = (performance.now() - t0) / 1000;
    const loadDuring = stopSampling();
    exitCode = run.exitCode;
    data = {
      machine: { ...machine, loadEnd: os.loadavg(), ...(loadDuring ? { loadDuring } : {}) },
      run: {
        started: started.toISOString(),
        seconds: Math.round(seconds),
        quick: options.quick,
        command: run.command,
        exitCode,
      },
      results: run.found,
    };
  }
  const files = writeReport(data, targets, options.out);
  formatJson(files.filter((f) => f.endsWith('.json')));
  const checks = sections(data, targets).flatMap((s) => s.checks);
  const met = checks.filter((c) => c.status === 'met').length;
  const notMet = checks.filter((c) => c.status === 'not met').length;
  const missing = checks.filter((c) => c.status === 'not measured').length;
  process.stderr.write(
    `\n# pnpm bench: ${data.results.length} results in ${data.run.seconds} s; targets: ${met} met, ${notMet} not met, ${missing} not measured\n`,
  );
  for (const f of files) process.stderr.write(`#   wrote ${relative(root, f)}\n`);
  return exitCode;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
