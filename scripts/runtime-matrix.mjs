#!/usr/bin/env node
// The runtime matrix: every non-`node` entry point of the five packages does a real round trip
// on Node 20 (this machine's), Node 24, Bun, Deno, workerd (miniflare) without flags and with
// `nodejs_compat`, and headless Chromium; then every runtime opens and verifies what every
// runtime sealed, wrapped, signed and chained (cross-runtime vectors).
//
// The packages come from their packed tarballs (`pnpm pack`), installed with npm into a
// throwaway project outside the workspace, as a user gets them (docs/decisions/0013). The
// round trips are one module, scripts/runtime-matrix/roundtrip.mjs, run directly by Node, Bun
// and Deno and as an esbuild bundle by workerd and Chromium.
//
// Runtimes come from npm into cached prefixes under /tmp (node@24, bun, deno, miniflare);
// Chromium is Debian's (/usr/bin/chromium, or CHROMIUM_PATH), driven by playwright-core.
//
//   node scripts/runtime-matrix.mjs [--only node20,bun,...] [--keep]
//                                   [--expect-failures file.json]   (local use only)
//
// Prints the table, writes .reports/runtime-matrix.json, exits 1 on any failed cell. Under
// CI=true a runtime that cannot be installed or started is a failure, never a skip, and
// --expect-failures is refused.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const here = join(root, 'scripts/runtime-matrix');
const CI = process.env.CI === 'true';
const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
const keep = argv.includes('--keep');
const only = flag('--only')?.split(',');
const expectFile = flag('--expect-failures');
if (expectFile && CI) {
  console.error(
    '--expect-failures is for local use only; under CI=true every red cell fails the run',
  );
  process.exit(2);
}

// Pinned runtime versions (npm packages), installed once into /tmp prefixes.
const VERSIONS = {
  node24: 'node@24',
  bun: 'bun@1.4.5',
  deno: 'deno@2.9.6',
  miniflare: 'miniflare@4.20260426.0',
};
// A compatibility date recent enough that nodejs_compat provides process.getBuiltinModule.
const COMPATIBILITY_DATE = '2026-04-01';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TIMEOUT_MS = 180_000;

const started = Date.now();
const log = (message) =>
  console.log(`[matrix ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

// ----------------------------------------------------------------------- runtime installs
function prefixInstall(prefix, spec, bin) {
  const binary = join(prefix, 'node_modules/.bin', bin);
  const name = spec.slice(0, spec.lastIndexOf('@'));
  const wanted = spec.slice(spec.lastIndexOf('@') + 1);
  const manifest = join(prefix, 'node_modules', name, 'package.json');
  const installed = existsSync(manifest)
    ? JSON.parse(readFileSync(manifest, 'utf8')).version
    : undefined;
  const matches =
    installed !== undefined && (installed === wanted || installed.startsWith(`${wanted}.`));
  if (!matches || !existsSync(binary)) {
    log(`npm install --prefix ${prefix} ${spec}`);
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        spec,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 600_000,
      },
    );
  }
  if (!existsSync(binary)) throw new Error(`${spec} installed, but ${binary} is missing`);
  return binary;
}

// ----------------------------------------------------------------------- the consumer project
function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

function prepareApp(work) {
  const tarballs = join(work, 'tarballs');
  const app = join(work, 'app');
  mkdirSync(tarballs);
  mkdirSync(app);
  const packages = readdirSync(join(root, 'packages'))
    .map((name) => ({
      dir: join(root, 'packages', name),
      pkg: JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')),
    }))
    .filter(({ pkg }) => !pkg.private);
  const files = {};
  for (const { dir, pkg } of packages) {
    const out = run('pnpm', ['pack', '--pack-destination', tarballs], dir).trim().split('\n').pop();
    files[pkg.name] = `file:${out.startsWith('/') ? out : join(tarballs, out)}`;
  }
  // Optional peers the round trips import (the AWS KMS adapter's client), at the tested version.
  const peers = {};
  for (const { pkg } of packages) {
    for (const name of Object.keys(pkg.peerDependencies ?? {})) {
      if (name.startsWith('@fluxel/') || name === '@napi-rs/keyring') continue; // keyring: ./node only
      peers[name] = pkg.devDependencies?.[name] ?? pkg.peerDependencies[name];
    }
  }
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'fluxel-runtime-matrix',
        private: true,
        type: 'module',
        dependencies: { ...peers, ...files },
        overrides: files,
      },
      null,
      2,
    ),
  );
  log(`npm install of ${packages.length} tarballs into ${app}`);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
  for (const file of ['roundtrip.mjs', 'cli.mjs', 'worker.mjs', 'browser.mjs']) {
    writeFileSync(join(app, file), readFileSync(join(here, file)));
  }
  return app;
}

async function bundle(app) {
  const esbuild = await import('esbuild');
  const common = {
    absWorkingDir: app,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    logLevel: 'warning',
    legalComments: 'none',
  };
  // workerd: the conditions wrangler resolves with (workerd, worker, browser) and the browser
  // field maps (the AWS SDK's browser build: its Node build needs node:fs); nothing external.
  await esbuild.build({
    ...common,
    entryPoints: [join(app, 'worker.mjs')],
    outfile: join(app, 'bundle/worker.js'),
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
  });
  await esbuild.build({
    ...common,
    entryPoints: [join(app, 'browser.mjs')],
    outfile: join(app, 'bundle/browser.js'),
    platform: 'browser',
  });
  writeFileSync(
    join(app, 'bundle/index.html'),
    '<!doctype html><meta charset="utf-8"><title>fluxel runtime matrix</title><script type="module" src="browser.js"></script>\n',
  );
}

// ----------------------------------------------------------------------- runtimes
function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${TIMEOUT_MS / 1000} s`)),
      TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function spawnRunner(binary, args, cwd, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('@@matrix@@'));
      if (line) return resolvePromise(JSON.parse(line.slice('@@matrix@@'.length)));
      reject(
        new Error(
          `${binary} ${args.join(' ')} exited ${code ?? signal} without a result: ${(stderr || stdout).trim().slice(-800)}`,
        ),
      );
    });
  });
}

