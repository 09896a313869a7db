#!/usr/bin/env node
// `pnpm test`: every workspace project's tests through turbo (cached per package), then one
// summary over the vitest JSON reports, ending in the line "N passed, N failed, N skipped".
// Under CI=true a skipped test fails the run: nothing is skipped silently there.
// Extra arguments go to turbo, e.g. `pnpm test --filter=@fluxel/crypto`. A full run (no
// filter) ends with the bounded load and fault suite (`pnpm test:load`); FLUXEL_LOAD=0 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const projects = ['packages', 'examples']
  .flatMap((group) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group)).map((d) => join(root, group, d))
      : [],
  )
  .concat(join(root, 'benchmarks'))
  .filter((dir) => existsSync(join(dir, 'package.json')));
const reportOf = (dir) => join(dir, '.reports', 'vitest.json');
for (const dir of projects) rmSync(reportOf(dir), { force: true });

// The Node major is part of every test task's hash (turbo.json), so a run on another Node
// line is never served from the cache, and a test checks it really runs on this line.
const nodeMajor = process.versions.node.split('.')[0];
// Two cores: several projects' suites at once (each with its own servers, browsers and
// workers) starve each other into timeouts; three at a time keeps the run short and steady.
const args = process.argv.slice(2);
const concurrency = args.some((a) => a.startsWith('--concurrency')) ? [] : ['--concurrency=3'];
const turbo = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', ...concurrency, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FLUXEL_NODE_MAJOR: nodeMajor },
});

let passed = 0;
let failed = 0;
let skipped = 0;
const skippedNames = [];
const rows = [];
for (const dir of projects) {
  if (!existsSync(reportOf(dir))) continue;
  const report = JSON.parse(readFileSync(reportOf(dir), 'utf8'));
  passed += report.numPassedTests;
  // A test file that fails to load has no failed test, but it is a failure all the same.
  const failedHere =
    report.numFailedTests + (report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
  failed += failedHere;
  const skip = report.numPendingTests + report.numTodoTests;
  skipped += skip;
  rows.push(
    `${relative(root, dir).padEnd(28)} ${String(report.numPassedTests).padStart(5)} passed ${String(failedHere).padStart(3)} failed ${String(skip).padStart(3)} skipped`,
  );
  for (const file of report.testResults) {
    for (const test of file.assertionResults) {
      if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') {
        skippedNames.push(`${relative(root, file.name)} > ${test.fullName}`);
      }
    }
  }
}

// The bounded load and fault suite (examples/system/load) runs after the suites, on a full
// run only (`pnpm test` without a filter): it needs the built packages, the machine's
// PostgreSQL, redis-server, libfaketime and root (a tmpfs), and takes ~6 minutes
// (FLUXEL_LOAD_SECONDS, default 180 s of load at 200 records/s).
let loadStatus = 0;
const fullRun = !args.some((a) => a.startsWith('--filter') || a.startsWith('-F'));
const loadReport = join(root, 'examples', 'system', '.reports', 'load.json');
if (
  fullRun &&
  (turbo.status ?? 1) === 0 &&
  !/^(0|false|no)$/i.test(process.env.FLUXEL_LOAD ?? '')
) {
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
  const bad = checks.length - ok;
  if (skippedLoad) {
    skipped += 1;
    skippedNames.push(
      'examples/system/load (PostgreSQL, redis-server, libfaketime or root missing)',
    );
  } else {
    passed += ok;
    failed += bad + (loadStatus !== 0 && bad === 0 ? 1 : 0);
  }
  rows.push(
    `${'examples/system (load)'.padEnd(28)} ${String(skippedLoad ? 0 : ok).padStart(5)} passed ${String(skippedLoad ? 0 : bad + (loadStatus !== 0 && bad === 0 ? 1 : 0)).padStart(3)} failed ${String(skippedLoad ? 1 : 0).padStart(3)} skipped`,
  );
}

console.log(`\nTest summary (node ${process.version})\n${rows.join('\n')}`);
if (skippedNames.length > 0)
  console.log(`Skipped:\n${skippedNames.map((n) => `  - ${n}`).join('\n')}`);
let status = turbo.status ?? 1;
if (loadStatus !== 0) status = 1;
if (inCI && skipped > 0) {
  console.error(
    'CI=true: skipped tests are failures here (a missing dependency must be installed by .ci/run).',
  );
  status = 1;
}
if (rows.length === 0) {
  console.error('No test reports were written: no test ran.');
  status = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status);
