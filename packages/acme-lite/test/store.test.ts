import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryFolder, FileCertificateStore } from '../src/node.ts';
import { makeCa } from './pebble-harness.ts';

const LE = 'https://acme-v02.api.letsencrypt.org/directory';

function issued(dir: string, names: string[], orderId: string) {
  const { certPem, keyPem, caPem } = makeCa(dir, names);
  return {
    orderUrl: `https://acme-v02.api.letsencrypt.org/acme/order/123/${orderId}`,
    identifiers: names,
    certPem,
    chainPem: caPem,
    keyPem,
  };
}

describe('directoryFolder', () => {
  it('reverses the host; a port is appended with _', () => {
    expect(directoryFolder(LE)).toBe('org.letsencrypt.api.acme-v02');
    expect(directoryFolder('https://acme-staging-v02.api.letsencrypt.org/directory')).toBe(
      'org.letsencrypt.api.acme-staging-v02',
    );
    expect(directoryFolder('https://127.0.0.1:14000/dir')).toBe('1.0.0.127_14000');
    expect(directoryFolder('https://[::1]:14000/dir')).toBe('--1_14000');
  });
});

describe('FileCertificateStore', () => {
  it('writes letsencrypt/org.letsencrypt.api.acme-v02/orders/<id>/{cert,key,chain,meta} with a 0600 key', async () => {
    const root = mkdtempSync(join(tmpdir(), 'acme-lite-store-'));
    const store = new FileCertificateStore({ root });
    const stored = await store.save(
      issued(mkdtempSync(join(tmpdir(), 'ca-')), ['example.org', 'www.example.org'], '4711'),
    );
    const dir = join(root, 'letsencrypt', 'org.letsencrypt.api.acme-v02', 'orders', '4711');
    expect(stored.dir).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual(['cert.pem', 'chain.pem', 'key.pem', 'meta.json']); // no temp files left
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({
      domains: ['example.org', 'www.example.org'],
      orderUrl: expect.stringContaining('/4711'),
      serial: stored.meta.serial,
    });
    expect(Date.parse(meta.notAfter)).toBeGreaterThan(Date.now());
    const report = await store.show('www.example.org');
    expect(report).toMatchObject({
      id: '4711',
      subject: 'CN=example.org',
      issuer: 'CN=acme-lite test CA',
      sans: ['example.org', 'www.example.org'],
    });
    expect(report?.daysLeft).toBe(1);
    expect((await store.show('4711'))?.certPath).toBe(join(dir, 'cert.pem'));
  });

  it('current() picks the newest valid one; expired and deleted ones are skipped', async () => {
    const root = mkdtempSync(join(tmpdir(), 'acme-lite-store-'));
    const store = new FileCertificateStore({ root });
    const a = await store.save(issued(mkdtempSync(join(tmpdir(), 'ca-')), ['a.example'], '1'));
    await new Promise((r) => setTimeout(r, 1100)); // notBefore has one-second resolution
    const b = await store.save(issued(mkdtempSync(join(tmpdir(), 'ca-')), ['a.example'], '2'));
    expect((await store.list()).map((s) => s.id)).toEqual(['2', '1']);
    expect((await store.current('A.example'))?.id).toBe(b.id);
    expect(await store.current('a.example', Date.now() + 3 * 86_400_000)).toBeUndefined();
    expect(await store.delete('2')).toBe(true);
    expect(await store.delete('2')).toBe(false);
    expect((await store.current('a.example'))?.id).toBe(a.id);
    expect(await store.current('b.example')).toBeUndefined();
    await expect(store.delete('../../etc')).rejects.toMatchObject({ code: 'ERR_ACME_STORE' });
  });

  it('locks per domain: a second taker fails, a stale lock of a dead process is taken over', async () => {
    const root = mkdtempSync(join(tmpdir(), 'acme-lite-lock-'));
    const store = new FileCertificateStore({ root });
    const release = await store.lock('example.org');
    await expect(store.lock('example.org')).rejects.toMatchObject({ code: 'ERR_ACME_LOCKED' });
    const other = await store.lock('other.example');
    await other();
    await release();
    await (await store.lock('example.org'))();

    // A lock left by a process that is gone:
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(
      join(store.base, 'locks', 'example.org.lock'),
      JSON.stringify({ pid: Number(dead.stdout), time: Date.now() }),
    );
    const taken = await store.lock('example.org');
    await taken();
    // A lock held too long is stale too:
    const old = new FileCertificateStore({ root, staleLockMs: 10 });
    writeFileSync(
      join(store.base, 'locks', 'example.org.lock'),
      JSON.stringify({ pid: process.pid, time: Date.now() - 1000 }),
    );
    await (await old.lock('example.org'))();
  });

  it('another process holding the lock blocks us (two processes never order at once)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'acme-lite-lock2-'));
    const store = new FileCertificateStore({ root });
    const lockFile = join(store.base, 'locks', 'example.org.lock');
    execFileSync('mkdir', ['-p', join(store.base, 'locks')]);
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(lockFile)}, JSON.stringify({pid: process.pid, time: Date.now()}), {flag: 'wx'}); console.log('locked'); setTimeout(() => {}, 5000)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => child.stdout?.once('data', r));
    try {
      await expect(store.lock('example.org')).rejects.toMatchObject({ code: 'ERR_ACME_LOCKED' });
    } finally {
      child.kill();
      await new Promise((r) => child.once('exit', r));
    }
    await (await store.lock('example.org'))(); // its process is gone now
  });

  it('keeps the account key 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'acme-lite-acct-'));
    const store = new FileCertificateStore({ root });
    expect(await store.loadAccount()).toBeUndefined();
    await store.saveAccount({
      url: 'https://ca/acct/1',
      privateJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
    });
    expect(statSync(join(store.base, 'account.json')).mode & 0o777).toBe(0o600);
    expect((await store.loadAccount())?.url).toBe('https://ca/acct/1');
  });
});

describe('FileCertificateStore options', () => {
  it('regression: new FileCertificateStore({}) failed later with a raw path TypeError', () => {
    const refused = (options: unknown, message: RegExp) =>
      expect(() => new FileCertificateStore(options as never)).toThrow(
        expect.objectContaining({
          code: 'ERR_ACME_INVALID_ARGUMENT',
          message: expect.stringMatching(message),
        }),
      );
    refused({}, /FileCertificateStore needs root/);
    refused(undefined, /FileCertificateStore needs root/);
    refused(
      { root: '/tmp/x', directoryUrl: 'staging' },
      /directoryUrl must be the ACME directory URL/,
    );
    refused({ root: '/tmp/x', staleLockMs: -1 }, /staleLockMs must be a number of milliseconds/);
    expect(new FileCertificateStore({ root: '/tmp/x' }).directoryUrl).toMatch(/^https:\/\//);
  });
});