function cliRuntime(name, label, binaryOf, argsOf = (args) => args) {
  let binary;
  return {
    name,
    label,
    async setup() {
      binary = binaryOf();
    },
    produce: (app) => spawnRunner(binary, argsOf(['cli.mjs', 'produce', name]), app),
    consume: (app, file) => spawnRunner(binary, argsOf(['cli.mjs', 'consume', file]), app),
    async teardown() {},
    version: () => execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0],
  };
}

function workerdRuntime(name, label, flags) {
  let Miniflare;
  let miniflareVersion;
  const call = async (app, path, body) => {
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(app, 'bundle/worker.js'),
      modulesRoot: join(app, 'bundle'), // module names relative to it (workerd refuses "../")
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: flags,
    });
    try {
      // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- miniflare's in-process dispatch, no network
      const response = await mf.dispatchFetch(`http://matrix.local${path}`, {
        method: 'POST',
        body,
      });
      const text = await response.text();
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`workerd answered ${response.status}: ${text.slice(0, 800)}`);
      }
    } finally {
      await mf.dispose();
    }
  };
  return {
    name,
    label,
    async setup() {
      const prefix = '/tmp/fluxel-miniflare';
      prefixInstall(prefix, VERSIONS.miniflare, 'miniflare');
      const entry = join(prefix, 'node_modules/miniflare/dist/src/index.js');
      ({ Miniflare } = await import(pathToFileURL(entry).href));
      miniflareVersion = JSON.parse(
        readFileSync(join(prefix, 'node_modules/miniflare/package.json'), 'utf8'),
      ).version;
    },
    produce: (app) => withTimeout(call(app, `/produce?runtime=${name}`, '{}'), label),
    consume: (app, file) => withTimeout(call(app, '/consume', readFileSync(file, 'utf8')), label),
    async teardown() {},
    version: () =>
      `miniflare ${miniflareVersion}, compatibility date ${COMPATIBILITY_DATE}${flags.length ? `, ${flags.join(', ')}` : ', no flags'}`,
  };
}

function chromiumRuntime() {
  let browser;
  let server;
  let origin;
  let page;
  const ready = async (app) => {
    if (page) return page;
    const dir = join(app, 'bundle');
    server = createServer((req, res) => {
      const file = req.url === '/' ? 'index.html' : req.url.slice(1);
      if (!/^[\w.-]+$/.test(file) || !existsSync(join(dir, file))) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': file.endsWith('.html') ? 'text/html' : 'text/javascript',
      });
      res.end(readFileSync(join(dir, file)));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- loopback page (a secure context) for the test bundle
    origin = `http://127.0.0.1:${server.address().port}`;
    page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/`);
    await page
      .waitForFunction(() => globalThis.__matrix !== undefined, null, { timeout: 30_000 })
      .catch(() => {
        throw new Error(
          `the page did not load the bundle: ${errors.join('; ') || 'no error reported'}`,
        );
      });
    return page;
  };
  return {
    name: 'chromium',
    label: 'Chromium',
    async setup() {
      if (!existsSync(CHROMIUM))
        throw new Error(
          `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
        );
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    },
    async produce(app) {
      const p = await ready(app);
      return withTimeout(
        p.evaluate((n) => globalThis.__matrix.produce(n), 'chromium'),
        'Chromium',
      );
    },
    async consume(app, file) {
      const p = await ready(app);
      return withTimeout(
        p.evaluate((v) => globalThis.__matrix.consume(v), JSON.parse(readFileSync(file, 'utf8'))),
        'Chromium',
      );
    },
    async teardown() {
      await browser?.close();
      server?.close();
    },
    version: () => `Chromium ${browser.version()}`,
  };
}

