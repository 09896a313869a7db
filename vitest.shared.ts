/**
 * The one vitest configuration of every workspace project. A package's own name and
 * subpaths resolve to its source, so tests (and the README quickstart) run against `src/`
 * without a build, while other workspace packages resolve to their built `dist/`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defineConfig } from 'vitest/config';

interface PackageJson {
  name: string;
  version?: string;
  exports?: Record<string, unknown>;
}

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
      testTimeout: 30_000,
      hookTimeout: 60_000,
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
