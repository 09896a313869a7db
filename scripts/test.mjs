#!/usr/bin/env node
// `pnpm test`: every workspace project's tests through turbo (cached per package), then one
// summary over the vitest JSON reports, ending in the line "N passed, N failed, N skipped".
// turbo runs with --continue: one project's failure never stops the others. The summary lists
// every project turbo planned a test task for (`turbo run test --dry=json`); one that wrote no
// report is listed as "not run / failed to report" and fails the run. Under CI=true a skipped
// test fails the run: nothing is skipped silently there. The summary logic is
// scripts/test-summary.mjs (tested by scripts/test-summary.test.mjs).
// Extra arguments go to turbo, e.g. `pnpm test --filter=@fluxel/crypto`. A full run (no
// filter) ends with the bounded load and fault suite (`pnpm test:load`); FLUXEL_LOAD=0 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { firstLine, formatRow, plannedProjects, summarize, verdict } from './test-summary.mjs';

const root = resolve(import.meta.dirname, '..');
const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const args = process.argv.slice(2);
// The Node major is part of every test task's hash (turbo.json), so a run on another Node
// line is never served from the cache, and a test checks it really runs on this line.
const env = { ...process.env, FLUXEL_NODE_MAJOR: process.versions.node.split('.')[0] };

// The plan first: the projects the summary must account for, whatever happens to them.
const dry = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--dry=json', ...args], {
  cwd: root,
  env,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
let projects;
try {
  if (dry.status !== 0) throw new Error(`exit status ${dry.status}`);
  projects = plannedProjects(JSON.parse(dry.stdout));
} catch (error) {
  process.stderr.write(dry.stderr ?? '');
  console.error(
    `pnpm test: turbo could not plan the run (turbo run test --dry=json ${args.join(' ')}: ${error.message}); check the arguments.`,
  );
  process.exit(1);
}
const reportOf = (project) => join(root, project.dir, '.reports', 'vitest.json');
for (const project of projects) rmSync(reportOf(project), { force: true });

// Two cores: several projects' suites at once (each with its own servers, browsers and
// workers) starve each other into timeouts; three at a time keeps the run short and steady.
const concurrency = args.some((a) => a.startsWith('--concurrency')) ? [] : ['--concurrency=3'];
const keepGoing = args.some((a) => a.startsWith('--continue')) ? [] : ['--continue'];
const turbo = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'test', ...keepGoing, ...concurrency, ...args],
  { cwd: root, stdio: 'inherit', env },
);

const summary = summarize(projects, (project) => {
  const file = reportOf(project);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
});

// The bounded load and fault suite (examples/system/load) runs after the suites, on a full
// run only (`pnpm test` without a filter), whatever the suites did: it needs the built
// packages and the machine's PostgreSQL and Redis, and takes ~2.5 minutes
// (FLUXEL_LOAD_SECONDS, default 120 s of load).
let loadStatus = 0;
const fullRun = !args.some((a) => a.startsWith('--filter') || a.startsWith('-F'));
const loadReport = join(root, 'examples', 'system', '.reports', 'load.json');
if (fullRun && !/^(0|false|no)$/i.test(process.env.FLUXEL_LOAD ?? '')) {
  rmSync(loadReport, { force: true });
  console.log('\nLoad and fault suite (pnpm test:load; FLUXEL_LOAD=0 leaves it out)');
  const load = spawnSync('pnpm', ['--filter', '@fluxel-example/system', 'test:load'], {
    cwd: root,
    stdio: 'inherit',
  });
  loadStatus = load.status ?? 1;
  let checks = [];
  let skippedLoad = false;
  try {
    const report = JSON.parse(readFileSync(loadReport, 'utf8'));
    checks = report.checks ?? [];
    skippedLoad = report.skipped === true;
  } catch {}
  const ok = checks.filter((c) => c.ok).length;
  const bad = checks.length - ok + (loadStatus !== 0 && checks.every((c) => c.ok) ? 1 : 0);
  if (skippedLoad) {
    summary.skipped += 1;
    summary.skippedNames.push({
      file: 'examples/system/load',
      test: 'PostgreSQL, redis-server, libfaketime or root missing',
    });
  } else {
    summary.passed += ok;
    summary.failed += bad;
    for (const c of checks.filter((c) => !c.ok))
      summary.failedNames.push({
        file: 'examples/system/load',
        test: c.name,
        why: firstLine(String(c.detail ?? '')),
      });
  }
  summary.rows.push({
    dir: 'examples/system (load)',
    passed: skippedLoad ? 0 : ok,
    failed: skippedLoad ? 0 : bad,
    skipped: skippedLoad ? 1 : 0,
  });
}

console.log(
  `\nTest summary (node ${process.version}, ${projects.length} projects)\n${summary.rows.map(formatRow).join('\n')}`,
);
/** One listed test: its file (relative to the root), the test, and why when known. */
const listed = (s, why = '') =>
  `  - ${s.file.startsWith('/') ? relative(root, s.file) : s.file} > ${s.test}${why ? `: ${why}` : ''}`;
// The CI log keeps only its tail: what failed is named here, after the table.
if (summary.failedNames.length > 0)
  console.log(`Failed:\n${summary.failedNames.map((s) => listed(s, s.why)).join('\n')}`);
if (summary.skippedNames.length > 0)
  console.log(`Skipped:\n${summary.skippedNames.map((s) => listed(s)).join('\n')}`);
const { status, reasons } = verdict({
  turboStatus: turbo.status ?? 1,
  summary,
  inCI,
  loadStatus,
  planned: projects.length,
});
for (const reason of reasons) console.error(`FAILED: ${reason}`);
console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
process.exit(status);