const ALL_RUNTIMES = [
  cliRuntime('node20', 'Node 20', () => process.execPath),
  cliRuntime('node24', 'Node 24', () =>
    prefixInstall(process.env.NODE24_PREFIX ?? '/tmp/fluxel-node24', VERSIONS.node24, 'node'),
  ),
  cliRuntime(
    'bun',
    'Bun',
    () => prefixInstall('/tmp/fluxel-bun', VERSIONS.bun, 'bun'),
    (args) => ['run', ...args],
  ),
  cliRuntime(
    'deno',
    'Deno',
    () => prefixInstall('/tmp/fluxel-deno', VERSIONS.deno, 'deno'),
    (args) => ['run', '--allow-all', '--no-prompt', '--node-modules-dir=manual', ...args],
  ),
  workerdRuntime('workerd', 'workerd', []),
  workerdRuntime('workerd-compat', 'workerd + nodejs_compat', ['nodejs_compat']),
  chromiumRuntime(),
];
const unknown = (only ?? []).filter((name) => !ALL_RUNTIMES.some((r) => r.name === name));
if (unknown.length) {
  console.error(
    `unknown runtime ${unknown.join(', ')}; the columns are ${ALL_RUNTIMES.map((r) => r.name).join(', ')}`,
  );
  process.exit(2);
}
const RUNTIMES = ALL_RUNTIMES.filter((r) => !only || only.includes(r.name));

// ----------------------------------------------------------------------- main
if (process.version.split('.')[0] !== 'v20' && RUNTIMES.some((r) => r.name === 'node20')) {
  console.error(`the node20 column runs on this process's Node; this is ${process.version}`);
  if (CI) process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'fluxel-matrix-'));
const app = prepareApp(work);
await bundle(app);
log('bundled the round trips for workerd and Chromium (esbuild)');

