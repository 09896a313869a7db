/**
 * The packaging gates CI relies on (scripts/api-report.mjs, scripts/pack-check.mjs) must
 * fail when they should. Each case builds a tiny package by hand in a temporary folder
 * inside the repository (so the scripts' own dependencies resolve) and runs the script.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/testing.ts';

const scratch = join(repoRoot, 'packages/internal/.reports');
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakePackage(files: Record<string, string>, pkg: Record<string, unknown> = {}): string {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'gate-'));
  made.push(dir);
  const manifest = {
    name: '@fluxel/gate-demo',
    version: '1.0.0',
    license: 'MIT',
    type: 'module',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist'],
    ...pkg,
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function runScript(script: string, cwd: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', script), ...args], {
    cwd,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('api-report gate', () => {
  it('passes when the report matches, fails when an export is added, and names the fix', () => {
    const dir = fakePackage({
      'dist/index.js': 'export function a() {}\n',
      'dist/index.d.ts': '/** Does a. */\nexport declare function a(): void;\n',
    });
    expect(runScript('api-report.mjs', dir, '--local').status).toBe(0);
    expect(readFileSync(join(dir, 'etc/gate-demo.api.md'), 'utf8')).toContain('function a(): void');
    expect(runScript('api-report.mjs', dir).status).toBe(0);

    writeFileSync(
      join(dir, 'dist/index.d.ts'),
      '/** Does a. */\nexport declare function a(): void;\n/** B. */\nexport declare const b: number;\n',
    );
    const drift = runScript('api-report.mjs', dir);
    expect(drift.status).toBe(1);
    expect(drift.output).toContain('the public API differs from etc/gate-demo.api.md');
  });

  it('fails on a report for a subpath that is no longer exported', () => {
    const dir = fakePackage({
      'dist/index.js': 'export function a() {}\n',
      'dist/index.d.ts': '/** Does a. */\nexport declare function a(): void;\n',
      'etc/gate-demo-gone.api.md': 'stale\n',
    });
    expect(runScript('api-report.mjs', dir, '--local').status).toBe(0);
    writeFileSync(join(dir, 'etc/gate-demo-gone.api.md'), 'stale\n');
    const stale = runScript('api-report.mjs', dir);
    expect(stale.status).toBe(1);
    expect(stale.output).toContain(
      'etc/gate-demo-gone.api.md reports a subpath that is not exported',
    );
  });
});

describe('pack-check gate', () => {
  const clean = {
    'dist/index.js': "export { helper } from './chunk.js';\n",
    'dist/index.d.ts': 'export declare function helper(): number;\n',
    'dist/chunk.js': 'export function helper() { return 1; }\n',
    'dist/node.js': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    'dist/node.d.ts': "export declare const read: typeof import('node:fs').readFileSync;\n",
  };
  const exportsWithNode = {
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './node': { types: './dist/node.d.ts', default: './dist/node.js' },
      './package.json': './package.json',
    },
  };

  it('passes a clean package whose node: imports stay in the node subpath', () => {
    const dir = fakePackage(clean, exportsWithNode);
    const result = runScript('pack-check.mjs', dir);
    expect(result.output).not.toContain('bundle:');
    expect(result.status).toBe(0);
  });

  it('fails when the core reaches a node: module through a chunk, naming module and file', () => {
    const dir = fakePackage(
      {
        ...clean,
        'dist/chunk.js': "import 'node:crypto';\nexport function helper() { return 1; }\n",
      },
      exportsWithNode,
    );
    const result = runScript('pack-check.mjs', dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain('@fluxel/gate-demo reaches node:crypto (in dist/chunk.js)');
  });

  it('treats an unprefixed Node builtin like a node: one', () => {
    const dir = fakePackage(
      {
        ...clean,
        'dist/chunk.js':
          "import { createHash } from 'crypto';\nexport const helper = createHash;\n",
      },
      exportsWithNode,
    );
    const result = runScript('pack-check.mjs', dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain('reaches crypto');
  });

  it('enforces a package forbidImports rule', () => {
    const dir = fakePackage(
      {
        ...clean,
        'dist/chunk.js': "import 'jose/sign';\nexport function helper() { return 1; }\n",
      },
      { ...exportsWithNode, fluxel: { forbidImports: { '.': ['jose/sign'] } } },
    );
    const result = runScript('pack-check.mjs', dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain('must not pull in jose/sign');
  });

  it('fails publint when an exported file is missing', () => {
    const { 'dist/index.d.ts': _dropped, ...rest } = clean;
    const dir = fakePackage(rest, exportsWithNode);
    const result = runScript('pack-check.mjs', dir);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/publint: .*types.*does not exist/);
  });
});
