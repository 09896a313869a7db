import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingDependency } from '@fluxel/internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.ts';
import { directoryFolder } from '../src/node.ts';
import { type Pebble, pebbleAvailable, startPebble } from './pebble-harness.ts';
import { startStandIn } from './standin.ts';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('fluxel-acme usage', () => {
  it('regression: an order id beginning with "-" is taken as an id after "--", not as options', async () => {
    const usage = await run('delete', '-AbCdEf123');
    expect(usage.code).toBe(2);
    const afterSeparator = await run(
      'delete',
      '--store',
      mkdtempSync(join(tmpdir(), 'acme-cli-dash-')),
      '--',
      '-AbCdEf123',
    );
    expect(afterSeparator.code).toBe(1);
    expect(afterSeparator.err).toContain('no certificate for -AbCdEf123');
  });

  it('answers --help and --version (exit 0, on stdout)', async () => {
    const version = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ).version;
    for (const flag of ['--help', '-h', 'help'])
      expect(await run(flag)).toMatchObject({ code: 0, out: expect.stringContaining('usage:') });
    for (const flag of ['--version', '-v', 'version'])
      expect(await run(flag)).toEqual({ code: 0, out: `fluxel-acme ${version}`, err: '' });
  });

  it('regression: --help after a command ("fluxel-acme issue --help") was an unknown option, exit 2', async () => {
    for (const argv of [
      ['issue', '--help'],
      ['show', 'example.org', '-h'],
      ['renew', '--store', '/nonexistent', '--help'],
    ])
      expect(await run(...argv)).toMatchObject({
        code: 0,
        out: expect.stringContaining('usage:'),
        err: '',
      });
    expect(await run('account', '--version')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^fluxel-acme \d/),
    });
    // After "--" it is an operand (an order id may begin with "-"), not a flag.
    expect(
      (await run('show', '--store', mkdtempSync(join(tmpdir(), 'cli-')), '--', '--help')).code,
    ).toBe(1);
  });

  it('exits 2 with the usage on bad input', async () => {
    expect(await run()).toMatchObject({ code: 2, err: expect.stringContaining('usage:') });
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('issue', '--store', mkdtempSync(join(tmpdir(), 'cli-')))).err).toMatch(
      /at least one domain/,
    );
    expect((await run('show', '--bogus')).code).toBe(2);
    expect((await run('account', '--staging', '--directory', 'https://x/dir')).err).toMatch(
      /exclude/,
    );
  });

  it('reports a missing certificate as ERR_ACME_STORE (exit 1), also as JSON', async () => {
    const store = mkdtempSync(join(tmpdir(), 'cli-'));
    expect(await run('show', 'example.org', '--store', store)).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^ERR_ACME_STORE/),
    });
    const json = await run('delete', 'example.org', '--store', store, '--json');
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, code: 'ERR_ACME_STORE' });
    expect((await run('show', '--store', store)).out).toMatch(/no certificates/);
  });
});

describe('fluxel-acme against the stand-in CA', () => {
  it('issues with a profile, renew follows the CA ARI window, show and delete find it without --directory', async () => {
    const ca = await startStandIn();
    const store = mkdtempSync(join(tmpdir(), 'cli-standin-'));
    const common = ['--directory', ca.directoryUrl, '--store', store, '--http-port', '0'];
    try {
      const issued = await run(
        'issue',
        'standin.test',
        '--email',
        'ops@example.org',
        '--profile',
        'shortlived',
        ...common,
        '--json',
      );
      expect(issued.code, issued.out).toBe(0);
      expect(JSON.parse(issued.out).meta.profile).toBe('shortlived');
      const renew = JSON.parse((await run('renew', ...common, '--json')).out);
      expect(renew.results[0]).toMatchObject({ domain: 'standin.test', renewed: false });
      const due = Date.parse(renew.results[0].dueAt);
      // the stand-in certificate lives 7 days (one third left = day 4.67); ARI says day 5–6
      expect(due).toBeGreaterThanOrEqual(Date.parse(ca.window.start));
      expect(due).toBeLessThanOrEqual(Date.parse(ca.window.end));

      // Regression: show and delete without --directory looked only in the Let's Encrypt
      // production folder, so this certificate (from another CA) was "not found".
      const shown = await run('show', 'standin.test', '--store', store, '--json');
      expect(shown.code, shown.err).toBe(0);
      const [report] = JSON.parse(shown.out).certificates;
      expect(report.meta.directoryUrl).toBe(ca.directoryUrl);
      const all = JSON.parse((await run('show', '--store', store, '--json')).out);
      expect(all.certificates.map((c: { id: string }) => c.id)).toEqual([report.id]);
      const missing = await run('show', 'other.test', '--store', store);
      expect(missing.err).toContain(join(store, 'letsencrypt'));
      // It says where it looked: the production folder and the stand-in CA's.
      expect(missing.err).toContain(join(store, 'letsencrypt', 'org.letsencrypt.api.acme-v02'));
      expect(missing.err).toContain(join(store, 'letsencrypt', directoryFolder(ca.directoryUrl)));
      const deleted = await run('delete', 'standin.test', '--store', store, '--json');
      expect(deleted.code, deleted.err).toBe(0);
      expect(JSON.parse(deleted.out).deleted).toBe(report.id);
      expect((await run('show', '--store', store)).out).toMatch(/no certificates/);
    } finally {
      await ca.close();
    }
  });
});

