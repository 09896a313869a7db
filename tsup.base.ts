/**
 * The one tsup configuration of every published package. Entry points are derived from the
 * package's `exports` and `bin`, so the build and the public surface cannot disagree:
 *   "."        -> src/index.ts  -> dist/index.js
 *   "./<name>" -> src/<name>.ts -> dist/<name>.js
 *   bin        -> src/<file>.ts -> dist/<file>.js (with a shebang)
 * Shared code from packages/internal (imported by relative path) is bundled in, types too;
 * everything in dependencies/peerDependencies stays external.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

interface PackageJson {
  name: string;
  version?: string;
  exports: Record<string, string | { default?: string; import?: string }>;
  bin?: Record<string, string>;
}

function entryName(distPath: string): string {
  const match = /^\.\/dist\/(.+)\.js$/.exec(distPath);
  if (!match?.[1]) throw new Error(`export target ${distPath} is not ./dist/<name>.js`);
  return match[1];
}

export function packageEntries(dir: string): {
  lib: Record<string, string>;
  bin: Record<string, string>;
} {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  const lib: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    const file = typeof target === 'string' ? target : (target.default ?? target.import);
    if (!file) throw new Error(`${pkg.name}: export ${subpath} has no default target`);
    if (!file.endsWith('.js')) continue; // a data file shipped as is (e.g. a .proto)
    const name = entryName(file);
    lib[name] = `src/${name}.ts`;
  }
  const bin: Record<string, string> = {};
  for (const file of Object.values(pkg.bin ?? {})) {
    const name = entryName(file.startsWith('./') ? file : `./${file}`);
    bin[name] = `src/${name}.ts`;
  }
  return { lib, bin };
}

export function fluxelTsup(dir: string = process.cwd()) {
  const { lib, bin } = packageEntries(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  const common: Options = {
    // The package's own version, for User-Agent headers and `--version` (src/version.ts).
    define: { __FLUXEL_PACKAGE_VERSION__: JSON.stringify(pkg.version ?? '0.0.0') },
    format: ['esm'],
    target: 'node20',
    platform: 'neutral',
    sourcemap: true,
    splitting: true,
    treeshake: true,
    removeNodeProtocol: false,
    external: [/^node:/],
    tsconfig: 'tsconfig.build.json',
  };
  const configs: Options[] = [{ ...common, entry: lib, clean: true, dts: { entry: lib } }];
  if (Object.keys(bin).length > 0) {
    configs.push({
      ...common,
      entry: bin,
      clean: false,
      dts: false,
      platform: 'node',
      banner: { js: '#!/usr/bin/env node' },
    });
  }
  return defineConfig(configs);
}
