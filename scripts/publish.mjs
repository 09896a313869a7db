#!/usr/bin/env node
// Publishes what scripts/stage.mjs stages — the tarballs pack-check and the consumer test
// check — instead of letting `pnpm publish` pack the workspace manifest (which would ship
// `scripts` and the devDependencies on private workspace packages). Run by `pnpm release` in
// .github/workflows/release.yml after `changeset version` has bumped the versions:
//   - a package whose version is already on npm is skipped (re-running a release is safe);
//   - a package whose CHANGELOG.md has no section for its version is refused (run
//     `pnpm version-packages` first: the empty CHANGELOG.md is never published);
//   - `npm publish <tarball>` with the manifest's publishConfig (public, provenance: npm
//     attests the build when run from GitHub Actions with `id-token: write`);
//   - the git tag `<name>@<version>` is created and `New tag: <name>@<version>` printed, as
//     `changeset publish` does, so changesets/action pushes the tags and writes the releases.
//
//   node scripts/publish.mjs [--dry-run]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, stageAll } from './stage.mjs';

const dryRun = process.argv.includes('--dry-run');
const out = mkdtempSync(join(tmpdir(), 'fluxel-publish-'));

function onRegistry(name, version) {
  const result = spawnSync('npm', ['view', `${name}@${version}`, 'version', '--json'], {
    encoding: 'utf8',
  });
  if (result.status === 0) return result.stdout.trim() !== '';
  if (/E404|404 Not Found/.test(result.stderr + result.stdout)) return false;
  throw new Error(`npm view ${name}@${version} failed:\n${result.stderr}`);
}

/** Dependencies first, so a package is never published before one it needs. */
function publishOrder(staged) {
  const names = new Set(staged.map((s) => s.name));
  const done = new Set();
  const order = [];
  while (order.length < staged.length) {
    const next = staged.find(
      (s) =>
        !done.has(s.name) &&
        Object.keys({ ...s.manifest.dependencies, ...s.manifest.peerDependencies })
          .filter((d) => names.has(d))
          .every((d) => done.has(d)),
    );
    if (!next) throw new Error('the published packages depend on each other in a cycle');
    done.add(next.name);
    order.push(next);
  }
  return order;
}

const preFile = join(root, '.changeset/pre.json');
const distTag = existsSync(preFile) ? JSON.parse(readFileSync(preFile, 'utf8')).tag : 'latest';

try {
  const staged = publishOrder(stageAll(out));
  const refused = [];
  const toPublish = [];
  for (const s of staged) {
    if (onRegistry(s.name, s.version)) {
      console.log(`${s.name}@${s.version} is on npm already; skipped`);
      continue;
    }
    const changelog = readFileSync(join(s.unpacked, 'CHANGELOG.md'), 'utf8');
    if (!changelog.split('\n').some((line) => line.trim() === `## ${s.version}`)) {
      refused.push(
        `${s.name}@${s.version}: CHANGELOG.md has no "## ${s.version}" (run pnpm version-packages)`,
      );
    }
    toPublish.push(s);
  }
  if (refused.length > 0) throw new Error(`not published:\n  - ${refused.join('\n  - ')}`);
  for (const s of toPublish) {
    const args = ['publish', s.tarball, '--access', 'public', '--tag', distTag];
    if (dryRun) args.push('--dry-run');
    execFileSync('npm', args, { stdio: 'inherit' });
    const tag = `${s.name}@${s.version}`;
    if (!dryRun) execFileSync('git', ['tag', tag], { cwd: root, stdio: 'inherit' });
    console.log(dryRun ? `would tag ${tag} (dry run)` : `New tag: ${tag}`);
  }
  if (toPublish.length === 0) console.log('nothing to publish');
} catch (error) {
  console.error(error.message);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
