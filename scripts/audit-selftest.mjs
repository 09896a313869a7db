// Self-test of scripts/audit.mjs against a local stand-in for the registry's audit endpoint:
// `node --test scripts/audit-selftest.mjs`. Covers: clean, failing, allowed, expired allow-list
// entry, and an unreachable advisory source (warning, exit 0).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'fluxel-audit-'));
let answer = { status: 200, body: {} };
let runs = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
});
let registry;
before(async () => {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  registry = `http://127.0.0.1:${server.address().port}/`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function report(advisories) {
  const vulnerabilities = { info: 0, low: 0, moderate: 0, high: 0, critical: 0 };
  for (const a of Object.values(advisories)) vulnerabilities[a.severity] += 1;
  return { actions: [], advisories, muted: [], metadata: { vulnerabilities, dependencies: 1 } };
}
const HIGH = {
  id: 1100001,
  github_advisory_id: 'GHSA-test-high-0001',
  module_name: 'zod',
  severity: 'high',
  title: 'stand-in advisory',
  url: 'https://github.com/advisories/GHSA-test-high-0001',
  vulnerable_versions: '<999',
  patched_versions: '>=999',
  cves: [],
  findings: [{ version: '4.0.0', paths: ['packages__license>zod'] }],
};

function run(allowList, extraEnv = {}) {
  runs += 1;
  const file = join(dir, `allow-${runs}.json`);
  writeFileSync(file, JSON.stringify(allowList));
  // Asynchronous: the stand-in registry lives in this process and must keep answering.
  const child = spawn(process.execPath, [join(root, 'scripts/audit.mjs')], {
    cwd: root,
    env: {
      ...process.env,
      FLUXEL_AUDIT_REGISTRY: registry,
      FLUXEL_AUDIT_ALLOWLIST: file,
      ...extraEnv,
    },
  });
  const r = { stdout: '', stderr: '', status: null };
  child.stdout.on('data', (d) => {
    r.stdout += d;
  });
  child.stderr.on('data', (d) => {
    r.stderr += d;
  });
  return new Promise((done) =>
    child.on('close', (code) => {
      r.status = code;
      done(r);
    }),
  );
}

test('no advisories: passes', async () => {
  answer = { status: 200, body: report({}) };
  const r = await run({ entries: [] });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /0 advisories/);
});

test('a high advisory that is not allowed: fails and names it', async () => {
  answer = { status: 200, body: report({ 1100001: HIGH }) };
  const r = await run({ entries: [] });
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /GHSA-test-high-0001/);
});

test('a moderate advisory: reported, does not fail', async () => {
  answer = { status: 200, body: report({ 1100001: { ...HIGH, severity: 'moderate' } }) };
  const r = await run({ entries: [] });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /note +moderate/);
});

test('a high advisory on the reviewed allow-list: passes', async () => {
  answer = { status: 200, body: report({ 1100001: HIGH }) };
  const entry = {
    id: 'GHSA-test-high-0001',
    module: 'zod',
    reason: 'stand-in: the vulnerable function is never called',
    expires: '2999-12-31',
  };
  const r = await run({ entries: [entry] });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /allowed +high/);
});

test('an expired allow-list entry fails', async () => {
  answer = { status: 200, body: report({ 1100001: HIGH }) };
  const entry = {
    id: 'GHSA-test-high-0001',
    module: 'zod',
    reason: 'stand-in: the vulnerable function is never called',
    expires: '2020-01-01',
  };
  const r = await run({ entries: [entry] });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /expired/);
});

test('an allow-list entry without a reason fails', async () => {
  answer = { status: 200, body: report({}) };
  const r = await run({ entries: [{ id: 'GHSA-x', module: 'zod', expires: '2999-01-01' }] });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no reason/);
});

test('advisory source refuses the connection: warning, exit 0', async () => {
  const r = await run({ entries: [] }, { FLUXEL_AUDIT_REGISTRY: 'http://127.0.0.1:9/' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /WARNING: dependency vulnerability check SKIPPED/);
});

test('advisory endpoint answers with an error status: warning, exit 0', async () => {
  answer = { status: 503, body: { error: 'down' } };
  const r = await run({ entries: [] });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /SKIPPED/);
});

test('unreachable with FLUXEL_AUDIT_STRICT=1: fails', async () => {
  const r = await run(
    { entries: [] },
    { FLUXEL_AUDIT_REGISTRY: 'http://127.0.0.1:9/', FLUXEL_AUDIT_STRICT: '1' },
  );
  assert.equal(r.status, 1);
});
