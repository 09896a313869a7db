/**
 * The TSDoc `@example` blocks of a package's public exports, found with the TypeScript
 * compiler from the entry points its `package.json` exports (`"."` → `src/index.ts`,
 * `"./x"` → `src/x.ts`, as tsup builds them), and a runner that executes each block as
 * printed — the same promise as the README quickstarts (`runReadmeQuickstart`), for the API
 * reference typedoc renders. Test-only; never bundled into a package.
 *
 * An example is a fenced ```ts (or ```js) block after `@example`. Package imports in it
 * (`@fluxel/x`, `@fluxel/x/node`) resolve to the package's source through the vitest
 * aliases (vitest.shared.ts).
 */

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** One `@example` code block of one export. */
export interface DocExample {
  /** The export's name as an entry point exports it (its first entry, in `exports` order). */
  readonly name: string;
  /** The package subpath, `.` or `./node`. */
  readonly entry: string;
  /** The example's code (the fenced block's content). */
  readonly code: string;
  /** Its language: `ts` or `js`. */
  readonly lang: string;
  /** Its position among the examples of the same declaration (0, 1, …). */
  readonly index: number;
  /** Where the documented declaration is, relative to the package: `src/x.ts:12`. */
  readonly where: string;
}

/** What {@link docExamples} found. */
export interface DocExampleScan {
  /** Every example, once per declaration even when several entry points export it. */
  readonly examples: readonly DocExample[];
  /** `subpath: name` of every export without an `@example` holding a ts/js code block. */
  readonly missing: readonly string[];
  /** How many (entry point, export) pairs were checked. */
  readonly exports: number;
}

const FENCE = /^```(ts|js|typescript|javascript)\b[^\n]*\n([\s\S]*?)^```\s*$/gm;

/** The code blocks of one `@example` tag's text. */
export function exampleBlocks(text: string): { lang: string; code: string }[] {
  const blocks: { lang: string; code: string }[] = [];
  for (const match of text.matchAll(FENCE)) {
    const lang = match[1]?.startsWith('j') ? 'js' : 'ts';
    blocks.push({ lang, code: match[2] ?? '' });
  }
  return blocks;
}

/**
 * The `@example` sections of a declaration's doc comments, as written (the `*` margins
 * removed). Read from the comment's text rather than from the compiler's tags, which end a
 * tag at any `@word` — also inside a code block (`from '@fluxel/x'` in a code comment).
 */
