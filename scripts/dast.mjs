#!/usr/bin/env node
// DAST gate: Debian's wapiti against a running portal and relay over HTTPS (dev CA trusted,
// certificate verification on), bounded in time, JSON reports in `.reports/dast/`, and a triage
// step: every finding must match an entry of `security/dast-triage.json`, else the run fails.
//
//   node scripts/dast.mjs                 start both on free ports, scan, triage, stop
//
// Environment:
//   DAST_SCAN_SECONDS   wapiti --max-scan-time per target (default 120; two targets)
//   DAST_ATTACK_SECONDS wapiti --max-attack-time per module (default 30)
//   DAST_TOTAL_SECONDS  budget of the whole run, start to stop (default 360); scans shrink to fit
//   WAPITI              the wapiti executable (default `wapiti`, Debian package `wapiti`)
//
// Triage entries: { module, target?, path, info?, verdict: "fixed" | "not-applicable", reason }.
// `module` is wapiti's category ("Backup file", "HTTP Secure Headers", …), `path` a regular
// expression over the finding's path (with query), `info` an optional regular expression over
// wapiti's description (to accept one header, not the whole category), `target` "portal" or
// "relay" (both when absent). A `not-applicable` entry accepts the findings it matches; a `fixed` entry records a
// finding that was fixed, and fails the run if it matches again (regression).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminSession, signedIn } from './dast/session.mjs';
import { startStack } from './dast/start.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reportDir = join(root, '.reports', 'dast');
const triagePath = join(root, 'security', 'dast-triage.json');
const env = process.env;
const wapiti = env.WAPITI ?? 'wapiti';
const scanSeconds = Number(env.DAST_SCAN_SECONDS ?? 120);
// The whole run (start, sign-in, both scans, stop) ends within this budget: each scan gets at
// most its share of what is left, and a watchdog fails the run if the budget is exceeded.
const totalSeconds = Number(env.DAST_TOTAL_SECONDS ?? 360);
const started = Date.now();
const running = new Set(); // wapiti processes, for the watchdog
let runningStack; // the started relay and portal, for the watchdog
function scanBudget(targetsLeft) {
  const left = totalSeconds - (Date.now() - started) / 1000 - 25; // stop + report reserve
  return Math.max(10, Math.min(scanSeconds, Math.floor(left / targetsLeft) - 15));
}
const attackSeconds = Number(env.DAST_ATTACK_SECONDS ?? 30);
// Modules: wapiti's defaults without `ssrf` (it needs wapiti's public endpoint on the internet),
// plus the ones that fit an HTTP API: crlf, methods, backup, htaccess, csrf. Not used: nikto,
// wapp (need downloaded databases), buster and brute_login_form (dictionary attacks: the portal's
// login throttling is tested by its own suite), xxe and shellshock (external endpoint / CGI).
const MODULES = [
  'blindsql',
  'cookieflags',
  'csp',
  'exec',
  'file',
  'http_headers',
  'permanentxss',
  'redirect',
  'sql',
  'xss',
  'crlf',
  'methods',
  'backup',
  'htaccess',
  'csrf',
].join(',');

// Entry points the crawler cannot find by itself (the portal is a single-page app, the relay a
// JSON API): every GET route, with query parameters for the attack modules to vary.
const PORTAL_PATHS = [
  '/',
  '/login',
  '/invite/abc',
  '/reset?token=abc',
  '/api/session',
  '/api/me',
  '/api/me/sessions',
  '/api/status',
  '/api/status/system',
  '/api/tenants',
  '/api/audit?q=x&actor=a&action=b&limit=5',
  '/api/audit.csv?q=x&limit=5',
  '/api/adv?locale=de',
  '/api/adv/status',
  '/api/adv/acceptances?tenant=demo-merchant',
  '/api/adv/tenants',
  '/api/certificates',
  '/api/certificates/current',
  '/api/privacy/consents',
  '/api/privacy/export',
  '/api/privacy/erasures',
  '/api/register',
  '/api/sso/providers',
  '/api/partner/meta',
  '/api/partner/events?since=1',
  '/api/onboarding/terms?locale=de',
  '/api/onboarding/applications',
  '/api/licenses?tenant=demo-merchant',
  '/api/users?tenant=demo-merchant',
  '/api/alerts?tenant=demo-merchant',
];
const RELAY_PATHS = [
  '/',
  '/v1/status',
  '/v1/mailbox?limit=10&wait=0',
  '/v1/connections/counterpart/credentials',
  '/internal/portal/v1/stats?tenant=demo-merchant',
];

