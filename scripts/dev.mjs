#!/usr/bin/env node
// `pnpm dev`: builds the packages, then starts every example app (examples/*) that has a
// `dev` script, together, on localhost, with embedded defaults. Ctrl-C stops them all.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const examplesDir = join(root, 'examples');
const apps = (existsSync(examplesDir) ? readdirSync(examplesDir) : [])
  .map((name) => join(examplesDir, name, 'package.json'))
  .filter((file) => existsSync(file))
  .map((file) => JSON.parse(readFileSync(file, 'utf8')))
  .filter((pkg) => pkg.scripts?.dev);

const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

if (apps.length === 0) {
  const packages = readdirSync(join(root, 'packages'))
    .map((name) => JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')))
    .filter((pkg) => !pkg.private)
    .map((pkg) => pkg.name);
  console.log(
    [
      '',
      'Fluxel SDK: packages built:',
      ...packages.map((name) => `  - ${name}`),
      '',
      'No example app exists yet, so there is nothing to start. The relay, counterpart,',
      'agent and portal examples will start here, on localhost, once they land in examples/.',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const filters = apps.map((pkg) => `--filter=${pkg.name}`);
const child = spawn('pnpm', ['exec', 'turbo', 'run', 'dev', ...filters, '--ui=stream'], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