function exampleTexts(declaration: ts.Declaration): string[] {
  const texts: string[] = [];
  for (const doc of ts.getJSDocCommentsAndTags(declaration)) {
    if (!ts.isJSDoc(doc)) continue;
    const lines = doc
      .getSourceFile()
      .text.slice(doc.pos, doc.end)
      .replace(/^\/\*\*/, '')
      .replace(/\*\/$/, '')
      .split('\n')
      .map((line) => line.replace(/^\s*\*( |$)/, ''));
    let current: string[] | undefined;
    let fenced = false;
    for (const line of lines) {
      if (!fenced && /^\s*@\w/.test(line)) {
        if (current) texts.push(current.join('\n'));
        current = /^\s*@example\b/.test(line) ? [] : undefined;
        continue;
      }
      if (/^\s*```/.test(line)) fenced = !fenced;
      current?.push(line);
    }
    if (current) texts.push(current.join('\n'));
  }
  return texts;
}

/** The `export { … }` statements an exported alias passes through, nearest first. */
function reExportStatements(checker: ts.TypeChecker, exported: ts.Symbol): ts.Declaration[] {
  const statements: ts.Declaration[] = [];
  const visited = new Set<ts.Symbol>();
  let current: ts.Symbol | undefined = exported;
  while (current && current.flags & ts.SymbolFlags.Alias && !visited.has(current)) {
    visited.add(current);
    for (const declaration of current.declarations ?? [])
      if (ts.isExportSpecifier(declaration))
        statements.push(declaration.parent.parent as unknown as ts.Declaration);
    current = checker.getImmediateAliasedSymbol(current);
  }
  return statements;
}

function entryFiles(packageDir: string): [subpath: string, file: string][] {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { default?: string }>;
  };
  const entries: [string, string][] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const file = typeof target === 'string' ? target : target.default;
    const match = file ? /^\.\/dist\/(.+)\.js$/.exec(file) : null;
    if (!match?.[1]) continue; // package.json, data files
    entries.push([subpath, join(packageDir, 'src', `${match[1]}.ts`)]);
  }
  return entries;
}

/**
 * Finds the `@example` blocks of every export of every entry point of the package in
 * `packageDir`, and the exports that have none.
 */
export function docExamples(packageDir: string): DocExampleScan {
  const entries = entryFiles(packageDir);
  const program = ts.createProgram(
    entries.map(([, file]) => file),
    {
      noEmit: true,
      allowImportingTsExtensions: true,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      types: [],
    },
  );
  const checker = program.getTypeChecker();
  const examples: DocExample[] = [];
  const missing: string[] = [];
  const seen = new Set<ts.Declaration>();
  let exports = 0;
  for (const [subpath, file] of entries) {
    const source = program.getSourceFile(file);
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${file}: not a module the TypeScript compiler can read`);
    for (const exported of checker.getExportsOfModule(module)) {
      exports++;
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = exported.getName();
      let found = false;
      // A re-export may carry the example itself (`/** @example … */ export { X };`), for a
      // declaration that lives elsewhere (shared code bundled into several packages).
      const declarations = [
        ...reExportStatements(checker, exported),
        ...(symbol.declarations ?? []),
      ];
      for (const declaration of declarations) {
        let count = 0;
        for (const text of exampleTexts(declaration)) {
          const blocks = exampleBlocks(text);
          if (blocks.length > 0) found = true;
          if (seen.has(declaration)) continue;
          const sourceFile = declaration.getSourceFile();
          const line = sourceFile.getLineAndCharacterOfPosition(declaration.getStart()).line + 1;
          const where = `${relative(packageDir, sourceFile.fileName)}:${line}`;
          for (const block of blocks)
            examples.push({ name, entry: subpath, where, index: count++, ...block });
        }
        seen.add(declaration);
      }
      if (!found) missing.push(`${subpath}: ${name}`);
    }
  }
  return { examples, missing, exports };
}

/**
 * Writes each example to a module under `<packageDir>/.reports/doc-examples/` and imports
 * it, one after the other; a failing example rejects with its export's name and place.
 */
export async function runDocExample(packageDir: string, example: DocExample): Promise<void> {
  const dir = join(packageDir, '.reports', 'doc-examples');
  mkdirSync(dir, { recursive: true });
  // Named by content too: an ES module URL runs once per process, so two examples must never share one.
  const hash = createHash('sha256').update(example.code).digest('hex').slice(0, 12);
  const safe = `${example.where.replace(/[^\w.-]+/g, '_')}-${example.name}-${example.index}-${hash}`;
  const file = join(dir, `${safe}.${example.lang}`);
  writeFileSync(file, example.code);
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } catch (error) {
    throw new Error(`the @example of ${example.name} (${example.where}) failed`, {
      cause: error,
    });
  }
}

/** Removes the modules {@link runDocExample} wrote. */
export function clearDocExamples(packageDir: string): void {
  rmSync(join(packageDir, '.reports', 'doc-examples'), { recursive: true, force: true });
}

/**
 * Type-checks every example as a module of its own (strict, the package's entry points
 * resolved to its sources, Node's types), so an example shows code that compiles as printed.
 * Returns one message per error: `name (where): message`.
 */
export function typecheckDocExamples(
  packageDir: string,
  examples: readonly DocExample[],
): string[] {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
  };
  const dir = join(packageDir, '.reports', 'doc-examples-typecheck');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const paths: Record<string, string[]> = {};
  for (const [subpath, file] of entryFiles(packageDir))
    paths[subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = [file];
  const files = new Map<string, DocExample>();
  for (const [i, example] of examples.entries()) {
    const file = join(dir, `example-${i}.${example.lang}`);
    writeFileSync(file, example.code);
    files.set(file, example);
  }
  const program = ts.createProgram([...files.keys()], {
    noEmit: true,
    strict: true,
    allowJs: true,
    checkJs: false,
    allowImportingTsExtensions: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    typeRoots: [
      join(packageDir, 'node_modules', '@types'),
      join(packageDir, '../../node_modules/@types'),
    ],
    skipLibCheck: true,
    paths,
  });
  const errors: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file;
    const example = file && files.get(file.fileName);
    if (!file || !example) continue;
    const { line } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    errors.push(
      `${example.name} (${example.where}), line ${line + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`,
    );
  }
  return errors;
}