const results = []; // { runtime, row, from?, ok, skipped?, error?, ms? }
const runtimes = [];
const vectors = {};
for (const runtime of RUNTIMES) {
  const entry = { name: runtime.name, label: runtime.label };
  runtimes.push(entry);
  try {
    await runtime.setup();
    entry.version = runtime.version();
  } catch (error) {
    entry.unavailable = String(error.message ?? error).slice(0, 800);
    log(`${runtime.label}: unavailable: ${entry.unavailable}`);
    continue;
  }
  log(`${runtime.label} (${entry.version}): round trips`);
  try {
    const out = await runtime.produce(app);
    if (out.fatal) throw new Error(out.fatal);
    for (const c of out.cells) results.push({ runtime: runtime.name, ...c });
    vectors[runtime.name] = out.vectors;
  } catch (error) {
    entry.fatal = String(error.message ?? error).slice(0, 800);
    log(`${runtime.label}: ${entry.fatal}`);
  }
}
// A negative control: the first producer's vectors with one byte changed in each (a ciphertext,
// a signature, an audit record). Every runtime must refuse every one of them; a tampered vector
// that opens is a red cell (the checks could not fail).
const TAMPERED = 'tampered';
const flip = (text, at = Math.floor(text.length / 2)) =>
  `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
const flipSignature = (jws) => {
  const dot = jws.lastIndexOf('.');
  return `${jws.slice(0, dot + 1)}${flip(jws.slice(dot + 1))}`;
};
function tamper(v) {
  const t = structuredClone(v);
  for (const r of Object.values(t.records ?? {})) r.sealed = flip(r.sealed);
  if (t.stream) t.stream.sealed = flip(t.stream.sealed);
  for (const p of Object.values(t.proofs ?? {})) p.proof = flipSignature(p.proof);
  for (const k of Object.values(t.tokens ?? {})) {
    k.accessToken = flipSignature(k.accessToken);
    k.licenseToken = flipSignature(k.licenseToken);
  }
  if (t.audit) t.audit.lines[2] = t.audit.lines[2].replace('attempt 1', 'attempt 7');
  if (t.acme) t.acme.jws.signature = flip(t.acme.jws.signature);
  if (t.relay) t.relay.headers.dpop = flipSignature(t.relay.headers.dpop);
  return t;
}
const firstProducer = Object.keys(vectors)[0];
const vectorFile = join(work, 'vectors.json');
writeFileSync(
  vectorFile,
  JSON.stringify(
    firstProducer ? { ...vectors, [TAMPERED]: tamper(vectors[firstProducer]) } : vectors,
  ),
);
for (const runtime of RUNTIMES) {
  const entry = runtimes.find((e) => e.name === runtime.name);
  if (entry.unavailable) continue;
  log(`${runtime.label}: opening every runtime's vectors`);
  try {
    const out = await runtime.consume(app, vectorFile);
    if (out.fatal) throw new Error(out.fatal);
    for (const c of out.cells) {
      if (c.from === TAMPERED) {
        // Inverted: refusing the tampered vector is the expected outcome (a vector that was
        // not produced stays a red cell, counted with its producer's).
        const from = `${TAMPERED} (${firstProducer})`;
        const { error, ...rest } = c;
        if (error?.startsWith('Error: not produced:'))
          results.push({ runtime: runtime.name, ...c, from });
        else if (c.ok)
          results.push({
            runtime: runtime.name,
            ...rest,
            from,
            ok: false,
            error: 'a tampered vector was accepted',
          });
        else results.push({ runtime: runtime.name, ...rest, from, ok: true, refused: error });
        continue;
      }
      results.push({ runtime: runtime.name, ...c });
    }
  } catch (error) {
    entry.fatal = `${entry.fatal ? `${entry.fatal}; ` : ''}consume: ${String(error.message ?? error).slice(0, 800)}`;
    log(`${runtime.label}: ${entry.fatal}`);
  } finally {
    await runtime.teardown().catch(() => undefined);
  }
}

// A runtime that produced nothing for a row still gets a cell: red under CI, "skipped" locally
// only when it could not be installed at all.
const rowOrder = [];
for (const r of results) {
  const key = r.from ? `${r.row}\u0000${r.from}` : r.row;
  if (!rowOrder.includes(key)) rowOrder.push(key);
}
for (const entry of runtimes) {
  if (!entry.unavailable && !entry.fatal) continue;
  for (const key of rowOrder) {
    const [row, from] = key.split('\u0000');
    if (results.some((r) => r.runtime === entry.name && r.row === row && r.from === from)) continue;
    const skipped = Boolean(entry.unavailable) && !CI;
    results.push({
      runtime: entry.name,
      row,
      ...(from ? { from } : {}),
      ok: false,
      ...(skipped ? { skipped: true } : {}),
      error: entry.unavailable
        ? `runtime unavailable: ${entry.unavailable}`
        : `runtime failed: ${entry.fatal}`,
    });
  }
}

// Expected failures (local only): [{ runtime, row, from? }] — shown, not counted.
const expected = expectFile ? JSON.parse(readFileSync(expectFile, 'utf8')) : [];
const isExpected = (r) =>
  expected.some(
    (e) => e.runtime === r.runtime && e.row === r.row && (e.from ?? undefined) === r.from,
  );
for (const r of results) if (!r.ok && !r.skipped && isExpected(r)) r.expected = true;

