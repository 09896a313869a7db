/**
 * `pnpm bench`: runs every suite in src/suites/ (`*.bench.ts`) in its own Node process, one
 * after the other, so one suite's JIT and heap do not colour the next. Suites print result
 * lines (see harness.ts) on stdout; those pass through unchanged, everything else a suite
 * prints goes to stderr. `pnpm bench crypto` runs the suites whose file name contains "crypto".
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, 'suites');
const filters = process.argv.slice(2);
const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (suites.length === 0) {
  console.error(
    filters.length > 0 ? `no suite matches ${filters.join(', ')}` : 'no benchmark suites yet',
  );
  process.exit(filters.length > 0 ? 1 : 0);
}

let failed = 0;
for (const suite of suites) {
  console.error(`# ${suite}`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, suite)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const line of child.stdout.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('{"bench":')) process.stdout.write(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  }
  if (child.status !== 0) {
    failed++;
    console.error(`# ${suite} failed (exit ${child.status ?? child.signal})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
