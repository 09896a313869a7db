// The apps' production entries import only runtime dependencies (scripts/prod-imports.mjs).
// Run: node --test scripts/prod-imports.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENTRIES, productionImportProblems, staticImports } from './prod-imports.mjs';

test('static imports are found; type-only and dynamic imports are not', () => {
  const source = [
    "import { a } from 'alpha';",
    "import type { B } from 'beta';",
    "export type { C } from 'gamma';",
    "import {\n  d,\n  type E,\n} from '@scope/delta/sub';",
    "export { f } from './f.ts';",
    "import 'side-effect';",
    "const g = await import('dynamic');",
    " * import x from 'in-a-comment-line'",
    "export const h = 'not-an-import';",
  ].join('\n');
  assert.deepEqual(staticImports(source), ['alpha', '@scope/delta/sub', './f.ts', 'side-effect']);
});

test('the production image lacked smtp-server: the portal and relay entries import runtime dependencies only', () => {
  for (const entry of ENTRIES) assert.deepEqual(productionImportProblems(entry), [], entry);
});
