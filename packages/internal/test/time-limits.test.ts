/**
 * Issue 21: `beforeAll(() => startHarness(), 60_000)` timed out on a busy machine and the run
 * failed although waiting longer was harmless. The time limits of tests and hooks live in one
 * place (vitest.shared.ts, bounds against a hang); no test file sets a shorter one of its own.
 * The check reads every workspace project's test files with the TypeScript parser.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { READY_BOUND_MS, repoRoot } from '../src/testing.ts';

const HOOKS = new Set(['beforeAll', 'beforeEach', 'afterAll', 'afterEach']);
const TESTS = new Set(['it', 'test', 'describe']);

/** The identifier a call chain starts from: `it` for `it.skipIf(x)(…)` or `test.each(t)(…)`. */
function rootName(node: ts.Expression): string | undefined {
  if (ts.isIdentifier(node)) return node.text;
  if (ts.isPropertyAccessExpression(node)) return rootName(node.expression);
  if (ts.isCallExpression(node)) return rootName(node.expression);
  return undefined;
}

function hasTimeoutProperty(node: ts.Expression): boolean {
  return (
    ts.isObjectLiteralExpression(node) &&
    node.properties.some(
      (p) => p.name !== undefined && ts.isIdentifier(p.name) && /timeout/i.test(p.name.text),
    )
  );
}

/** Every place in `text` that gives a test or hook its own time limit, as "line: code". */
export function ownTimeLimits(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const report = (node: ts.Node) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    found.push(`${line}: ${node.getText().split('\n')[0]}`);
  };
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const name = rootName(node.expression);
      const last = node.arguments.at(-1);
      const limitArg =
        last !== undefined && (ts.isNumericLiteral(last) || hasTimeoutProperty(last));
      if (name && HOOKS.has(name) && node.arguments.length >= 2 && limitArg) report(node);
      if (name && TESTS.has(name) && node.arguments.length >= 3 && limitArg) report(node);
      // vi.setConfig({ testTimeout }) and a project config of its own.
      if (
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === 'setConfig' &&
        node.arguments.some(hasTimeoutProperty)
      )
        report(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function testFiles(): string[] {
  const files: string[] = [];
  const projects = ['packages', 'examples']
    .flatMap((group) => readdirSync(join(repoRoot, group)).map((d) => join(repoRoot, group, d)))
    .concat(join(repoRoot, 'benchmarks'));
  for (const project of projects) {
    const config = join(project, 'vitest.config.ts');
    if (existsSync(config)) files.push(config);
    const dir = join(project, 'test');
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { recursive: true })) {
      const path = String(entry);
      if (/\.tsx?$/.test(path)) files.push(join(dir, path));
    }
  }
  return files;
}

describe('issue 21: no test file sets its own (shorter) time limit', () => {
  it('the workspace limits are bounds against a hang, above the readiness bound', async () => {
    const { TEST_BOUND_MS, HOOK_BOUND_MS } = await import('../../../vitest.shared.ts');
    expect(HOOK_BOUND_MS).toBeGreaterThan(READY_BOUND_MS);
    expect(TEST_BOUND_MS).toBeGreaterThan(READY_BOUND_MS);
  });

  it('the check sees each way of setting one', () => {
    const text = [
      'beforeAll(async () => { await start(); }, 60_000);',
      "it('x', async () => {}, 120_000);",
      "it.skipIf(a)('y', () => {}, { timeout: 5 });",
      'vi.setConfig({ testTimeout: 60_000 });',
      "it('fine', () => {});",
      'beforeAll(async () => {});',
      'setTimeout(() => {}, 30_000);',
    ].join('\n');
    expect(ownTimeLimits('x.test.ts', text).map((f) => f.split(':')[0])).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('no test, hook or project config of any workspace project sets one', () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((file) =>
      ownTimeLimits(file, readFileSync(file, 'utf8')).map(
        (f) => `${relative(repoRoot, file)}:${f}`,
      ),
    );
    expect(found).toEqual([]);
  });
});
