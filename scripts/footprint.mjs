#!/usr/bin/env node
// Install footprint: what `npm install <package>` puts on disk in an empty project, ours (the
// staged tarball, exactly as published) against the peer library each package is compared
// with. One JSON line per measure, in the shape of the benchmarks (ratio oriented as there,
// higher is better: theirs / ours, so 10 means a tenth of the peer's footprint):
//   { "bench": "footprint/<pkg>/bytes", "ours": 1, "peer": "<name>@<version>", "theirs": 1,
//     "unit": "bytes", "ratio": 1 }
// and "footprint/<pkg>/packages" (packages in node_modules, the package itself included).
// Bytes are the sizes of the files (what `du --apparent-size` counts); disk blocks vary with
// the file system. Peers are installed at the version the benchmarks measure
// (benchmarks/package.json), from the npm registry.
//
//   node scripts/footprint.mjs [--write docs/footprint.md]
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { root, stageAll } from './stage.mjs';

const PEERS = {
  '@fluxel/crypto': '@aws-crypto/client-node',
  '@fluxel/license': 'jose',
  '@fluxel/acme-lite': 'acme-client',
  '@fluxel/audit': 'pino',
  '@fluxel/relay-client': 'undici',
};

const benchmarks = JSON.parse(readFileSync(join(root, 'benchmarks/package.json'), 'utf8'));
const peerVersion = (name) =>
  benchmarks.dependencies?.[name] ?? benchmarks.devDependencies?.[name] ?? 'latest';

const work = mkdtempSync(join(tmpdir(), 'fluxel-footprint-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

/**
 * Installs `dependencies` into an empty project; returns bytes, packages, the installed
 * version of `name` and every installed copy of `count` (path and version).
 */
function install(label, name, dependencies, overrides = {}, count = []) {
  const dir = join(work, label);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'footprint', private: true, dependencies, overrides }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], dir);
  const modules = join(dir, 'node_modules');
  let bytes = 0;
  let packages = 0;
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) bytes += lstatSync(path).size;
    }
  };
  const copies = Object.fromEntries(count.map((n) => [n, []]));
  const countPackages = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dirs = entry.name.startsWith('@')
        ? readdirSync(join(d, entry.name)).map((n) => join(d, entry.name, n))
        : [join(d, entry.name)];
      for (const pkgDir of dirs) {
        packages++;
        const id = relative(modules, pkgDir).split('node_modules/').pop().replace(/\/$/, '');
        if (copies[id]) {
          const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
          copies[id].push(`${relative(dir, pkgDir)}@${version}`);
        }
        try {
          countPackages(join(pkgDir, 'node_modules'));
        } catch {}
      }
    }
  };
  walk(modules);
  countPackages(modules);
  // The lockfile npm leaves in node_modules is not part of any package.
  bytes -= lstatSync(join(modules, '.package-lock.json')).size;
  const version = JSON.parse(
    run('node', ['-p', `JSON.stringify(require('${name}/package.json').version)`], dir),
  );
  rmSync(dir, { recursive: true, force: true });
  return { bytes, packages, version, copies };
}

const staged = stageAll(join(work, 'tarballs'));
const overrides = Object.fromEntries(staged.map((s) => [s.name, `file:${s.tarball}`]));
const rows = [];
for (const s of staged) {
  const peer = PEERS[s.name];
  if (!peer) continue;
  const ours = install(
    s.name.replace(/\W/g, '_'),
    s.name,
    { [s.name]: `file:${s.tarball}` },
    overrides,
  );
  const theirs = install(peer.replace(/\W/g, '_'), peer, { [peer]: peerVersion(peer) });
  const short = s.name.replace('@fluxel/', '');
  for (const [measure, unit] of [
    ['bytes', 'bytes'],
    ['packages', 'packages'],
  ]) {
    const line = {
      bench: `footprint/${short}/${measure}`,
      ours: ours[measure],
      peer: `${peer}@${theirs.version}`,
      theirs: theirs[measure],
      unit,
      ratio: Number((theirs[measure] / ours[measure]).toFixed(3)),
    };
    console.log(JSON.stringify(line));
  }
  rows.push({ name: s.name, version: s.version, ours, peer, theirs });
}

