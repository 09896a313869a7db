// The summary of `pnpm test` (scripts/test.mjs): which workspace projects turbo was asked to
// test, what each one's vitest JSON report says, and whether the run passed. Pure functions
// over plain data, so scripts/test-summary.test.mjs can check every case without running
// turbo. A project that was expected but wrote no readable report is listed as
// "not run / failed to report" and counts as a failure: a run never passes by omission.

/**
 * The test tasks of a `turbo run test --dry=json` plan, one per workspace project, sorted by
 * directory: `{ name, dir }` with `dir` relative to the repository root.
 */
export function plannedProjects(dryRun) {
  const tasks = Array.isArray(dryRun?.tasks) ? dryRun.tasks : [];
  return tasks
    .filter((t) => t.task === 'test' && typeof t.directory === 'string')
    .map((t) => ({ name: t.package, dir: t.directory }))
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The counts of one project's vitest JSON report, or a reason why it cannot be read. */
export function projectResult(report) {
  if (report === undefined) return { missing: 'not run / failed to report' };
  const counts = ['numPassedTests', 'numFailedTests', 'numFailedTestSuites', 'numPendingTests'];
  if (
    report === null ||
    typeof report !== 'object' ||
    counts.some((k) => !Number.isInteger(report[k]))
  )
    return { missing: 'unreadable report (failed to report)' };
  // A test file that fails to load has no failed test, but it is a failure all the same.
  const failed =
    report.numFailedTests + (report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
  const skippedNames = [];
  const failedNames = [];
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    for (const test of tests) {
      if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo')
        skippedNames.push({ file: file.name, test: test.fullName });
      if (test.status === 'failed')
        failedNames.push({
          file: file.name,
          test: test.fullName,
          why: firstLine(test.failureMessages?.[0]),
        });
    }
    // A file that failed to load (or failed after its tests) has its message on the file.
    if (file.status === 'failed' && !tests.some((t) => t.status === 'failed'))
      failedNames.push({ file: file.name, test: '(the file)', why: firstLine(file.message) });
  }
  return {
    passed: report.numPassedTests,
    failed,
    skipped: report.numPendingTests + (report.numTodoTests ?? 0),
    skippedNames,
    failedNames,
    // vitest says success: false for a run that failed outside any test (an unhandled error).
    failedRun: report.success === false && failed === 0,
  };
}

/**
 * Sums the projects' results. `reportOf(project)` returns the parsed report, `undefined` when
 * there is none, or throws when it cannot be parsed. Returns one row per project (every
 * planned project, in order) and the totals; `failed` counts a project without a report, or
 * whose run failed outside its tests, as one failure.
 */
export function summarize(projects, reportOf) {
  const rows = [];
  const skippedNames = [];
  const failedNames = [];
  const notReported = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const project of projects) {
    let report;
    try {
      report = reportOf(project);
    } catch {
      report = null;
    }
    const result = projectResult(report);
    if (result.missing) {
      failed += 1;
      notReported.push(project.dir);
      rows.push({ dir: project.dir, status: result.missing });
      continue;
    }
    const failedHere = result.failed + (result.failedRun ? 1 : 0);
    passed += result.passed;
    failed += failedHere;
    skipped += result.skipped;
    skippedNames.push(...result.skippedNames);
    failedNames.push(...result.failedNames);
    rows.push({
      dir: project.dir,
      passed: result.passed,
      failed: failedHere,
      skipped: result.skipped,
    });
  }
  return { rows, passed, failed, skipped, skippedNames, failedNames, notReported };
}

/** The first non-empty line of a failure message, cut to 200 characters ('' when none). */
export function firstLine(message) {
  if (typeof message !== 'string') return '';
  const line = message.split('\n').find((l) => l.trim() !== '') ?? '';
  const plain = line.trim();
  return plain.length > 200 ? `${plain.slice(0, 199)}…` : plain;
}

/** One summary line per row: counts, or the reason a project has none. */
export function formatRow(row) {
  const dir = row.dir.padEnd(28);
  if (row.status) return `${dir} ${row.status}`;
  return `${dir} ${String(row.passed).padStart(5)} passed ${String(row.failed).padStart(3)} failed ${String(row.skipped).padStart(3)} skipped`;
}

/**
 * The exit status of the run and the reasons it failed: turbo's own status, a failed test,
 * a project that did not report, the load suite, or (under CI) a skipped test.
 */
export function verdict({ turboStatus, summary, inCI, loadStatus = 0, planned }) {
  const reasons = [];
  if (planned === 0) reasons.push('turbo planned no test task: no test ran.');
  if (summary.notReported.length > 0)
    reasons.push(
      `${summary.notReported.length} project(s) did not report: ${summary.notReported.join(', ')} (see their output above).`,
    );
  if (summary.failed > 0 && summary.notReported.length < summary.failed)
    reasons.push('tests failed (see the rows above).');
  if (turboStatus !== 0) reasons.push(`turbo exited with status ${turboStatus}.`);
  if (loadStatus !== 0) reasons.push(`the load and fault suite exited with status ${loadStatus}.`);
  if (inCI && summary.skipped > 0)
    reasons.push(
      'CI=true: skipped tests are failures here (a missing dependency must be installed by .ci/run).',
    );
  return { status: reasons.length > 0 ? 1 : 0, reasons };
}
