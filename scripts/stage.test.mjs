// The published-manifest gate (scripts/stage.mjs) refuses what issue 20 found in the tarballs,
// and the staged tarball of a real package passes it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { markdownLinks, publishedProblems, root, stagePackage } from './stage.mjs';

function fakePackage(manifest, files) {
  const unpacked = mkdtempSync(join(tmpdir(), 'fluxel-stage-test-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(unpacked, path, '..'), { recursive: true });
    writeFileSync(join(unpacked, path), text);
  }
  writeFileSync(join(unpacked, 'package.json'), JSON.stringify(manifest));
  return { manifest, unpacked, files: [...Object.keys(files), 'package.json'].sort() };
}

const good = {
  name: '@fluxel/x',
  version: '1.0.0',
  type: 'module',
  exports: { '.': './dist/index.js' },
  bin: { x: './dist/cli.js' },
  files: ['dist', 'README.md', 'CHANGELOG.md'],
  dependencies: { zod: '^4.0.0' },
};
const goodFiles = {
  'dist/index.js': 'export {};\n//# sourceMappingURL=index.js.map\n',
  'dist/index.js.map': JSON.stringify({ sources: ['../src/index.ts'], sourcesContent: ['x'] }),
  'dist/cli.js': '#!/usr/bin/env node\n',
  'README.md': '[api](./dist/index.js) [repo](https://github.com/fluxel/fluxel-sdk) [top](#x)\n',
  'CHANGELOG.md': '# @fluxel/x\n',
};

test('a clean package passes the gate', () => {
  const staged = fakePackage(good, goodFiles);
  assert.deepEqual(publishedProblems(staged, new Set(['@fluxel/internal'])), []);
  rmSync(staged.unpacked, { recursive: true });
});

test('published manifest with scripts, a private devDependency and workspace ranges fails', () => {
  const staged = fakePackage(
    {
      ...good,
      scripts: { build: 'tsup' },
      devDependencies: { '@fluxel/internal': 'workspace:*' },
      dependencies: { '@fluxel/license': 'workspace:^' },
      fluxel: { forbidImports: {} },
    },
    goodFiles,
  );
  const problems = publishedProblems(staged, new Set(['@fluxel/internal']));
  assert.ok(problems.some((p) => p.includes('"scripts" is repository-only')));
  assert.ok(problems.some((p) => p.includes('"devDependencies" is repository-only')));
  assert.ok(problems.some((p) => p.includes('"fluxel" is repository-only')));
  assert.ok(problems.some((p) => p.includes('names @fluxel/internal, a private workspace')));
  assert.ok(problems.some((p) => p.includes('dependencies.@fluxel/license is "workspace:^"')));
  rmSync(staged.unpacked, { recursive: true });
});

test('sourceMappingURL without its shipped map, or a map without its sources text, fails', () => {
  const { 'dist/index.js.map': _map, ...noMap } = goodFiles;
  const missing = fakePackage(good, noMap);
  assert.deepEqual(publishedProblems(missing, new Set()), [
    'sourcemap: dist/index.js points at dist/index.js.map, which is not in the tarball',
  ]);
  const bare = fakePackage(good, {
    ...goodFiles,
    'dist/index.js.map': JSON.stringify({ sources: ['../src/index.ts'] }),
  });
  assert.deepEqual(publishedProblems(bare, new Set()), [
    'sourcemap: dist/index.js.map lacks the text of ../src/index.ts (not shipped)',
  ]);
  rmSync(missing.unpacked, { recursive: true });
  rmSync(bare.unpacked, { recursive: true });
});

test('CHANGELOG.md listed in files but absent fails', () => {
  const { 'CHANGELOG.md': _c, ...noChangelog } = goodFiles;
  const staged = fakePackage(good, noChangelog);
  assert.deepEqual(publishedProblems(staged, new Set()), [
    'files: "CHANGELOG.md" is listed but not in the tarball (does it exist?)',
  ]);
  rmSync(staged.unpacked, { recursive: true });
});

test('README links outside the tarball fail; links into it, absolute and anchors pass', () => {
  const staged = fakePackage(good, {
    ...goodFiles,
    'README.md':
      'see [0009](../../docs/decisions/0009.md) and [v1](./vectors/v1.json)\n' +
      '[ref]: /docs/x.md\n<img src="docs/chart.svg">\n```md\n[in code](../ignored.md)\n```\n',
  });
  assert.deepEqual(publishedProblems(staged, new Set()), [
    'readme: link ../../docs/decisions/0009.md leaves the package; point it at the repository',
    'readme: link ./vectors/v1.json is not in the tarball; point it at the repository',
    'readme: link /docs/x.md leaves the package; point it at the repository',
    'readme: link docs/chart.svg is not in the tarball; point it at the repository',
  ]);
  rmSync(staged.unpacked, { recursive: true });
});

test('markdownLinks finds links that span lines', () => {
  assert.deepEqual(markdownLinks('a [long\nlink text](x.md "t") b'), ['x.md']);
});

test('published tarballs before the staging step fail the gate; the staged one passes', () => {
  const dir = join(root, 'packages/crypto');
  const out = mkdtempSync(join(tmpdir(), 'fluxel-stage-test-'));
  // What `pnpm publish` would have sent: pnpm pack, manifest as it is.
  const packed = execFileSync('pnpm', ['pack', '--pack-destination', out], {
    cwd: dir,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['-xzf', packed, '-C', out]);
  const unpacked = join(out, 'package');
  const list = (d, base = '') =>
    readdirSync(join(unpacked, d), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? list(join(d, e.name), `${base}${e.name}/`) : [`${base}${e.name}`],
    );
  const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
  const plain = publishedProblems({ manifest, unpacked, files: list('') });
  assert.ok(plain.some((p) => p.includes('"scripts" is repository-only')));
  assert.ok(plain.some((p) => p.includes('names @fluxel/internal')));
  // The staged tarball of the same package passes.
  const staged = stagePackage(dir, join(out, 'staged'));
  assert.deepEqual(publishedProblems(staged), []);
  assert.equal(staged.manifest.scripts, undefined);
  assert.equal(staged.manifest.devDependencies, undefined);
  rmSync(out, { recursive: true });
});
