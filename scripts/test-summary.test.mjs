// The summary of `pnpm test` (scripts/test-summary.mjs) accounts for every planned project:
// issue 21 saw a run whose summary listed 9 workspaces of 12 after turbo stopped at the first
// failure. Run: node --test scripts/test-summary.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRow, plannedProjects, projectResult, summarize, verdict } from './test-summary.mjs';

const dryRun = {
  tasks: [
    {
      taskId: '@fluxel/crypto#build',
      task: 'build',
      package: '@fluxel/crypto',
      directory: 'packages/crypto',
    },
    {
      taskId: '@fluxel/crypto#test',
      task: 'test',
      package: '@fluxel/crypto',
      directory: 'packages/crypto',
    },
    {
      taskId: '@fluxel-example/relay#test',
      task: 'test',
      package: '@fluxel-example/relay',
      directory: 'examples/relay',
    },
    {
      taskId: '@fluxel-example/agent#test',
      task: 'test',
      package: '@fluxel-example/agent',
      directory: 'examples/agent',
    },
  ],
};

function report({
  passed = 0,
  failed = 0,
  failedSuites = 0,
  pending = 0,
  success,
  skippedTest,
} = {}) {
  return {
    numPassedTests: passed,
    numFailedTests: failed,
    numFailedTestSuites: failedSuites,
    numPendingTests: pending,
    numTodoTests: 0,
    success: success ?? (failed === 0 && failedSuites === 0),
    testResults: skippedTest
      ? [
          {
            name: skippedTest.file,
            assertionResults: [{ status: 'skipped', fullName: skippedTest.test }],
          },
        ]
      : [],
  };
}

test('the plan lists the test tasks only, one per project, sorted by directory', () => {
  assert.deepEqual(plannedProjects(dryRun), [
    { name: '@fluxel-example/agent', dir: 'examples/agent' },
    { name: '@fluxel-example/relay', dir: 'examples/relay' },
    { name: '@fluxel/crypto', dir: 'packages/crypto' },
  ]);
  assert.deepEqual(plannedProjects({}), []);
});

test('issue 21: a project that failed to report is listed and fails the run', () => {
  // agent's beforeAll timed out and turbo stopped: relay never ran, agent wrote nothing.
  const reports = { 'packages/crypto': report({ passed: 40 }) };
  const summary = summarize(plannedProjects(dryRun), (p) => reports[p.dir]);
  assert.deepEqual(
    summary.rows.map((r) => r.dir),
    ['examples/agent', 'examples/relay', 'packages/crypto'],
  );
  assert.deepEqual(summary.notReported, ['examples/agent', 'examples/relay']);
  assert.equal(summary.failed, 2);
  assert.equal(summary.passed, 40);
  assert.match(formatRow(summary.rows[0]), /^examples\/agent\s+not run \/ failed to report$/);
  const result = verdict({ turboStatus: 0, summary, inCI: false, planned: 3 });
  assert.equal(result.status, 1);
  assert.ok(result.reasons.some((r) => r.includes('examples/agent, examples/relay')));
});

test('an unreadable or malformed report counts as not reported', () => {
  const summary = summarize(plannedProjects(dryRun), (p) => {
    if (p.dir === 'examples/agent') throw new SyntaxError('Unexpected end of JSON input');
    if (p.dir === 'examples/relay') return { numPassedTests: 'many' };
    return report({ passed: 1 });
  });
  assert.deepEqual(summary.notReported, ['examples/agent', 'examples/relay']);
  assert.equal(summary.failed, 2);
  assert.match(formatRow(summary.rows[1]), /unreadable report/);
});

test('every project reporting green passes; the row shows its counts', () => {
  const summary = summarize(plannedProjects(dryRun), () => report({ passed: 3, pending: 0 }));
  assert.equal(summary.passed, 9);
  assert.equal(summary.failed, 0);
  assert.equal(
    formatRow(summary.rows[2]),
    'packages/crypto                  3 passed   0 failed   0 skipped',
  );
  assert.deepEqual(verdict({ turboStatus: 0, summary, inCI: true, planned: 3 }), {
    status: 0,
    reasons: [],
  });
});

test('failed tests, a file that failed to load, and a run that failed outside its tests', () => {
  assert.equal(projectResult(report({ passed: 2, failed: 3, failedSuites: 1 })).failed, 3);
  assert.equal(projectResult(report({ passed: 2, failedSuites: 1 })).failed, 1);
  const crashed = summarize([{ dir: 'x' }], () => report({ passed: 2, success: false }));
  assert.equal(crashed.failed, 1);
  assert.equal(verdict({ turboStatus: 0, summary: crashed, inCI: false, planned: 1 }).status, 1);
});

test('a non-zero turbo status fails the run even when every report is green', () => {
  const summary = summarize([{ dir: 'x' }], () => report({ passed: 1 }));
  const result = verdict({ turboStatus: 1, summary, inCI: false, planned: 1 });
  assert.equal(result.status, 1);
  assert.deepEqual(result.reasons, ['turbo exited with status 1.']);
});

test('the load suite status fails the run', () => {
  const summary = summarize([{ dir: 'x' }], () => report({ passed: 1 }));
  assert.equal(
    verdict({ turboStatus: 0, summary, inCI: false, loadStatus: 2, planned: 1 }).status,
    1,
  );
});

test('skipped tests fail only under CI, and are named', () => {
  const summary = summarize([{ dir: 'x' }], () =>
    report({
      passed: 1,
      pending: 1,
      skippedTest: { file: '/r/x/test/a.test.ts', test: 'needs chromium' },
    }),
  );
  assert.deepEqual(summary.skippedNames, [{ file: '/r/x/test/a.test.ts', test: 'needs chromium' }]);
  assert.equal(verdict({ turboStatus: 0, summary, inCI: false, planned: 1 }).status, 0);
  assert.equal(verdict({ turboStatus: 0, summary, inCI: true, planned: 1 }).status, 1);
});

test('a plan with no test task fails: no test ran', () => {
  const summary = summarize([], () => undefined);
  assert.equal(verdict({ turboStatus: 0, summary, inCI: false, planned: 0 }).status, 1);
});

test('failed tests are named with the first line of their message (the CI log keeps only the tail)', () => {
  const summary = summarize([{ dir: 'x' }], () => ({
    numPassedTests: 1,
    numFailedTests: 1,
    numFailedTestSuites: 1,
    numPendingTests: 0,
    success: false,
    testResults: [
      {
        name: '/r/x/test/a.test.ts',
        status: 'failed',
        assertionResults: [
          { status: 'passed', fullName: 'fine' },
          {
            status: 'failed',
            fullName: 'status > relay operational',
            failureMessages: [
              "\nAssertionError: expected 'degraded' to be 'operational'\n    at x",
            ],
          },
        ],
      },
      {
        name: '/r/x/test/b.test.ts',
        status: 'failed',
        message: 'Cannot find module y',
        assertionResults: [],
      },
    ],
  }));
  assert.deepEqual(summary.failedNames, [
    {
      file: '/r/x/test/a.test.ts',
      test: 'status > relay operational',
      why: "AssertionError: expected 'degraded' to be 'operational'",
    },
    { file: '/r/x/test/b.test.ts', test: '(the file)', why: 'Cannot find module y' },
  ]);
});
