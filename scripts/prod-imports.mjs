#!/usr/bin/env node
// The production images install each app's runtime tree only (`pnpm deploy --prod`), so a
// module the production entry imports statically must come from the app's `dependencies`
// (the portal's image once failed to start on `smtp-server`, a development dependency that
// mail.ts imported at its top for the dev SMTP sink). This walks the static imports from
// each entry through the app's own files and the example workspace packages' TypeScript
// sources, and names every package that is not a runtime dependency of the package that
// imports it. Dynamic `import()` is not followed: that is how optional and dev-only modules
// are loaded. Run: node scripts/prod-imports.mjs (tested by scripts/prod-imports.test.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
export const ENTRIES = ['examples/relay/src/main.ts', 'examples/portal/src/server/main.ts'];

// `import`/`export` at the start of a line, everything up to the first quote, the quoted
// specifier: the head decides (one quantifier per part, no backtracking to speak of).
const STATEMENT = /^[ \t]*(?:import|export)[ \t\n]([^'"`;]*)['"]([^'"\n]+)['"]/gm;

/** The specifiers a module's source imports statically (type-only imports left out). */
export function staticImports(source) {
  const found = [];
  for (const [, rawHead, spec] of source.matchAll(STATEMENT)) {
    const head = rawHead.trim();
    if (head.startsWith('type ') || head.startsWith('type{')) continue;
    // `import 'x'` (no head) or `… from 'x'`; anything else (`export const a = 'x'`) is not one.
    if (head === '' || /(^|\s|\})from$/.test(head)) found.push(spec);
  }
  return found;
}

const packageName = (spec) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];

function packageRoot(file) {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The workspace package `name` (examples/*, packages/*) as `{ dir, manifest }`, if any. */
function workspacePackage(name) {
  for (const group of ['examples', 'packages']) {
    const dir = join(ROOT, group, name.split('/')[1] ?? '');
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    if (manifest.name === name) return { dir, manifest };
  }
  return undefined;
}

/**
 * Every static import from `entry` (a path relative to the repository root) that the
 * production tree would lack: `{ file, spec, why }`, empty when there is none.
 */
export function productionImportProblems(entry) {
  const problems = [];
  const seen = new Set();
  const queue = [resolve(ROOT, entry)];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const root = packageRoot(file);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const deps = new Set(Object.keys(manifest.dependencies ?? {}));
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (existsSync(target)) queue.push(target);
        else problems.push({ file, spec, why: 'not found' });
        continue;
      }
      if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = packageName(spec);
      if (!deps.has(name)) {
        const kind = manifest.devDependencies?.[name] ? 'a devDependency' : 'not a dependency';
        problems.push({ file, spec, why: `${kind} of ${manifest.name}` });
        continue;
      }
      // The example packages run as TypeScript sources: follow them into their own files.
      const ws = name.startsWith('@fluxel-example/') ? workspacePackage(name) : undefined;
      if (ws) {
        const sub = spec === name ? '.' : `./${spec.slice(name.length + 1)}`;
        const target = ws.manifest.exports?.[sub];
        if (typeof target === 'string') queue.push(resolve(ws.dir, target));
        else problems.push({ file, spec, why: `${name} exports no ${sub}` });
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  let bad = 0;
  for (const entry of ENTRIES) {
    const problems = productionImportProblems(entry);
    for (const p of problems)
      console.error(
        `${p.file.slice(ROOT.length + 1)}: imports '${p.spec}' (${p.why}); the production image (pnpm deploy --prod) lacks it: add it to dependencies, or import it dynamically where it is needed`,
      );
    bad += problems.length;
    if (problems.length === 0) console.log(`${entry}: every static import is a runtime dependency`);
  }
  process.exit(bad === 0 ? 0 : 1);
}
