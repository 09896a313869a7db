#!/usr/bin/env node
// What is published, built once: every public package is packed with `pnpm pack` (which
// resolves `workspace:` ranges and applies `files`), unpacked, its manifest cleaned of what
// only the repository uses (`scripts`, `devDependencies`, the `fluxel` gate settings), and
// packed again with `npm pack`. That second tarball is what `scripts/publish.mjs` publishes
// and what `scripts/pack-check.mjs` and `scripts/consumer-test.mjs` test, byte for byte.
// See docs/decisions/0014-published-tarballs.md.
//
//   node scripts/stage.mjs [--out <dir>]   stages every public package (default: .release/)
//
// `publishedProblems()` is the gate on a staged package; staging fails when it finds any.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..');

/** Manifest fields only the repository uses; the staged manifest has none of them. */
const REPO_ONLY_FIELDS = ['scripts', 'devDependencies', 'fluxel'];

/** Manifest fields a published package may carry; anything else fails the gate. */
const PUBLISHED_FIELDS = new Set([
  'name',
  'version',
  'description',
  'keywords',
  'license',
  'author',
  'contributors',
  'funding',
  'homepage',
  'bugs',
  'repository',
  'type',
  'sideEffects',
  'engines',
  'exports',
  'imports',
  'main',
  'module',
  'types',
  'typesVersions',
  'bin',
  'files',
  'publishConfig',
  'dependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'optionalDependencies',
]);
const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies',
];

const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** Every workspace package: { dir, pkg }. */
export function workspacePackages() {
  const globs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
    .split('\n\n')[0]
    .split('\n')
    .map((line) => /^\s+-\s+(\S+)/.exec(line)?.[1])
    .filter(Boolean);
  const dirs = globs.flatMap((glob) =>
    glob.endsWith('/*')
      ? readdirSync(join(root, glob.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => join(root, glob.slice(0, -2), d.name))
      : [join(root, glob)],
  );
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));
}

/** The packages that are published (packages/* without `private`). */
export function publicPackages() {
  return workspacePackages().filter(
    ({ dir, pkg }) => !pkg.private && relative(root, dir).startsWith('packages'),
  );
}

function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name), base)
      : [relative(base, join(dir, entry.name)).split('\\').join('/')],
  );
}

/**
 * Stages the package in `dir` into `out`: returns the tarball to publish, the unpacked
 * package (`unpacked`, what `npm install` puts into node_modules), its manifest and files.
 */
