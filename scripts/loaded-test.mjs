#!/usr/bin/env node
// `pnpm test:loaded`: the README's test command on a fresh clone of the repository while the
// machine is busy (issue 21: "passes on any fresh machine, busy or not"). Each run clones the
// committed HEAD into an empty temporary folder (nothing beside it, no turbo cache, no
// node_modules), starts N CPU-bound burner processes, runs the command the README prints
// under "run all tests" there, stops the burners by their pids, and reports the duration and
// the result. It stops at the first failing run and keeps that clone for a look.
//
//   node scripts/loaded-test.mjs [--runs 3] [--burners 2] [--command "…"] [--keep] [--verbose]
//
// Each run takes ~30–40 minutes on two loaded cores: wrap it in `flock /tmp/fluxel-heavy.lock`
// on a shared machine. Uncommitted changes are not tested (a clone has only commits).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');

/** The shell command the README gives under "run all tests" (the fenced block after it). */
export function readmeTestCommand(readme) {
  const match = /run all tests:\s*```sh\n([^\n]+)\n```/i.exec(readme);
  if (!match)
    throw new Error('README.md has no "run all tests" command block (a ```sh fence after it)');
  return match[1].trim();
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      burners: { type: 'string', default: '2' },
      command: { type: 'string' },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const burners = Number(values.burners);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(burners) || burners < 0) {
    console.error('--runs must be an integer ≥ 1 and --burners an integer ≥ 0');
    return 2;
  }
  const command =
    values.command ?? readmeTestCommand(readFileSync(join(root, 'README.md'), 'utf8'));
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  if (dirty.stdout.trim())
    console.warn(
      'loaded-test: the working tree has uncommitted changes; a clone tests the commit only',
    );
  console.log(
    `loaded-test: ${runs} run(s) of \`${command}\` on fresh clones of ${head.stdout.trim()} beside ${burners} CPU-bound process(es)`,
  );

  const results = [];
  for (let run = 1; run <= runs; run++) {
    const result = await runOnce(run, { command, burners, verbose: values.verbose });
    results.push(result);
    console.log(
      `loaded-test run ${run}/${runs}: ${result.ok ? 'passed' : `FAILED (exit ${result.status})`} in ${(result.seconds / 60).toFixed(1)} min; ${result.summary ?? 'no summary line'}`,
    );
    if (result.ok && !values.keep) rmSync(result.dir, { recursive: true, force: true });
    else console.log(`  clone and log kept in ${result.dir} (log: ${result.log})`);
    if (!result.ok) break;
  }
  mkdirSync(join(root, '.reports'), { recursive: true });
  const report = { command, commit: head.stdout.trim(), burners, runs, results };
  writeFileSync(join(root, '.reports', 'loaded-test.json'), `${JSON.stringify(report, null, 2)}\n`);
  const passed = results.filter((r) => r.ok).length;
  console.log(
    `loaded-test: ${passed} of ${runs} run(s) passed in a row (report: .reports/loaded-test.json)`,
  );
  return passed === runs ? 0 : 1;
}

/** One fresh clone, the burners, the command; the burners are stopped by pid whatever happens. */
async function runOnce(run, { command, burners, verbose }) {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-loaded-'));
  const clone = join(dir, 'fluxel-sdk');
  const log = `${dir}.log`; // beside the folder, so nothing but the clone is in it
  const cloned = spawnSync('git', ['clone', '--quiet', '--no-local', root, clone], {
    stdio: 'inherit',
  });
  if (cloned.status !== 0)
    return {
      run,
      ok: false,
      status: cloned.status,
      seconds: 0,
      dir,
      log,
      summary: 'git clone failed',
    };
  const pids = startBurners(burners);
  const burnerPids = [...pids];
  const started = Date.now();
  let child;
  const interrupted = (signal) => {
    stopBurners(pids);
    // The command runs in its own process group: end all of it, then ourselves.
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let status;
  try {
    // The whole output goes to the log (and to the terminal with --verbose).
    child = spawn(
      'bash',
      ['-o', 'pipefail', '-c', `(${command}) 2>&1 | tee ${JSON.stringify(log)}`],
      {
        cwd: clone,
        stdio: ['ignore', verbose ? 'inherit' : 'ignore', 'inherit'],
        detached: true,
      },
    );
    status = await new Promise((done) => child.on('close', (code, signal) => done(code ?? signal)));
  } finally {
    stopBurners(pids);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  let output = '';
  try {
    output = readFileSync(log, 'utf8');
  } catch {}
  const summary = /^\d+ passed, \d+ failed, \d+ skipped$/m.exec(output)?.[0];
  return { run, ok: status === 0, status, seconds, dir, log, summary, burnerPids };
}

function startBurners(count) {
  const pids = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    child.unref();
    pids.push(child.pid);
  }
  return pids;
}

function stopBurners(pids) {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(await main());