const skip = pebbleAvailable()
  ? false
  : missingDependency('pebble and pebble-challtestsrv', 'apt-get install pebble');

describe.skipIf(skip)('fluxel-acme against Pebble', () => {
  let pebble: Pebble;
  let dir: string;
  let common: string[];
  beforeAll(async () => {
    pebble = await startPebble({ nonceReject: 10 });
    dir = mkdtempSync(join(tmpdir(), 'cli-pebble-'));
    writeFileSync(join(dir, 'listener-ca.pem'), pebble.listenerCa);
    writeFileSync(join(dir, 'root.pem'), await pebble.root());
    common = [
      '--directory',
      pebble.directoryUrl,
      '--ca',
      join(dir, 'listener-ca.pem'),
      '--store',
      dir,
      '--http-port',
      String(pebble.httpPort),
    ];
  });
  afterAll(() => pebble?.stop());

  it('account, issue, show, renew, evaluate, revoke, delete', async () => {
    const account = await run('account', '--email', 'ops@example.org', ...common, '--json');
    expect(account.code).toBe(0);
    expect(JSON.parse(account.out).accountUrl).toMatch(/^https:/);

    const issued = await run('issue', 'cli.example.org', '--email', 'ops@example.org', ...common);
    expect(issued.code, issued.err).toBe(0);
    expect(issued.err).toMatch(/… ordering[\s\S]*… validating cli\.example\.org[\s\S]*… storing/);
    expect(issued.out).toMatch(/orders\/[^/]+\/cert\.pem/);

    const shown = JSON.parse((await run('show', 'cli.example.org', ...common, '--json')).out);
    const [report] = shown.certificates;
    expect(report.sans).toEqual(['cli.example.org']);
    expect(existsSync(report.keyPath)).toBe(true);

    const notDue = await run('renew', ...common, '--json');
    expect(JSON.parse(notDue.out).results).toEqual([
      { domain: 'cli.example.org', renewed: false, dueAt: expect.any(String) },
    ]);
    const forced = JSON.parse(
      (await run('renew', 'cli.example.org', '--force', ...common, '--json')).out,
    );
    expect(forced.results[0]).toMatchObject({ renewed: true });
    expect(forced.results[0].serial).not.toBe(report.serial);

    // Serve the stored certificate and evaluate it.
    const current = JSON.parse((await run('show', 'cli.example.org', ...common, '--json')).out)
      .certificates[0];
    expect(
      execFileSync(
        'openssl',
        [
          'verify',
          '-CAfile',
          join(dir, 'root.pem'),
          '-untrusted',
          current.chainPath,
          current.certPath,
        ],
        { encoding: 'utf8' },
      ),
    ).toMatch(/OK/);
    const https = createServer({
      cert: readFileSync(current.certPath, 'utf8') + readFileSync(current.chainPath, 'utf8'),
      key: readFileSync(current.keyPath, 'utf8'),
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    const port = String((https.address() as { port: number }).port);
    try {
      const ok = await run(
        'evaluate',
        'cli.example.org',
        '--host',
        '127.0.0.1',
        '--port',
        port,
        '--trust',
        join(dir, 'root.pem'),
        ...common,
      );
      expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/^OK: .*serial/) });
      const notTrusted = await run(
        'evaluate',
        'cli.example.org',
        '--host',
        '127.0.0.1',
        '--port',
        port,
        ...common,
        '--json',
      );
      expect(notTrusted.code).toBe(1);
      expect(JSON.parse(notTrusted.out)).toMatchObject({ ok: false, trusted: false });
    } finally {
      https.closeAllConnections();
      await new Promise((r) => https.close(r));
    }

    const revoked = await run('revoke', 'cli.example.org', '--reason', '1', ...common);
    expect(revoked).toMatchObject({ code: 0, out: expect.stringContaining(current.serial) });
    // Order ids are random base64url and may begin with "-": "--" ends the options.
    const deleted = await run('delete', ...common, '--', current.id);
    expect(deleted.code).toBe(0);
    expect(existsSync(current.certPath)).toBe(false);
    expect(existsSync(current.keyPath)).toBe(false);
  });
});