function log(text) {
  process.stdout.write(`${text}\n`);
}

function readTriage() {
  const doc = JSON.parse(readFileSync(triagePath, 'utf8'));
  const entries = doc.entries ?? [];
  const problems = [];
  for (const [i, e] of entries.entries()) {
    if (!e.module || !e.path || !['fixed', 'not-applicable'].includes(e.verdict))
      problems.push(`entry ${i}: needs module, path and verdict fixed|not-applicable`);
    else if (typeof e.reason !== 'string' || e.reason.trim().length < 10)
      problems.push(`entry ${i} (${e.module} ${e.path}): needs a reason`);
    try {
      // eslint-disable-next-line security/detect-non-literal-regexp -- patterns from the reviewed triage file in this repository
      e.re = new RegExp(e.path);
      // eslint-disable-next-line security/detect-non-literal-regexp -- patterns from the reviewed triage file in this repository
      e.infoRe = e.info === undefined ? undefined : new RegExp(e.info);
    } catch (error) {
      problems.push(`entry ${i}: bad path pattern: ${error.message}`);
    }
  }
  if (problems.length) throw new Error(`security/dast-triage.json:\n  ${problems.join('\n  ')}`);
  return entries;
}

function runWapiti(target, baseUrl, paths, caPath, headers, sessionDir, seconds) {
  const out = join(reportDir, `${target}.json`);
  const args = [
    '-u',
    `${baseUrl}/`,
    '--scope',
    'folder',
    ...paths.flatMap((p) => ['-s', `${baseUrl}${p}`]),
    ...headers.flatMap((h) => ['-H', h]),
    '-m',
    MODULES,
    '--verify-ssl',
    '1',
    '--max-scan-time',
    String(seconds),
    '--max-attack-time',
    String(attackSeconds),
    '-t',
    '10',
    '--no-bugreport',
    '--flush-session',
    '--store-session',
    sessionDir,
    '-f',
    'json',
    '-o',
    out,
    '-v',
    '1',
  ];
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(wapiti, args, {
      // Verification on, against the dev CA only (requests reads REQUESTS_CA_BUNDLE).
      env: { ...env, REQUESTS_CA_BUNDLE: caPath, SSL_CERT_FILE: caPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const lines = [];
    const keep = (d) => lines.push(d.toString());
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // wapiti stops itself at --max-scan-time; this is the backstop.
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      const text = lines.join('');
      writeFileSync(join(reportDir, `${target}.log`), text);
      const seconds = (Date.now() - started) / 1000;
      if (code !== 0)
        return fail(new Error(`wapiti (${target}) exited ${code}:\n${text.slice(-3000)}`));
      if (/SSL|CERTIFICATE_VERIFY_FAILED/i.test(text) && /\[!\].*(ssl|certificate)/i.test(text))
        return fail(new Error(`wapiti (${target}) could not verify TLS:\n${text.slice(-3000)}`));
      const report = JSON.parse(readFileSync(out, 'utf8'));
      done({ report, seconds, text });
    });
  });
}

function findingsOf(target, report) {
  const out = [];
  for (const kind of ['vulnerabilities', 'anomalies'])
    for (const [module, list] of Object.entries(report[kind] ?? {}))
      for (const f of list)
        out.push({
          target,
          kind: kind === 'vulnerabilities' ? 'vulnerability' : 'anomaly',
          module,
          level: f.level,
          method: f.method,
          path: f.path,
          parameter: f.parameter,
          info: f.info,
        });
  return out;
}

function triage(findings, entries) {
  for (const f of findings) {
    const entry = entries.find(
      (e) =>
        e.module === f.module &&
        (!e.target || e.target === f.target) &&
        e.re.test(f.path) &&
        (!e.infoRe || e.infoRe.test(f.info ?? '')),
    );
    f.verdict = entry?.verdict ?? 'untriaged';
    if (entry) f.reason = entry.reason;
  }
  return findings;
}

