#!/usr/bin/env node
// Packaging gates for the package in the current folder, run on exactly what would be
// published: the tarball scripts/stage.mjs builds (pnpm pack, repository-only manifest fields
// removed, npm pack), unpacked.
//  0. the published-manifest gate  (no `scripts`, no devDependencies, no private workspace
//     package or `workspace:` range, every sourceMappingURL's map shipped with its sources'
//     text, every `files` entry present, bins shipped, README links inside the tarball)
//  1. publint --strict            (exports, files, types as npm users will get them)
//  2. @arethetypeswrong/cli       (ESM-only profile: types resolve under node16 and bundler)
//  3. bundle rules                 no `node:` import reachable from an entry point outside the
//     package's `node` subpaths (the core runs on the Web platform), plus the package's own
//     `fluxel.forbidImports` rules: { "<subpath>": ["<specifier or ./src path>", …] }.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { publishedProblems, stagePackage } from './stage.mjs';

const root = resolve(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'fluxel-pack-check-'));
const staged = stagePackage(process.cwd(), out);
const dir = staged.unpacked;
const pkg = staged.manifest;
const failures = [];

// 0. the published manifest and files
for (const problem of publishedProblems(staged)) failures.push(`published: ${problem}`);

// 1. publint, on the unpacked tarball (every file in it is published)
const { messages } = await publint({ pkgDir: dir, strict: true, pack: false });
for (const message of messages) {
  failures.push(`publint: ${formatMessage(message, pkg) ?? message.code}`);
}

// 2. are the types wrong
// Data files exported as they are (e.g. a .proto) have no types to check.
const dataEntries = Object.entries(pkg.exports)
  .filter(([s, t]) => s !== './package.json' && typeof t === 'string' && !t.endsWith('.js'))
  .map(([s]) => s);
const attwArgs = [staged.tarball, '--profile', 'esm-only', '--format', 'ascii'];
if (dataEntries.length > 0) attwArgs.push('--exclude-entrypoints', ...dataEntries);
try {
  execFileSync(join(root, 'node_modules/.bin/attw'), attwArgs, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
} catch (error) {
  failures.push(`attw:\n${error.stdout?.toString() ?? ''}${error.stderr?.toString() ?? ''}`);
}

// 3. bundle rules, on the built files: follow static imports from each entry point.
// The rules are repository settings: read from the workspace manifest (staging removes them).
const source = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'));
const rules = source.fluxel?.forbidImports ?? {};
for (const subpath of Object.keys(rules)) {
  if (!(subpath in pkg.exports))
    failures.push(`bundle: fluxel.forbidImports names ${subpath}, which is not an export`);
}
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === './package.json') continue;
  if (typeof target === 'string' && !target.endsWith('.js')) continue; // data file, e.g. .proto
  const file = typeof target === 'string' ? target : target.default;
  const reached = reachableImports(join(dir, file));
  const isNodeSubpath = subpath === './node' || subpath.startsWith('./node/');
  for (const [specifier, from] of reached.external) {
    if (!isNodeSubpath && isNodeBuiltin(specifier)) {
      failures.push(
        `bundle: ${pkg.name}${subpath.slice(1)} reaches ${specifier} (in ${from}); Node-only code belongs in a node subpath`,
      );
    }
  }
  for (const forbidden of rules[subpath] ?? []) {
    const hit =
      [...reached.external.keys()].find((s) => s === forbidden || s.startsWith(`${forbidden}/`)) ??
      [...reached.sources].find((s) => s.includes(forbidden.replace(/^\.\//, '')));
    if (hit)
      failures.push(
        `bundle: ${pkg.name}${subpath.slice(1)} must not pull in ${forbidden} (found ${hit})`,
      );
  }
}

function isNodeBuiltin(specifier) {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);
}

function reachableImports(entry) {
  const external = new Map();
  const sources = new Set();
  const seen = new Set();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    const map = `${file}.map`;
    if (existsSync(map))
      for (const s of JSON.parse(readFileSync(map, 'utf8')).sources ?? []) sources.add(s);
    for (const match of code.matchAll(
      // eslint-disable-next-line security/detect-unsafe-regex -- runs over our own build output, not untrusted input
      /(?:^|[;\s])(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]/g,
    )) {
      const specifier = match[1];
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (!external.has(specifier)) external.set(specifier, file.slice(dir.length + 1));
    }
  }
  return { external, sources };
}

rmSync(out, { recursive: true, force: true });
if (failures.length > 0) {
  console.error(
    `${pkg.name}: packaging gates failed\n${failures.map((f) => `  - ${f}`).join('\n')}`,
  );
  process.exitCode = 1;
} else {
  console.log(
    `${pkg.name}: the published manifest and files, publint --strict, attw (esm-only) and bundle rules pass (${staged.files.length} files)`,
  );
}
