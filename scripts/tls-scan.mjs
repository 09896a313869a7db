#!/usr/bin/env node
// TLS gate: Debian's sslscan against the relay's HTTPS listener, its admin gRPC API and the
// portal, started on loopback as for the DAST run (scripts/dast/start.mjs). Fails when a server
// accepts a protocol older than TLS 1.2, a suite without AEAD (CBC, stream), a CCM8 suite
// (64-bit tag) or a suite without forward secrecy (static RSA key exchange, PSK, anonymous).
// sslscan's XML (`--xml=-`) is parsed; the reports are kept in `.reports/tls-scan/`.
//
//   node scripts/tls-scan.mjs                       start relay and portal, scan the three, stop
//   node scripts/tls-scan.mjs <name>=<host>:<port>… scan running servers only
//
// Environment: SSLSCAN — the sslscan executable (default `sslscan`, Debian package `sslscan`).
// Exit codes: 0 every target passes, 1 findings, 2 the scanner is missing or a scan failed.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reportDir = join(root, '.reports', 'tls-scan');
const env = process.env;

/** The attributes of one XML start tag, e.g. `<cipher status="accepted" …/>`. */
function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([\w-]+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

/**
 * sslscan's XML report as `{ host, port, protocols, ciphers, errors }`: `protocols` are
 * `{ name: 'TLSv1.2', enabled }`, `ciphers` the accepted and preferred suites
 * `{ sslversion, cipher, status }`.
 */
export function parseSslscanXml(xml) {
  const test = /<ssltest\b[^>]*>/.exec(xml);
  const errors = [...xml.matchAll(/<error>(?:<!\[CDATA\[)?([\s\S]*?)(?:\]\]>)?<\/error>/g)].map(
    (m) => m[1].trim(),
  );
  const protocols = [...xml.matchAll(/<protocol\b[^>]*>/g)].map((m) => {
    const a = attributes(m[0]);
    const name = a.type === 'ssl' ? `SSLv${a.version}` : `TLSv${a.version}`;
    return { name, enabled: a.enabled === '1' };
  });
  const ciphers = [...xml.matchAll(/<cipher\b[^>]*>/g)]
    .map((m) => attributes(m[0]))
    .filter((a) => a.status === 'accepted' || a.status === 'preferred')
    .map((a) => ({ sslversion: a.sslversion, cipher: a.cipher, status: a.status }));
  const t = test ? attributes(test[0]) : {};
  return { host: t.host, port: t.port ? Number(t.port) : undefined, protocols, ciphers, errors };
}

const ALLOWED_PROTOCOLS = new Set(['TLSv1.2', 'TLSv1.3']);

/** Why a suite is not acceptable, or undefined. Names as OpenSSL/sslscan print them. */
export function weakness(sslversion, cipher) {
  if (!ALLOWED_PROTOCOLS.has(sslversion)) return `${sslversion} is older than TLS 1.2`;
  if (sslversion === 'TLSv1.3') {
    // Every TLS 1.3 suite is AEAD with (EC)DHE; only CCM_8 has a short tag.
    return /CCM_8/.test(cipher) ? 'CCM8: 64-bit authentication tag' : undefined;
  }
  if (/CCM8/.test(cipher)) return 'CCM8: 64-bit authentication tag';
  if (!/-GCM-|CHACHA20-POLY1305|-CCM$/.test(cipher)) return 'not AEAD (CBC or stream cipher)';
  if (!/^(ECDHE|DHE)-/.test(cipher) || /PSK|ADH|AECDH|NULL/.test(cipher))
    return 'no forward secrecy (static key exchange)';
  return undefined;
}

/** The findings of one parsed report (empty: it passes). */
export function judge(report) {
  const findings = [];
  for (const error of report.errors) findings.push(`scan error: ${error}`);
  for (const p of report.protocols)
    if (p.enabled && !ALLOWED_PROTOCOLS.has(p.name)) findings.push(`accepts ${p.name}`);
  for (const c of report.ciphers) {
    const why = weakness(c.sslversion, c.cipher);
    if (why) findings.push(`accepts ${c.sslversion} ${c.cipher}: ${why}`);
  }
  if (report.errors.length === 0 && report.ciphers.length === 0)
    findings.push('scan error: no suite accepted at all (is the server up and speaking TLS?)');
  return findings;
}

/** Runs sslscan against `host:port` and resolves to its XML (rejects when it cannot run). */
export function runSslscan(host, port, options = {}) {
  const sslscan = options.sslscan ?? env.SSLSCAN ?? 'sslscan';
  const args = [
    '--xml=-',
    '--no-colour',
    '--no-heartbleed',
    '--no-compression',
    '--no-groups',
    '--no-check-certificate',
    ...(options.sni ? [`--sni-name=${options.sni}`] : []),
    `${host}:${port}`,
  ];
  return new Promise((done, fail) => {
    const child = spawn(sslscan, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', (error) =>
      fail(
        error.code === 'ENOENT'
          ? new Error(`${sslscan} not found: install it (apt-get install sslscan) or set SSLSCAN`)
          : error,
      ),
    );
    child.on('close', (code) => {
      const xml = Buffer.concat(out).toString('utf8');
      if (code !== 0 && !xml.includes('<document'))
        fail(new Error(`${sslscan} exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
      else done(xml);
    });
  });
}

/** Scans each `{ name, host, port, sni? }` in turn; returns `{ name, report, findings }[]`. */
export async function scanTargets(targets, options = {}) {
  const results = [];
  for (const t of targets) {
    const xml = await runSslscan(t.host, t.port, { ...options, sni: t.sni });
    if (options.reportDir) {
      mkdirSync(options.reportDir, { recursive: true });
      writeFileSync(join(options.reportDir, `${t.name.replace(/\W+/g, '-')}.xml`), xml);
    }
    const report = parseSslscanXml(xml);
    results.push({ name: t.name, report, findings: judge(report) });
  }
  return results;
}

function parseTargetArg(arg) {
  const m = /^([\w-]+)=(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$/.exec(arg);
  if (!m) throw new Error(`target ${arg}: expected <name>=<host>:<port>`);
  return { name: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) };
}

async function main(argv) {
  let targets = argv.map(parseTargetArg);
  let stack;
  if (targets.length === 0) {
    const { startStack } = await import('./dast/start.mjs');
    process.stdout.write('starting relay and portal on loopback …\n');
    stack = await startStack();
    const tokens = JSON.parse(
      readFileSync(join(stack.dataDir, 'relay', 'dev-tokens.json'), 'utf8'),
    );
    const relay = new URL(stack.relayUrl);
    const portal = new URL(stack.portalUrl);
    targets = [
      { name: 'relay-https', host: '127.0.0.1', port: Number(relay.port) },
      { name: 'relay-admin-grpc', host: '127.0.0.1', port: Number(tokens.adminPort) },
      { name: 'portal-https', host: '127.0.0.1', port: Number(portal.port), sni: 'localhost' },
    ];
  }
  let results;
  try {
    results = await scanTargets(targets, { reportDir });
  } finally {
    await stack?.stop();
  }
  let failed = false;
  let scanError = false;
  for (const r of results) {
    const accepted = r.report.ciphers.map((c) => `${c.sslversion} ${c.cipher}`);
    process.stdout.write(
      `${r.name}: protocols ${
        r.report.protocols
          .filter((p) => p.enabled)
          .map((p) => p.name)
          .join(', ') || '-'
      }; ${accepted.length} suites accepted\n`,
    );
    for (const f of r.findings) {
      process.stdout.write(`  FAIL ${f}\n`);
      if (f.startsWith('scan error')) scanError = true;
    }
    if (r.findings.length > 0) failed = true;
  }
  process.stdout.write(
    failed
      ? 'TLS scan FAILED: see above (reports in .reports/tls-scan/)\n'
      : 'TLS scan passed: TLS 1.2+ only, AEAD suites with forward secrecy only\n',
  );
  return scanError ? 2 : failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`tls-scan: ${error.message}\n`);
      process.exitCode = 2;
    },
  );
}