// All five packages added to a project that already has zod (4.x, then 3.x): what they add,
// and how many copies of zod and @noble/hashes the project ends with.
const shared = [];
for (const zod of ['^4', '^3']) {
  const base = install(`zod${zod.slice(1)}`, 'zod', { zod });
  const all = install(`zod${zod.slice(1)}-all`, 'zod', { zod, ...overrides }, overrides, [
    'zod',
    '@noble/hashes',
  ]);
  const line = {
    bench: `footprint/all-on-zod-${zod.slice(1)}/added-bytes`,
    ours: all.bytes - base.bytes,
    zod: all.copies.zod,
    noble: all.copies['@noble/hashes'],
    unit: 'bytes',
  };
  console.log(JSON.stringify(line));
  shared.push({ zod: base.version, added: all.bytes - base.bytes, copies: all.copies });
}

const at = process.argv.indexOf('--write');
if (at > 0) {
  const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
  const table = rows
    .map(
      (r) =>
        `| \`${r.name}\` | ${mb(r.ours.bytes)} | ${r.ours.packages} | \`${r.peer}\` ${r.theirs.version} | ${mb(r.theirs.bytes)} | ${r.theirs.packages} | ${(r.theirs.bytes / r.ours.bytes).toFixed(2)} |`,
    )
    .join('\n');
  const file = resolve(process.argv[at + 1]);
  writeFileSync(
    file,
    `# Install footprint

What \`npm install <package>\` puts into \`node_modules\` of an empty project: the sizes of all
files (as \`du --apparent-size\` counts them) and the number of packages, the package itself
included. Ours is the tarball exactly as it is published (\`scripts/stage.mjs\`); the peer is the
library each package is benchmarked against, at the version the benchmarks measure. Optional peer
dependencies are not installed (e.g. \`@aws-sdk/client-kms\` for \`@fluxel/crypto/aws-kms\`,
which \`@aws-crypto/client-node\` always brings). Our tarballs ship their source maps (with the
sources' text, see [decision 0014](decisions/0014-published-tarballs.md)).

Measured by \`pnpm footprint\` (\`scripts/footprint.mjs\`) on ${new Date().toISOString().slice(0, 10)}, npm ${run('npm', ['--version'], work).trim()}, Node ${process.version}.

| Package | Bytes | Packages | Peer | Bytes | Packages | Peer / ours (bytes) |
| --- | ---: | ---: | --- | ---: | ---: | ---: |
${table}

## In a project that already has zod

All five packages installed into a project that already depends on zod: the bytes they add,
and every copy of zod and \`@noble/hashes\` in \`node_modules\` afterwards
(\`pnpm consumer\` asserts one zod on zod 4.x and, on zod 3, exactly one zod 4 of ours: only
\`@fluxel/relay-client\`, whose contract is zod, depends on it; \`@fluxel/audit\` checks its events
by hand, issue 20).

| Project on | Bytes added | zod copies | @noble/hashes copies |
| --- | ---: | --- | --- |
${shared
  .map(
    (r) =>
      `| zod ${r.zod} | ${mb(r.added)} | ${r.copies.zod.join(', ')} | ${r.copies['@noble/hashes'].join(', ')} |`,
  )
  .join('\n')}
${
  (shared[1]?.copies.zod.length ?? 0) > 2
    ? `
With zod 3 at the top of \`node_modules\`, npm nests a zod 4 under each package that needs one;
it cannot share one nested copy between two sibling packages: more than one zod 4 here means a
second package of ours depends on zod again (\`pnpm consumer\` fails then).
`
    : ''
}`,
  );
  console.error(`wrote ${file}`);
}
rmSync(work, { recursive: true, force: true });