async function main() {
  const t0 = started;
  const watchdog = setTimeout(() => {
    console.error(`dast: exceeded its budget of ${totalSeconds} s (DAST_TOTAL_SECONDS); stopping`);
    for (const child of running) child.kill('SIGKILL');
    const stopped = runningStack ? runningStack.stop() : Promise.resolve();
    stopped.finally(() => process.exit(1));
  }, totalSeconds * 1000);
  watchdog.unref();
  const version = spawnSync(wapiti, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    console.error(
      `dast: ${wapiti} not found. Install Debian's wapiti: apt-get install -y wapiti (CI lists it in APT_PACKAGES).`,
    );
    return 1;
  }
  const entries = readTriage();
  mkdirSync(reportDir, { recursive: true });
  log('dast: starting relay and portal (embedded databases, free ports, dev CA)…');
  let stack;
  try {
    stack = await startStack();
  } catch (error) {
    // One retry: a start can fail for reasons unrelated to security (e.g. a port taken between
    // choosing it and binding it). The first failure is kept for inspection.
    writeFileSync(join(reportDir, 'start-failure.log'), String(error.stack ?? error));
    log('dast: the first start failed (see .reports/dast/start-failure.log); trying once more');
    stack = await startStack();
  }
  runningStack = stack;
  let findings = [];
  const timings = {};
  try {
    timings.startSeconds = (Date.now() - t0) / 1000;
    log(
      `dast: relay ${stack.relayUrl}, portal ${stack.portalUrl} (${timings.startSeconds.toFixed(0)} s)`,
    );
    const invitation = /\/invite\/([A-Za-z0-9_-]+)/.exec(stack.portalOutput())?.[1];
    if (!invitation)
      throw new Error('dast: the portal printed no invitation for the first administrator');
    const ca = readFileSync(stack.caPath, 'utf8');
    const session = await adminSession(stack.portalUrl, ca, invitation);
    log(`dast: signed in to the portal as ${session.user.email} (${session.user.role}, TOTP)`);
    const sessionDir = join(stack.dataDir, 'wapiti');
    const portal = await runWapiti(
      'portal',
      stack.portalUrl,
      PORTAL_PATHS,
      stack.caPath,
      [`Cookie: ${session.cookie}`, `X-CSRF-Token: ${session.csrf}`, `Origin: ${stack.portalUrl}`],
      sessionDir,
      scanBudget(2),
    );
    timings.portalSeconds = portal.seconds;
    log(`dast: portal scanned in ${portal.seconds.toFixed(0)} s`);
    // Still signed in after the scan? If not, part of the scan ran without a session.
    timings.portalSessionHeld = await signedIn(stack.portalUrl, ca, session.cookie);
    log(
      timings.portalSessionHeld
        ? 'dast: the portal session was still valid after the scan'
        : 'dast: WARNING: the portal session ended during the scan; later requests were unauthenticated',
    );
    const relayScan = await runWapiti(
      'relay',
      stack.relayUrl,
      RELAY_PATHS,
      stack.caPath,
      [],
      sessionDir,
      scanBudget(1),
    );
    timings.relaySeconds = relayScan.seconds;
    log(`dast: relay scanned in ${relayScan.seconds.toFixed(0)} s`);
    findings = [...findingsOf('portal', portal.report), ...findingsOf('relay', relayScan.report)];
  } finally {
    await stack.stop();
  }
  triage(findings, entries);
  timings.totalSeconds = (Date.now() - t0) / 1000;
  writeFileSync(
    join(reportDir, 'triage.json'),
    `${JSON.stringify({ date: new Date().toISOString(), timings, findings }, null, 2)}\n`,
  );

  const groups = new Map();
  for (const f of findings) {
    const key = `${f.verdict}|${f.target}|${f.kind}|${f.module}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  log(`\ndast: ${findings.length} findings (${(timings.totalSeconds).toFixed(0)} s in all)`);
  for (const [key, list] of [...groups].sort()) {
    const [verdict, target, kind, module] = key.split('|');
    log(`  ${verdict.padEnd(15)} ${target.padEnd(7)} ${kind.padEnd(13)} ${module} ×${list.length}`);
  }
  const bad = findings.filter((f) => f.verdict !== 'not-applicable');
  if (bad.length > 0) {
    console.error(
      '\ndast: findings that are not triaged as not-applicable in security/dast-triage.json:',
    );
    for (const f of bad)
      console.error(`  [${f.verdict}] ${f.target} ${f.module}: ${f.method} ${f.path} — ${f.info}`);
    console.error('Fix them, or add a triage entry with the reason (see docs/security.md, DAST).');
    return 1;
  }
  log('dast: passed (reports in .reports/dast/)');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`dast: ${error.stack ?? error}`);
    process.exitCode = 1;
  },
);
