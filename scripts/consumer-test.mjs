#!/usr/bin/env node
// Consumer test: what an npm user gets. Packs every published package with `pnpm pack`,
// installs the tarballs with npm into a throwaway project outside the workspace, imports
// every public subpath from plain Node ESM, and type-checks a consumer file with tsc
// (module and moduleResolution node16 and bundler).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

const files = {};
for (const { dir, pkg } of packages) {
  const out = run('pnpm', ['pack', '--pack-destination', tarballs], dir).trim().split('\n').pop();
  files[pkg.name] = `file:${out.startsWith('/') ? out : join(tarballs, out)}`;
}

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
  const mod = readFileSync(
    join(root, 'packages', pkg.name.slice('@fluxel/'.length), 'src/errors.ts'),
    'utf8',
  );
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

if (keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(`consumer test passed for ${packages.length} packages`);
