#!/usr/bin/env node
// Consumer test: what an npm user gets. Stages every published package exactly as it is
// published (scripts/stage.mjs: the tarballs scripts/publish.mjs sends, gated), installs the
// tarballs with npm into a throwaway project outside the workspace, imports every public
// subpath from plain Node ESM, runs every CLI's --help and --version, and type-checks a
// consumer file with tsc (module and moduleResolution node16 and bundler). Then two more
// projects, already on zod 4.x and on zod 3, install the tarballs: they must end with one zod
// (4.x) and one @noble/hashes, resp. their zod 3 plus exactly one nested zod 4 of ours.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { stageAll } from './stage.mjs';

const root = resolve(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'fluxel-consumer-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);

const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

const packages = readdirSync(join(root, 'packages'))
  .map((name) => ({
    dir: join(root, 'packages', name),
    pkg: JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')),
  }))
  .filter(({ pkg }) => !pkg.private);

const staged = stageAll(tarballs);
const files = Object.fromEntries(staged.map((s) => [s.name, `file:${s.tarball}`]));

// Peer dependencies (optional ones too: the consumer imports every entry point) at the
// versions the package is tested with.
const peers = {};
for (const { pkg } of packages) {
  for (const name of Object.keys(pkg.peerDependencies ?? {})) {
    if (name.startsWith('@fluxel/')) continue;
    peers[name] = pkg.devDependencies?.[name] ?? pkg.peerDependencies[name];
  }
}

// Workspace dependencies between our packages resolve to the tarballs too (overrides), so
// nothing is fetched that is not published yet.
const typescript = JSON.parse(
  readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8'),
).version;
writeFileSync(
  join(app, 'package.json'),
  JSON.stringify(
    {
      name: 'consumer',
      private: true,
      type: 'module',
      dependencies: { ...peers, ...files },
      overrides: files,
      devDependencies: { typescript, '@types/node': '^20.19.0' },
    },
    null,
    2,
  ),
);
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);

// Plain Node ESM: every subpath loads and its error class works.
const imports = [];
const checks = [];
for (const { pkg } of packages) {
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`;
    if (typeof target === 'string' && !target.endsWith('.js')) {
      // A data file (e.g. a .proto): it must resolve to a file that was packed.
      checks.push(`dataFile('${specifier}');`);
      continue;
    }
    const id = `m${imports.length}`;
    imports.push(`import * as ${id} from '${specifier}';`);
    checks.push(`check('${specifier}', ${id});`);
  }
}
writeFileSync(
  join(app, 'smoke.mjs'),
  `${imports.join('\n')}
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
let count = 0;
function dataFile(specifier) {
  const file = fileURLToPath(import.meta.resolve(specifier));
  if (!existsSync(file)) throw new Error(specifier + ' resolves to a missing file');
  count++;
}
function check(specifier, mod) {
  const names = Object.keys(mod);
  if (names.length === 0) throw new Error(specifier + ' exports nothing');
  const errorClass = names.map((n) => mod[n]).find((v) => typeof v === 'function' && typeof v.isInstance === 'function');
  if (errorClass) {
    const codes = Object.values(mod).find((v) => Array.isArray(v) && v.every((c) => typeof c === 'string' && c.startsWith('ERR_')));
    const error = new errorClass(codes?.[0] ?? 'ERR_TEST', 'consumer test');
    if (!errorClass.isInstance(error) || !mod.isFluxelError?.(error)) throw new Error(specifier + ': error guards fail');
  }
  count++;
}
${checks.join('\n')}
console.log('imported ' + count + ' entry points from plain Node ESM');
`,
);
process.stdout.write(run('node', ['smoke.mjs'], app));

// TypeScript consumer, strict, under both module resolutions users have.
const tsLines = [];
for (const { pkg } of packages) {
  // The package's errors entry, or the module it re-exports (license: src/lib/errors.ts).
  const src = join(root, 'packages', pkg.name.slice('@fluxel/'.length), 'src');
  let mod = readFileSync(join(src, 'errors.ts'), 'utf8');
  const reexported = /export class \w+ extends FluxelError/.test(mod)
    ? undefined
    : /from '\.\/([\w/-]+)\.js'/.exec(mod)?.[1];
  if (reexported) mod = readFileSync(join(src, `${reexported}.ts`), 'utf8');
  const cls = /export class (\w+) extends FluxelError/.exec(mod)?.[1];
  const codes = /export const (\w+_ERROR_CODES)/.exec(mod)?.[1];
  const alias = cls.replace(/Error$/, '');
  tsLines.push(`import { ${cls} as ${alias}Error, ${codes} as ${alias}Codes } from '${pkg.name}';`);
  tsLines.push(
    `{ const e: unknown = new ${alias}Error(${alias}Codes[0], 'x'); if (${alias}Error.isInstance(e)) { const code: (typeof ${alias}Codes)[number] = e.code; void code; } }`,
  );
  tsLines.push(
    `// @ts-expect-error: codes are a closed union\nnew ${alias}Error('ERR_NOT_A_CODE', 'x');`,
  );
}
writeFileSync(join(app, 'consumer.ts'), `${tsLines.join('\n')}\nexport {};\n`);
for (const [module, moduleResolution] of [
  ['node16', 'node16'],
  ['esnext', 'bundler'],
]) {
  run(
    join(app, 'node_modules/.bin/tsc'),
    [
      '--noEmit',
      '--strict',
      '--exactOptionalPropertyTypes',
      '--module',
      module,
      '--moduleResolution',
      moduleResolution,
      '--target',
      'es2022',
      '--types',
      'node',
      'consumer.ts',
    ],
    app,
  );
  console.log(`tsc (${moduleResolution}) type-checks the consumer`);
}

