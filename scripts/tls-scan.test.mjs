/**
 * Self-test of scripts/tls-scan.mjs: its judgement of sslscan reports, and real sslscan runs
 * against local Node TLS servers — Node's default suites (CBC, CCM8) fail, TLS 1.0 fails, a
 * static-RSA suite (no forward secrecy) fails, the AEAD + ECDHE policy passes.
 * Run: node --test scripts/tls-scan.test.mjs (sslscan required under CI=true).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { judge, parseSslscanXml, scanTargets, weakness } from './tls-scan.mjs';

const POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'TLS_AES_128_GCM_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
};

const report = (protocols, ciphers) => `<?xml version="1.0" encoding="UTF-8"?>
<document title="SSLScan Results" version="2.0.7">
 <ssltest host="127.0.0.1" sniname="127.0.0.1" port="8443">
${protocols.map(([type, version, on]) => `  <protocol type="${type}" version="${version}" enabled="${on}" />`).join('\n')}
${ciphers.map(([v, c, s = 'accepted']) => `  <cipher status="${s}" sslversion="${v}" bits="128" cipher="${c}" id="0x0" strength="strong" />`).join('\n')}
 </ssltest>
</document>`;

const MODERN = [
  ['ssl', '3', 0],
  ['tls', '1.0', 0],
  ['tls', '1.1', 0],
  ['tls', '1.2', 1],
  ['tls', '1.3', 1],
];

describe('judging sslscan reports', () => {
  test('AEAD suites with ECDHE on TLS 1.2 and 1.3 pass', () => {
    const r = parseSslscanXml(
      report(MODERN, [
        ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'preferred'],
        ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'preferred'],
        ['TLSv1.2', 'ECDHE-RSA-CHACHA20-POLY1305'],
      ]),
    );
    assert.equal(r.ciphers.length, 3);
    assert.deepEqual(judge(r), []);
  });

  test('CBC, CCM8, static RSA, and TLS 1.1 are findings', () => {
    const protocols = MODERN.map((p) => (p[1] === '1.1' ? ['tls', '1.1', 1] : p));
    const findings = judge(
      parseSslscanXml(
        report(protocols, [
          ['TLSv1.2', 'ECDHE-ECDSA-AES128-SHA256'],
          ['TLSv1.2', 'ECDHE-ECDSA-AES128-CCM8'],
          ['TLSv1.2', 'AES128-GCM-SHA256'],
          ['TLSv1.3', 'TLS_AES_128_CCM_8_SHA256'],
          ['TLSv1.1', 'ECDHE-RSA-AES128-SHA'],
        ]),
      ),
    );
    assert.deepEqual(findings, [
      'accepts TLSv1.1',
      'accepts TLSv1.2 ECDHE-ECDSA-AES128-SHA256: not AEAD (CBC or stream cipher)',
      'accepts TLSv1.2 ECDHE-ECDSA-AES128-CCM8: CCM8: 64-bit authentication tag',
      'accepts TLSv1.2 AES128-GCM-SHA256: no forward secrecy (static key exchange)',
      'accepts TLSv1.3 TLS_AES_128_CCM_8_SHA256: CCM8: 64-bit authentication tag',
      'accepts TLSv1.1 ECDHE-RSA-AES128-SHA: TLSv1.1 is older than TLS 1.2',
    ]);
  });

  test('a scan that reached nothing is an error, not a pass', () => {
    const xml =
      '<document><error><![CDATA[Could not open a connection to host 127.0.0.1]]></error></document>';
    assert.deepEqual(judge(parseSslscanXml(xml)), [
      'scan error: Could not open a connection to host 127.0.0.1',
    ]);
    assert.match(judge(parseSslscanXml(report(MODERN, [])))[0], /no suite accepted/);
  });

  test('weakness() names each class', () => {
    assert.equal(weakness('TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384'), undefined);
    assert.equal(weakness('TLSv1.2', 'DHE-RSA-AES256-GCM-SHA384'), undefined);
    assert.match(weakness('TLSv1.2', 'ECDHE-PSK-CHACHA20-POLY1305'), /forward secrecy/);
    assert.match(weakness('TLSv1.0', 'ECDHE-RSA-AES128-SHA'), /older/);
  });
});

const env = process.env;
const haveSslscan = spawnSync(env.SSLSCAN ?? 'sslscan', ['--version']).status === 0;
if (!haveSslscan && env.CI === 'true')
  throw new Error('sslscan is missing: apt-get install sslscan (required under CI=true)');

describe('sslscan against local servers', { skip: !haveSslscan && 'sslscan not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-tls-scan-'));
  const servers = [];
  const ports = {};
  const pem = (name) => readFileSync(join(dir, name), 'utf8');
  const listen = async (name, options) => {
    const server = createServer(options, (_req, res) => res.end('ok'));
    await new Promise((done) => server.listen(0, '127.0.0.1', done));
    servers.push(server);
    ports[name] = server.address().port;
  };

  before(async () => {
    const openssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        'ec.key',
        '-out',
        'ec.pem',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
      ]),
    );
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key'].concat([
        '-out',
        'rsa.pem',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
      ]),
    );
    const ec = { key: pem('ec.key'), cert: pem('ec.pem') };
    await listen('nodeDefaults', ec);
    await listen('policy', { ...ec, ...POLICY });
    await listen('tls10', { ...ec, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
    await listen('staticRsa', {
      key: pem('rsa.key'),
      cert: pem('rsa.pem'),
      ciphers: 'TLS_AES_128_GCM_SHA256:AES128-GCM-SHA256',
    });
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const scan = async (name) =>
    (await scanTargets([{ name, host: '127.0.0.1', port: ports[name] }]))[0].findings;

  test("Node's default suites fail: CBC and CCM8", async () => {
    const findings = await scan('nodeDefaults');
    assert.ok(
      findings.some((f) => /AES128-SHA256: not AEAD/.test(f)),
      findings.join('\n'),
    );
    assert.ok(
      findings.some((f) => /CCM8/.test(f)),
      findings.join('\n'),
    );
  });

  test('TLS 1.0 fails', async () => {
    assert.ok((await scan('tls10')).includes('accepts TLSv1.0'));
  });

  test('a static RSA key exchange fails (no forward secrecy)', async () => {
    assert.deepEqual(await scan('staticRsa'), [
      'accepts TLSv1.2 AES128-GCM-SHA256: no forward secrecy (static key exchange)',
    ]);
  });

  test('the AEAD + ECDHE policy passes', async () => {
    assert.deepEqual(await scan('policy'), []);
  });
});
