#!/usr/bin/env node
// `pnpm dev`: builds the packages (and the portal's web app), then runs the whole-system demo
// (the `dev` script of `examples/system`, `src/demo.ts`): relay, counterpart, portal and one agent
// as real processes on localhost with embedded defaults, seeded on the first start and resumed
// after. `pnpm dev --no-build` skips the build (the packages must be built).
//
// Stopping (issue 21): pnpm runs this script as `exec node scripts/dev.mjs` (root package.json),
// so pnpm's SIGINT and SIGTERM reach this process itself, not a shell that would swallow them.
// SIGINT, SIGTERM and SIGHUP — to pnpm, to this script, or from a terminal's Ctrl-C to the whole
// foreground group — are passed on to the running step (the build or the demo), which stops its
// own children and exits; this script then exits with its code, SIGKILLing it if it takes longer
// than STOP_BOUND_MS. pnpm dies of SIGHUP without passing it on, and nothing is passed on when
// pnpm is SIGKILLed, so this script also watches its parent and stops when it is gone. In turn
// the demo holds a lifeline to this script (`examples/system/src/lifeline.ts`): if this script
// is killed, the demo stops by itself.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const build = !process.argv.slice(2).includes('--no-build');
/** The demo stops four processes, each within 10 s; past this bound it is killed. */
const STOP_BOUND_MS = 60_000;

/** @type {import('node:child_process').ChildProcess | undefined} */
let step;
/** @type {NodeJS.Signals | undefined} */
let stopping;

function stop(/** @type {NodeJS.Signals} */ signal) {
  // Passed on every time: the demo stops once however many arrive; a second signal to a build
  // is harmless.
  stopping ??= signal;
  if (!step || step.exitCode !== null || step.signalCode !== null) return;
  step.kill(signal);
  const current = step;
  setTimeout(() => current.kill('SIGKILL'), STOP_BOUND_MS).unref();
}
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP']))
  process.on(signal, () => stop(signal));

// The parent pid as the kernel sees it now (Node's `process.ppid` is read once at start): it
// changes when the parent dies and this process is handed to a reaper.
const parent = process.ppid;
function parentGone() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent;
  } catch {
    try {
      process.kill(parent, 0);
      return false;
    } catch (error) {
      return /** @type {NodeJS.ErrnoException} */ (error).code === 'ESRCH';
    }
  }
}
const watch = setInterval(() => {
  if (parentGone()) {
    clearInterval(watch);
    // Nobody reads the output any more; a write error must not end this process before the
    // demo has stopped.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    stop('SIGTERM');
  }
}, 250);
watch.unref();

/** Runs one step with this script's stdio; resolves with its exit code (signal → 128 + n). */
function run(/** @type {string} */ command, /** @type {string[]} */ args, options) {
  return new Promise((done) => {
    step = spawn(command, args, { stdio: 'inherit', ...options });
    step.on('error', (error) => {
      console.error(`pnpm dev: cannot start ${command}: ${error.message}`);
      done(1);
    });
    step.on('exit', (code, signal) => done(code ?? 128 + (signal ? osSignal(signal) : 0)));
  });
}
function osSignal(/** @type {NodeJS.Signals} */ signal) {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal] ?? 0;
}

if (build) {
  const code = await run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
    cwd: root,
  });
  if (stopping) process.exit(0);
  if (code !== 0) {
    console.error(
      '\npnpm dev: the build failed (see above). Fix it, or run `pnpm install` first on a fresh clone.',
    );
    process.exit(code);
  }
}

if (!existsSync(join(root, 'examples', 'system', 'package.json'))) {
  console.error('pnpm dev: examples/system is missing; nothing to start.');
  process.exit(1);
}
if (stopping) process.exit(0);

// The system's `dev` script is `tsx src/demo.ts`; it runs here as `node --import tsx src/demo.ts`
// in that package, without the pnpm and tsx wrapper processes, so that Ctrl-C ends with the
// demo's own clean exit (0) instead of a "Command failed with signal SIGINT" from the wrappers.
// The fourth stdio entry is the demo's lifeline (FLUXEL_LIFELINE_FD, see lifeline.ts).
const code = await run(process.execPath, ['--import', 'tsx', 'src/demo.ts'], {
  cwd: join(root, 'examples', 'system'),
  stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
  env: { ...process.env, FLUXEL_LIFELINE_FD: '3' },
});
process.exit(code);