// ----------------------------------------------------------------------- report
const mark = (cellsOf) => {
  if (cellsOf.length === 0) return '';
  const bad = cellsOf.filter((c) => !c.ok && !c.skipped);
  if (cellsOf.every((c) => c.skipped)) return 'skip';
  if (bad.length === 0) return 'ok';
  if (cellsOf.length === 1) return bad[0].expected ? 'FAIL*' : 'FAIL';
  return `FAIL ${bad.length}/${cellsOf.length}${bad.every((c) => c.expected) ? '*' : ''}`;
};
const rows = [...new Set(results.map((r) => r.row))];
const header = ['', ...runtimes.map((r) => r.name)];
const table = rows.map((row) => [
  row.startsWith('vector · ') ? `${row} ← each producer, tampered refused` : row,
  ...runtimes.map((rt) => mark(results.filter((r) => r.runtime === rt.name && r.row === row))),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cols) => cols.map((c, i) => c.padEnd(widths[i])).join(' │ ');
console.log('');
for (const rt of runtimes)
  console.log(`  ${rt.name.padEnd(15)} ${rt.version ?? `unavailable: ${rt.unavailable}`}`);
console.log('');
console.log(line(header));
console.log(widths.map((w) => '─'.repeat(w)).join('─┼─'));
for (const t of table) console.log(line(t));
const failures = results.filter((r) => !r.ok && !r.skipped);
const counted = failures.filter((r) => !r.expected);
// A vector its producer could not make fails on every consumer; those cells are summed up in
// one line per producer (the producer's own red cell above says why).
const notProduced = (r) => r.error?.startsWith('Error: not produced:');
if (failures.length) {
  console.log('\nRed cells:');
  const runtimeLevel = (r) => /^runtime (unavailable|failed): /.test(r.error ?? '');
  for (const entry of runtimes) {
    const all = failures.filter((f) => f.runtime === entry.name && runtimeLevel(f));
    if (all.length) console.log(`  [${entry.name}] all ${all.length} cells: ${all[0].error}`);
  }
  for (const r of failures.filter((f) => !notProduced(f) && !runtimeLevel(f))) {
    console.log(
      `  ${r.expected ? '(expected) ' : ''}[${r.runtime}] ${r.row}${r.from ? ` (made on ${r.from})` : ''}: ${r.error}`,
    );
  }
  const missing = new Map();
  for (const r of failures.filter(notProduced)) {
    const key = `${r.from}\u0000${r.row}`;
    missing.set(key, [...(missing.get(key) ?? []), r.runtime]);
  }
  for (const [key, consumers] of missing) {
    const [from, row] = key.split('\u0000');
    console.log(
      `  [${consumers.join(', ')}] ${row} (made on ${from}): not produced, see ${from}'s own cell`,
    );
  }
}
const skipped = results.filter((r) => r.skipped);
if (skipped.length)
  console.log(`\n${skipped.length} cells skipped (runtime unavailable; under CI=true they fail)`);

mkdirSync(join(root, '.reports'), { recursive: true });
writeFileSync(
  join(root, '.reports/runtime-matrix.json'),
  `${JSON.stringify({ date: new Date().toISOString(), packages: 'packed tarballs (pnpm pack), installed with npm', runtimes, rows, cells: results }, null, 2)}\n`,
);
// Per package, per runtime: what works and what does not — the READMEs' "Runtimes" tables.
const PACKAGES = ['crypto', 'license', 'audit', 'acme-lite', 'relay-client'];
const packageOf = (row) =>
  row.startsWith('vector · ')
    ? PACKAGES.find((p) => row.startsWith(`vector · ${p} `))
    : PACKAGES.find((p) => row.startsWith(`@fluxel/${p} `) || row.startsWith(`@fluxel/${p}/`));
let markdown = `# Runtime matrix, ${new Date().toISOString().slice(0, 10)}\n\n`;
for (const pkg of PACKAGES) {
  markdown += `## @fluxel/${pkg}\n\n| runtime | result |\n| --- | --- |\n`;
  for (const rt of runtimes) {
    const mine = results.filter((r) => r.runtime === rt.name && packageOf(r.row) === pkg);
    const own = mine.filter((r) => !r.ok && !r.from);
    const opened = mine.filter((r) => !r.ok && r.from && !notProduced(r));
    const notes = [
      ...new Set([
        ...own.map((r) => `${r.row}: ${r.error}`),
        ...[...new Set(opened.map((r) => r.row))].map(
          (row) =>
            `does not open/verify ${row.slice('vector · '.length)} made on ${opened
              .filter((r) => r.row === row)
              .map((r) => r.from)
              .join(', ')}: ${opened.find((r) => r.row === row).error}`,
        ),
      ]),
    ];
    const label = `${rt.label} (${rt.version ?? 'unavailable'})`;
    markdown += `| ${label} | ${mine.length === 0 ? 'not run' : notes.length === 0 ? 'works' : notes.join('<br>').replaceAll('|', '\\|')} |\n`;
  }
  markdown += '\n';
}
writeFileSync(join(root, '.reports/runtime-matrix.md'), markdown);

console.log(
  `\n${results.length} cells, ${results.filter((r) => r.ok).length} ok, ${failures.length} failed${expectFile ? ` (${failures.length - counted.length} expected)` : ''}, ${skipped.length} skipped; ${((Date.now() - started) / 1000).toFixed(0)} s; .reports/runtime-matrix.json`,
);

if (keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
process.exit(counted.length > 0 || (CI && skipped.length > 0) ? 1 : 0);
