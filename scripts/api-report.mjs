#!/usr/bin/env node
// API reports of the package in the current folder, one per public subpath, from the built
// .d.ts files, with the settings of api-extractor.base.json at the repository root:
//   "."        -> etc/<name>.api.md
//   "./<sub>"  -> etc/<name>-<sub>.api.md
// `--local` (what `pnpm api` runs) rewrites the committed reports; without it (CI, `pnpm
// api:check`) any difference between the exports and the committed reports fails.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const local = process.argv.includes('--local');
const dir = process.cwd();
const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const base = JSON.parse(readFileSync(join(root, 'api-extractor.base.json'), 'utf8'));
const short = pkg.name.replace(/^@[^/]+\//, '');

if (local) mkdirSync(join(dir, 'etc'), { recursive: true });

const expected = new Set();
let failed = false;
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === './package.json') continue;
  if (typeof target === 'string' && !target.endsWith('.js')) continue; // data file, e.g. .proto
  const types = typeof target === 'string' ? target.replace(/\.js$/, '.d.ts') : target.types;
  const reportFileName =
    subpath === '.'
      ? `${short}.api.md`
      : `${short}-${subpath.slice(2).replaceAll('/', '-')}.api.md`;
  expected.add(reportFileName);
  const config = ExtractorConfig.prepare({
    configObject: {
      ...base,
      projectFolder: dir,
      mainEntryPointFilePath: join(dir, types),
      apiReport: { ...base.apiReport, reportFileName },
    },
    configObjectFullPath: join(dir, 'api-extractor.json'),
    packageJsonFullPath: join(dir, 'package.json'),
  });
  const result = Extractor.invoke(config, { localBuild: local, showVerboseMessages: false });
  if (!result.succeeded || (!local && result.apiReportChanged)) {
    failed = true;
    console.error(
      `${pkg.name} ${subpath}: ${result.apiReportChanged ? `the public API differs from etc/${reportFileName}; run \`pnpm api\` and commit the report` : `${result.errorCount} error(s)`}`,
    );
  }
}

// A report whose subpath is no longer exported is stale.
const etc = join(dir, 'etc');
for (const file of existsSync(etc) ? readdirSync(etc) : []) {
  if (!file.endsWith('.api.md') || expected.has(file)) continue;
  if (local) rmSync(join(etc, file));
  else {
    failed = true;
    console.error(
      `${pkg.name}: etc/${file} reports a subpath that is not exported; run \`pnpm api\``,
    );
  }
}
process.exitCode = failed ? 1 : 0;