export function stagePackage(dir, out) {
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(out, '.stage-'));
  try {
    const packed = run('pnpm', ['pack', '--pack-destination', work], dir).trim().split('\n').pop();
    const unpacked = join(work, 'package');
    run('tar', ['-xzf', packed.startsWith('/') ? packed : join(work, packed), '-C', work], dir);
    const pnpmFiles = listFiles(unpacked).sort();
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
    for (const field of REPO_ONLY_FIELDS) delete manifest[field];
    writeFileSync(join(unpacked, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const [result] = JSON.parse(
      run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], unpacked),
    );
    const files = result.files.map((f) => f.path).sort();
    if (files.join('\n') !== pnpmFiles.join('\n')) {
      throw new Error(
        `${manifest.name}: npm pack of the cleaned manifest packs other files than pnpm pack\n` +
          `  pnpm: ${pnpmFiles.join(', ')}\n  npm:  ${files.join(', ')}`,
      );
    }
    const staged = join(out, manifest.name.replace(/^@/, '').replace('/', '-'));
    rmSync(staged, { recursive: true, force: true });
    run('mv', [unpacked, staged], out);
    return {
      name: manifest.name,
      version: manifest.version,
      dir,
      tarball: join(out, result.filename),
      integrity: result.integrity,
      unpacked: staged,
      manifest,
      files,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const hasGlob = (pattern) => /[*?[\]{}!]/.test(pattern);

/**
 * The gate on a staged package: what a user would get that only makes sense inside this
 * repository, or points at something the tarball does not contain. Returns messages.
 */
export function publishedProblems(staged, privateNames = privatePackageNames()) {
  const { manifest, files, unpacked } = staged;
  const has = new Set(files);
  const problems = [];
  for (const field of Object.keys(manifest)) {
    if (!PUBLISHED_FIELDS.has(field))
      problems.push(`manifest: "${field}" is repository-only; the published manifest has none`);
  }
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (privateNames.has(name))
        problems.push(`manifest: ${field} names ${name}, a private workspace package`);
      if (/^(workspace|link|file|portal):/.test(String(range)))
        problems.push(`manifest: ${field}.${name} is "${range}", not a registry range`);
    }
  }
  // Every plain `files` entry is in the tarball (a listed CHANGELOG.md exists).
  for (const entry of manifest.files ?? []) {
    if (hasGlob(entry)) continue;
    const path = entry.replace(/^\.\//, '').replace(/\/$/, '');
    if (!has.has(path) && !files.some((f) => f.startsWith(`${path}/`)))
      problems.push(`files: "${entry}" is listed but not in the tarball (does it exist?)`);
  }
  // Every source map a built file names is shipped, and carries its sources' text.
  for (const file of files) {
    if (!/\.(c|m)?js$/.test(file)) continue;
    const code = readFileSync(join(unpacked, file), 'utf8');
    for (const url of new Set(
      [...code.matchAll(/^\/\/# sourceMappingURL=(\S+)\s*$/gm)].map((m) => m[1]),
    )) {
      if (url.startsWith('data:')) continue;
      const map = posix.join(posix.dirname(file), url);
      if (!has.has(map)) {
        problems.push(`sourcemap: ${file} points at ${map}, which is not in the tarball`);
        continue;
      }
      const { sources = [], sourcesContent = [] } = JSON.parse(
        readFileSync(join(unpacked, map), 'utf8'),
      );
      sources.forEach((source, i) => {
        if (typeof sourcesContent[i] !== 'string')
          problems.push(`sourcemap: ${map} lacks the text of ${source} (not shipped)`);
      });
    }
  }
  // Every bin is shipped and runs as a script.
  const bins =
    typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [name, target] of Object.entries(bins)) {
    const path = target.replace(/^\.\//, '');
    if (!has.has(path)) problems.push(`bin: ${name} -> ${target} is not in the tarball`);
    else if (!readFileSync(join(unpacked, path), 'utf8').startsWith('#!'))
      problems.push(`bin: ${target} has no #! line`);
  }
  // README links: relative ones resolve inside the tarball; anything else is absolute.
  for (const readme of files.filter((f) => /^readme(\.md)?$/i.test(f))) {
    for (const link of markdownLinks(readFileSync(join(unpacked, readme), 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('#')) continue;
      const target = posix.normalize(link.replace(/[#?].*$/, '')).replace(/\/$/, '');
      if (target.startsWith('..') || target.startsWith('/'))
        problems.push(`readme: link ${link} leaves the package; point it at the repository`);
      else if (!has.has(target) && !files.some((f) => f.startsWith(`${target}/`)))
        problems.push(`readme: link ${link} is not in the tarball; point it at the repository`);
    }
  }
  return problems;
}

/** The link targets of a Markdown document: inline, reference definitions, HTML href/src. */
export function markdownLinks(markdown) {
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, ''); // code blocks
  const links = [];
  // eslint-disable-next-line security/detect-unsafe-regex -- runs over our own READMEs, not untrusted input
  for (const m of text.matchAll(/\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push(m[1]);
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) links.push(m[1]);
  for (const m of text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)) links.push(m[1]);
  return links;
}

/** Names of the workspace packages that are never published. */
export function privatePackageNames() {
  return new Set(
    workspacePackages()
      .filter(({ pkg }) => pkg.private)
      .map(({ pkg }) => pkg.name),
  );
}

/** Stages every public package into `out`; throws with every problem the gate finds. */
export function stageAll(out) {
  const privateNames = privatePackageNames();
  const staged = publicPackages().map(({ dir }) => stagePackage(dir, out));
  const problems = staged.flatMap((s) =>
    publishedProblems(s, privateNames).map((p) => `${s.name}: ${p}`),
  );
  if (problems.length > 0)
    throw new Error(`the staged packages are not publishable:\n  - ${problems.join('\n  - ')}`);
  return staged;
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const at = process.argv.indexOf('--out');
  const out = resolve(at > 0 ? process.argv[at + 1] : join(root, '.release'));
  if (existsSync(out) && statSync(out).isDirectory()) rmSync(out, { recursive: true });
  try {
    for (const s of stageAll(out)) {
      console.log(
        `${s.name}@${s.version}: ${relative(process.cwd(), s.tarball)} (${s.files.length} files)`,
      );
    }
  } catch (error) {
    console.error(error.message);
    process.exitCode = 1;
  }
}
