#!/usr/bin/env node
// Checks docs/security.md against the test suites: every cited test must exist, by file and by
// name, so the threat model cannot drift into citing tests that were renamed or deleted.
//
// A citation is a test file in backticks followed by one or more test names in double quotes:
//   `examples/relay/test/relay.test.ts`: "a replayed proof is refused", "…"
// A shared case file (`*-cases.ts`, `*.cases.ts`, run by several test files) may be cited too.
// A name must be the literal title of an `it(…)`, `test(…)` or `describe(…)` in that file (also
// behind modifiers such as `it.runIf(cond)(…)`).
// Every threat section (a `### T…` or `### P…` heading) must cite at least one test.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const docPath = join(root, process.argv[2] ?? 'docs/security.md');
const doc = readFileSync(docPath, 'utf8');

const CITATION =
  // eslint-disable-next-line security/detect-unsafe-regex -- runs over this repository's own doc
  /`([\w./-]+(?:\.test\.(?:ts|tsx|mts|mjs)|-selftest\.mjs|-suite\.ts|[.-]cases\.ts))`((?:[\s:,;·›—-]*"[^"\n]+")+)/g;
const NAME = /"([^"\n]+)"/g;
const TITLE =
  // eslint-disable-next-line security/detect-unsafe-regex -- runs over this repository's own test files
  /\b(?:it|test|describe)(?:\.\w+(?:\((?:[^()]|\([^()]*\))*\))?)*\(\s*(['"`])((?:\\.|(?!\1)[\s\S])*?)\1/g;

const titlesByFile = new Map();
function titles(file) {
  let set = titlesByFile.get(file);
  if (!set) {
    set = new Set();
    const source = readFileSync(join(root, file), 'utf8');
    for (const m of source.matchAll(TITLE)) set.add(m[2].replace(/\\(['"`\\])/g, '$1'));
    titlesByFile.set(file, set);
  }
  return set;
}

const problems = [];
let cited = 0;
const files = new Set();
for (const m of doc.matchAll(CITATION)) {
  const [, file, names] = m;
  const line = doc.slice(0, m.index).split('\n').length;
  if (!existsSync(join(root, file))) {
    problems.push(`line ${line}: ${file} does not exist`);
    continue;
  }
  files.add(file);
  for (const n of names.matchAll(NAME)) {
    cited += 1;
    if (!titles(file).has(n[1])) problems.push(`line ${line}: ${file} has no test named "${n[1]}"`);
  }
}

// Every threat / promise section cites at least one test.
const sections = doc.split(/^(?=### )/m).filter((s) => /^### [TP]\d+/.test(s));
for (const section of sections) {
  const heading = section.split('\n')[0];
  CITATION.lastIndex = 0;
  if (!CITATION.test(section)) problems.push(`${heading}: cites no test`);
}
CITATION.lastIndex = 0;

if (sections.length === 0) problems.push('no threat sections (### T1 …) found');
if (problems.length > 0) {
  console.error(`security:doc: ${problems.length} problem(s) in ${docPath}:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exitCode = 1;
} else {
  console.log(
    `security:doc: ${cited} test citations in ${files.size} files, ${sections.length} threat/promise sections, all found`,
  );
}
