#!/usr/bin/env node
// `pnpm dev`: builds the packages (and the portal's web app), then runs the whole-system demo
// (the `dev` script of `examples/system`, `src/demo.ts`): relay, counterpart, portal and one agent as real
// processes on localhost with embedded defaults, seeded on the first start and resumed after.
// Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error(
    '\npnpm dev: the build failed (see above). Fix it, or run `pnpm install` first on a fresh clone.',
  );
  process.exit(build.status ?? 1);
}

if (!existsSync(join(root, 'examples', 'system', 'package.json'))) {
  console.error('pnpm dev: examples/system is missing; nothing to start.');
  process.exit(1);
}

// The system's `dev` script is `tsx src/demo.ts`; it runs here as `node --import tsx src/demo.ts`
// in that package, without the pnpm and tsx wrapper processes, so that Ctrl-C ends with the
// demo's own clean exit (0) instead of a "Command failed with signal SIGINT" from the wrappers.
const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo.ts'], {
  cwd: join(root, 'examples', 'system'),
  stdio: 'inherit',
});
// Ctrl-C in a terminal reaches every process of the foreground group already (sending it again
// would make pnpm escalate); only a SIGTERM to this script is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
