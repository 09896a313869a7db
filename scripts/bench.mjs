#!/usr/bin/env node
// `pnpm bench`: runs every workspace's benchmarks (`turbo run bench`, one task at a time, output
// passed through), then writes the report docs/benchmarks.md and one SVG chart per package into
// docs/benchmarks/. The work is in benchmarks/src/report/main.ts (TypeScript, run with the
// benchmarks package's tsx).
//   pnpm bench                 full run (the figures in the committed report)
//   pnpm bench -- --quick      short run, for trying the pipeline (the report says so)
//   node scripts/bench.mjs --from docs/benchmarks/results.json   re-render without running
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const benchmarks = join(root, 'benchmarks');
// Paths given by the user are relative to where they ran the command.
const args = process.argv.slice(2).map((arg, i, all) => {
  const previous = all[i - 1];
  return previous === '--from' || previous === '--out' ? resolve(arg) : arg;
});
const child = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(benchmarks, 'src', 'report', 'main.ts'), ...args],
  { cwd: benchmarks, stdio: 'inherit' },
);
if (child.error) {
  console.error(`pnpm bench: ${child.error.message}`);
  process.exit(1);
}
process.exit(child.status ?? 1);
