#!/usr/bin/env node
// Dependency vulnerability gate: `pnpm audit --prod --json` over the lockfile.
//
// - Fails (exit 1) on every high or critical advisory that is not in the reviewed allow-list
//   `security/audit-allowlist.json` (each entry: id, module, reason, expires as YYYY-MM-DD).
//   An expired or incomplete allow-list entry fails too: an exception must be re-reviewed.
// - Degrades to a clear warning (exit 0) when the advisory source cannot be reached or does not
//   answer (network error, timeout, non-200 answer such as a mirror without the audit
//   endpoint), so a registry outage never blocks a build; anything else that goes wrong fails.
//
// Environment (for tests and other registries):
//   FLUXEL_AUDIT_REGISTRY   registry whose audit endpoint is asked (default: pnpm's registry)
//   FLUXEL_AUDIT_ALLOWLIST  allow-list file (default: security/audit-allowlist.json)
//   FLUXEL_AUDIT_TIMEOUT_MS give up (with the warning) after this long (default 90000)
//   FLUXEL_AUDIT_STRICT=1   treat an unreachable advisory source as a failure
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const allowListPath = resolve(
  root,
  env.FLUXEL_AUDIT_ALLOWLIST ?? join('security', 'audit-allowlist.json'),
);
const timeoutMs = Number(env.FLUXEL_AUDIT_TIMEOUT_MS ?? 90_000);
const strict = env.FLUXEL_AUDIT_STRICT === '1';
const FAILING = new Set(['high', 'critical']);
// Error codes that mean "the advisory source did not answer", not "the check went wrong".
const UNREACHABLE = new Set([
  'ERR_PNPM_AUDIT_BAD_RESPONSE',
  'ERR_PNPM_FETCH_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

function today() {
  return new Date().toISOString().slice(0, 10);
}

/** Reads and checks the allow-list; returns the problems found and the usable entries. */
export function readAllowList(path) {
  const problems = [];
  let doc;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return { entries: [], problems: [`cannot read ${path}: ${error.message}`] };
  }
  const entries = Array.isArray(doc?.entries) ? doc.entries : undefined;
  if (!entries) return { entries: [], problems: [`${path}: expected { "entries": [...] }`] };
  const usable = [];
  for (const [i, entry] of entries.entries()) {
    const where = `${path} entry ${i} (${entry?.id ?? 'no id'})`;
    if (typeof entry?.id !== 'string' || entry.id === '') problems.push(`${where}: no id`);
    else if (typeof entry.module !== 'string' || entry.module === '')
      problems.push(`${where}: no module`);
    else if (typeof entry.reason !== 'string' || entry.reason.trim().length < 10)
      problems.push(`${where}: no reason (say why the advisory does not apply)`);
    else if (typeof entry.expires !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(entry.expires))
      problems.push(`${where}: no expiry date (YYYY-MM-DD)`);
    else if (entry.expires < today())
      problems.push(`${where}: expired on ${entry.expires}; review it again or remove it`);
    else usable.push(entry);
  }
  return { entries: usable, problems };
}

/** Runs `pnpm audit --prod --json`; resolves with { json, code, timedOut, stderr }. */
function runAudit() {
  const args = ['audit', '--prod', '--json'];
  if (env.FLUXEL_AUDIT_REGISTRY) args.push('--registry', env.FLUXEL_AUDIT_REGISTRY);
  return new Promise((resolvePromise, reject) => {
    // Retries would stretch an outage to minutes; one attempt with a bounded timeout.
    const child = spawn('pnpm', args, {
      cwd: root,
      env: {
        ...env,
        npm_config_fetch_retries: '1',
        npm_config_fetch_retry_mintimeout: '1000',
        npm_config_fetch_retry_maxtimeout: '5000',
        npm_config_fetch_timeout: String(Math.min(timeoutMs, 60_000)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolvePromise({ json, code, timedOut, stderr, stdout });
    });
  });
}

function warnUnreachable(why) {
  const text = [
    '',
    '!!! WARNING: dependency vulnerability check SKIPPED: the advisory source is unreachable.',
    `!!! ${why}`,
    '!!! The lockfile was NOT checked against advisories in this run. Run `pnpm audit:deps`',
    '!!! again when the registry answers (FLUXEL_AUDIT_STRICT=1 makes this a failure).',
    '',
  ].join('\n');
  console.warn(text);
  if (env.GITHUB_ACTIONS) console.warn(`::warning title=audit:deps skipped::${why}`);
}

async function main() {
  const started = Date.now();
  const allow = readAllowList(allowListPath);
  if (allow.problems.length > 0) {
    for (const p of allow.problems) console.error(`audit:deps: ${p}`);
    return 1;
  }

  const result = await runAudit();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.timedOut) {
    const why = `no answer within ${timeoutMs} ms`;
    if (strict) {
      console.error(`audit:deps: ${why}`);
      return 1;
    }
    warnUnreachable(why);
    return 0;
  }
  const error = result.json?.error;
  if (error) {
    const why = `${error.code}: ${error.message}`;
    if (UNREACHABLE.has(error.code) && !strict) {
      warnUnreachable(why);
      return 0;
    }
    console.error(`audit:deps: pnpm audit failed: ${why}`);
    return 1;
  }
  if (!result.json || typeof result.json.advisories !== 'object') {
    console.error(`audit:deps: unexpected output from pnpm audit (exit ${result.code})`);
    console.error((result.stderr || result.stdout).slice(0, 2000));
    return 1;
  }

  const advisories = Object.values(result.json.advisories ?? {});
  const allowed = new Map(allow.entries.map((e) => [String(e.id).toLowerCase(), e]));
  const used = new Set();
  const failing = [];
  const lower = [];
  for (const a of advisories) {
    const ids = [a.github_advisory_id, a.id, a.url, ...(a.cves ?? [])]
      .filter((x) => x !== undefined && x !== null)
      .map((x) => String(x).toLowerCase());
    const entry = ids.map((id) => allowed.get(id)).find(Boolean);
    const versions = [...new Set((a.findings ?? []).map((f) => f.version))].join(', ');
    const line = `${a.severity.padEnd(8)} ${a.module_name}@${versions}  ${a.github_advisory_id ?? a.id}  ${a.title}  ${a.url ?? ''}`;
    if (entry && entry.module === a.module_name) {
      used.add(entry);
      console.log(`allowed  ${line}\n         reason: ${entry.reason} (until ${entry.expires})`);
    } else if (FAILING.has(a.severity)) failing.push(line);
    else lower.push(line);
  }
  for (const l of lower) console.log(`note     ${l}`);
  for (const e of allow.entries)
    if (!used.has(e))
      console.log(`audit:deps: allow-list entry ${e.id} (${e.module}) matched nothing; remove it`);

  const counts = result.json.metadata?.vulnerabilities ?? {};
  console.log(
    `audit:deps: ${advisories.length} advisories (${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}), ${used.size} allowed, ${failing.length} failing, in ${seconds} s`,
  );
  if (failing.length > 0) {
    console.error('audit:deps: high/critical advisories not in security/audit-allowlist.json:');
    for (const l of failing) console.error(`  ${l}`);
    console.error(
      'Upgrade the dependency (or add an override), or add a reviewed allow-list entry with a reason and an expiry date.',
    );
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`audit:deps: ${error.stack ?? error}`);
      process.exitCode = 1;
    },
  );
}
