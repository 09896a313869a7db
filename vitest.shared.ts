/**
 * The one vitest configuration of every workspace project. A package's own name and
 * subpaths resolve to its source, so tests (and the README quickstart) run against `src/`
 * without a build, while other workspace packages resolve to their built `dist/`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { READY_BOUND_MS } from './packages/internal/src/testing.ts';

interface PackageJson {
  name: string;
  version?: string;
  exports?: Record<string, unknown>;
}

/** The longest a test may run before vitest calls it hung (10 minutes). */
export const TEST_BOUND_MS = 600_000;
/** The longest a hook (a suite's start-up or shut-down) may run before it is called hung. */
export const HOOK_BOUND_MS = 600_000;

export function projectConfig(dir: string) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  const alias: { find: string | RegExp; replacement: string }[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (subpath === './package.json' || (typeof target === 'string' && !target.endsWith('.js')))
      continue;
    const name = subpath === '.' ? 'index' : subpath.slice(2);
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${name}`;
    alias.push({
      // eslint-disable-next-line security/detect-non-literal-regexp -- built from our own package names, with / and . escaped
      find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`),
      replacement: join(dir, 'src', `${name}.ts`),
    });
  }
  return defineConfig({
    resolve: { alias },
    // What tsup writes into the build (see tsup.base.ts), so src/ runs the same in tests.
    define: { __FLUXEL_PACKAGE_VERSION__: JSON.stringify(pkg.version ?? '0.0.0') },
    test: {
      name: pkg.name.startsWith('@fluxel/') ? pkg.name.slice('@fluxel/'.length) : basename(dir),
      root: dir,
      include: ['test/**/*.test.ts'],
      // Type-level tests (`*.test-d.ts`) run through tsc, only where a project has them.
      typecheck: {
        enabled: hasTypeTests(join(dir, 'test')),
        include: ['test/**/*.test-d.ts'],
        tsconfig: 'tsconfig.json',
      },
      reporters: ['default', ['json', { outputFile: join(dir, '.reports', 'vitest.json') }]],
      // Bounds that catch a hang, not budgets (issue 21, docs/decisions/0020): a hook starts
      // servers, databases, browsers and processes and waits for each to be ready (a port, a
      // line, a health check, each with its own bound and a message naming what it waited
      // for); a test may start more. On a busy machine that takes several times longer than
      // idle, and waiting longer is harmless, so no file sets a shorter limit of its own.
      testTimeout: TEST_BOUND_MS,
      hookTimeout: HOOK_BOUND_MS,
      // expect.poll's default (1 s) is such a budget too.
      expect: { poll: { timeout: READY_BOUND_MS } },
    },
  });
}

function hasTypeTests(testDir: string): boolean {
  try {
    return readdirSync(testDir, { recursive: true }).some((f) => String(f).endsWith('.test-d.ts'));
  } catch {
    return false;
  }
}
