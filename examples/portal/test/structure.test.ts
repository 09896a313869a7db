/**
 * The portal's structure, checked (issue 19): SQL only in `store.ts` modules of the features,
 * and no response type asserted by hand in the web app (`api.get<T>(path)`); pages call routes
 * of a feature's contract through the typed client instead. Files not yet moved are listed
 * below; the lists only shrink.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

/** Files that still hold SQL outside a store (being moved into src/features/<f>/store.ts). */
const SQL_NOT_YET_MOVED: readonly string[] = [];

/** Web files that still assert response types (being moved to the typed client). */
const ASSERTED_NOT_YET_MOVED: readonly string[] = [];

/** Where SQL belongs: a feature's store, and the migration runner. */
const isSqlHome = (file: string) => file.endsWith('/store.ts') || file === 'src/server/db.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => `${dir}/${f}`)
    .sort();
}

function parsed(file: string): ts.SourceFile {
  return ts.createSourceFile(
    file,
    readFileSync(join(root, file), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
}

/** SQL as the portal writes it: keywords in capitals (so 'Select a license' is not SQL). */
const SQL =
  /^\s*(?:SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s*\()/;

/** `file:line what` for every SQL text and every `.query(` call in a file. */
function sqlIn(file: string): string[] {
  const source = parsed(file);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) =>
    found.push(
      `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1} ${what}`,
    );
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (SQL.test(node.text)) at(node, node.text.slice(0, 40));
    } else if (ts.isTemplateExpression(node)) {
      if (SQL.test(node.head.text)) at(node, node.head.text.slice(0, 40));
    } else if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'query' &&
      node.arguments.length > 0
    ) {
      at(node, node.getText(source).slice(0, 40));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `file:line what` for every call with a response type written by hand: `api.get<T>(…)`. */
function assertedIn(file: string): string[] {
  const source = parsed(file);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      node.typeArguments &&
      node.typeArguments.length > 0 &&
      ((ts.isPropertyAccessExpression(node.expression) &&
        ts.isIdentifier(node.expression.expression) &&
        node.expression.expression.text === 'api') ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'request'))
    ) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${file}:${line + 1} ${node.getText(source).slice(0, 50)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('portal structure', () => {
  it('SQL is written only in store.ts modules', () => {
    const offenders = sourceFiles('src')
      .filter((f) => !isSqlHome(f) && !SQL_NOT_YET_MOVED.includes(f))
      .flatMap(sqlIn);
    expect(offenders).toEqual([]);
  });

  it('the web app asserts no response type: pages call contract routes through the typed client', () => {
    const offenders = sourceFiles('web/src')
      .filter((f) => f !== 'web/src/api.ts' && !ASSERTED_NOT_YET_MOVED.includes(f))
      .flatMap(assertedIn);
    expect(offenders).toEqual([]);
  });

  it('the lists of files not yet moved hold only files that still need it', () => {
    const stale = [
      ...SQL_NOT_YET_MOVED.filter((f) => sqlIn(f).length === 0),
      ...ASSERTED_NOT_YET_MOVED.filter((f) => assertedIn(f).length === 0),
    ];
    expect(stale).toEqual([]);
  });

  it('the detectors find what they look for', () => {
    expect(SQL.test('SELECT id FROM portal_users')).toBe(true);
    expect(SQL.test('  UPDATE portal_users SET x = 1')).toBe(true);
    expect(SQL.test('DELETE FROM portal_sessions WHERE id = $1')).toBe(true);
    expect(SQL.test('Select a license')).toBe(false);
    expect(SQL.test('Update the profile')).toBe(false);
  });
});