// Every CLI of the installed packages answers --help and --version (exit 0, on stdout).
for (const { manifest } of staged) {
  for (const bin of Object.keys(manifest.bin ?? {})) {
    const cli = join(app, 'node_modules/.bin', bin);
    const help = run(cli, ['--help'], app);
    if (!/usage/i.test(help)) throw new Error(`${bin} --help prints no usage:\n${help}`);
    const version = run(cli, ['--version'], app).trim();
    if (version !== `${bin} ${manifest.version}`)
      throw new Error(`${bin} --version prints "${version}", not "${bin} ${manifest.version}"`);
    console.log(`${bin} answers --help and --version (${version})`);
  }
}

// Dependencies: a project already on zod 4.x / @noble/hashes 2.x gets no second copy; a
// project on zod 3 gets exactly one zod 4 of ours (issue 20).
function installed(dir, name, top = dir, found = []) {
  const modules = join(dir, 'node_modules');
  let entries;
  try {
    entries = readdirSync(modules, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const names = entry.name.startsWith('@')
      ? readdirSync(join(modules, entry.name)).map((n) => `${entry.name}/${n}`)
      : [entry.name];
    for (const n of names) {
      const pkgDir = join(modules, n);
      if (n === name) {
        const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
        found.push({ path: relative(top, pkgDir), version });
      }
      installed(pkgDir, name, top, found);
    }
  }
  return found;
}
function consumer(name, dependencies) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, private: true, type: 'module', dependencies, overrides: files }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  const copies = (n) => installed(dir, n);
  return { dir, copies };
}
const describe = (copies) => copies.map((c) => `${c.path}@${c.version}`).join(', ') || 'none';
const dedupeFailures = [];
{
  const { copies } = consumer('on-zod-4', { zod: '^4', '@noble/hashes': '^2', ...files });
  for (const name of ['zod', '@noble/hashes']) {
    const found = copies(name);
    if (found.length !== 1)
      dedupeFailures.push(
        `a project on ${name} ${name === 'zod' ? '4' : '2'}.x: ${describe(found)}`,
      );
    else console.log(`a project on ${name}@${found[0].version} keeps one ${name}`);
  }
}
{
  const { copies } = consumer('on-zod-3', { zod: '^3', ...files });
  const found = copies('zod');
  const ours = found.filter((c) => c.path !== 'node_modules/zod');
  // npm cannot share one nested copy between sibling packages: under a zod 3 top level each of
  // our packages that needs zod 4 gets its own. So exactly one of ours may depend on zod (the
  // relay contract, shared with the server, is zod); a second zod user fails here.
  const zodUsers = packages.filter(({ pkg }) => pkg.dependencies?.zod).map(({ pkg }) => pkg.name);
  const top = found.find((c) => c.path === 'node_modules/zod');
  if (ours.length !== 1 || !ours[0].version.startsWith('4.') || !top?.version.startsWith('3.'))
    dedupeFailures.push(
      `a project on zod 3 must get its zod 3 and exactly one zod 4 of ours (zod users: ${zodUsers.join(', ') || 'none'}): ${describe(found)}`,
    );
  else
    console.log(
      `a project on zod 3 keeps its zod@${top.version} and gets one zod of ours (${zodUsers.join(', ')}): ${describe(ours)}`,
    );
  const noble = copies('@noble/hashes');
  if (noble.length !== 1) dedupeFailures.push(`@noble/hashes: ${describe(noble)}`);
}
if (dedupeFailures.length > 0) {
  if (keep) console.log(`kept ${work}`);
  throw new Error(`duplicate dependencies:\n  - ${dedupeFailures.join('\n  - ')}`);
}

if (keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(`consumer test passed for ${packages.length} packages`);
