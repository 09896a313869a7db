/**
 * End to end against Pebble (Debian package `pebble`), the ACME test CA, with
 * pebble-challtestsrv answering DNS (every name → 127.0.0.1). The HTTP-01 handler is mounted
 * in a running node:http server on Pebble's validation port. The main Pebble rejects 50 % of
 * good nonces, so every test here also proves the badNonce retry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { missingDependency } from '@fluxel/internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcmeClient,
  generateAccountKey,
  importKeyPem,
  MemoryChallengeStore,
  parseCertificatePem,
} from '../src/index.ts';
import {
  acmeFetch,
  assertServing,
  challengeListener,
  evaluate,
  FileCertificateStore,
  hotReload,
  obtainCertificate,
  openAccount,
  RenewalManager,
  type StoredCertificate,
} from '../src/node.ts';
import { type Pebble, pebbleAvailable, startPebble } from './pebble-harness.ts';

const skip = pebbleAvailable()
  ? false
  : missingDependency('pebble, pebble-challtestsrv and openssl', 'apt-get install pebble openssl');

function servedSerial(port: number, ca: string, servername = 'example.org'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toLowerCase().replace(/^0+/, ''));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

function listen(server: Server | HttpsServer, port = 0): Promise<number> {
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    }),
  );
}

describe.skipIf(skip)('against Pebble (50 % nonce rejection)', () => {
  let pebble: Pebble;
  let app: Server;
  const challenges = new MemoryChallengeStore();
  const responses: { method: string; url: string; status: number }[] = [];
  let fetch_: typeof fetch;
  let root: string;
  let work: string;

  beforeAll(async () => {
    pebble = await startPebble({ nonceReject: 50 });
    fetch_ = acmeFetch({ ca: pebble.listenerCa, onResponse: (r) => responses.push(r) });
    // The application's own server, with the challenge handler mounted in front of its routes.
    app = createHttpServer(challengeListener(challenges, (_req, res) => res.end('the app')));
    await listen(app, pebble.httpPort);
    root = await pebble.root();
    work = mkdtempSync(join(tmpdir(), 'acme-lite-e2e-'));
    writeFileSync(join(work, 'root.pem'), root);
  });

  afterAll(async () => {
    await new Promise((r) => app?.close(r));
    await pebble?.stop();
  });

  const newClient = async () =>
    new AcmeClient({
      directoryUrl: pebble.directoryUrl,
      accountKey: (await generateAccountKey()).key,
      fetch: fetch_,
    });

  function opensslVerify(stored: { certPath: string; chainPath: string }): string {
    return execFileSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        join(work, 'root.pem'),
        '-untrusted',
        stored.chainPath,
        stored.certPath,
      ],
      { encoding: 'utf8' },
    );
  }

  it('creates an account, finds it again, and survives rejected nonces', async () => {
    const client = await newClient();
    const account = await client.createAccount({ contact: ['ops@example.org'] });
    expect(account.status).toBe('valid');
    expect(account.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    const again = new AcmeClient({
      directoryUrl: pebble.directoryUrl,
      accountKey: client.accountKey,
      fetch: fetch_,
    });
    // Each POST has a 50 % chance of a badNonce; keep going until one was seen (and retried).
    for (let i = 0; i < 40 && !responses.some((r) => r.status === 400); i++)
      expect((await again.findAccount()).url).toBe(account.url);
    expect(responses.some((r) => r.status === 400)).toBe(true);
    expect(responses.filter((r) => r.status === 400).length).toBeLessThan(responses.length);
  });

  it('issues for a DNS name into the store layout; openssl verifies it against Pebble root', async () => {
    const store = new FileCertificateStore({ root: work, directoryUrl: pebble.directoryUrl });
    const client = await openAccount({ store, email: 'ops@example.org', fetch: fetch_ });
    const stored = await obtainCertificate({
      client,
      store,
      domains: ['example.org', 'www.example.org'],
      challengeStore: challenges,
    });
    const port = new URL(pebble.directoryUrl).port;
    expect(stored.dir).toBe(join(work, 'letsencrypt', `1.0.0.127_${port}`, 'orders', stored.id));
    expect(statSync(stored.keyPath).mode & 0o777).toBe(0o600);
    expect(opensslVerify(stored)).toMatch(/cert\.pem: OK/);
    const report = await store.show('example.org');
    expect(report?.sans).toEqual(expect.arrayContaining(['example.org', 'www.example.org']));
    expect(report?.daysLeft).toBeGreaterThan(1);
    expect(challenges.size).toBe(0); // tokens removed after use
    // The account was created automatically and kept (key file 0600).
    expect((await store.loadAccount())?.url).toBe(client.accountUrl);
  });

  it('issues for an IP address (RFC 8738) with an RSA key', async () => {
    const client = await newClient();
    const issued = await client.issue({
      identifiers: ['127.0.0.1'],
      challengeStore: challenges,
      keyType: { type: 'rsa', bits: 2048 },
    });
    expect(parseCertificatePem(issued.certPem).sans).toEqual(['127.0.0.1']);
    expect(issued.keyPem).toMatch(/BEGIN PRIVATE KEY/);
    const dir = mkdtempSync(join(tmpdir(), 'acme-lite-ip-'));
    writeFileSync(join(dir, 'cert.pem'), issued.certPem);
    writeFileSync(join(dir, 'chain.pem'), issued.chainPem);
    const verified = execFileSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        join(work, 'root.pem'),
        '-untrusted',
        join(dir, 'chain.pem'),
        '-verify_ip',
        '127.0.0.1',
        join(dir, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(verified).toMatch(/cert\.pem: OK/);
  });

  it('fails with the validation problem when nobody answers the challenge', async () => {
    const client = await newClient();
    const silent = { set() {}, get: () => undefined, delete() {} };
    await expect(
      client.issue({ identifiers: ['nobody.example.org'], challengeStore: silent }),
    ).rejects.toMatchObject({ code: 'ERR_ACME_PROBLEM', message: /validation of nobody/ });
  });

  it('revokes with the account key and with the certificate key', async () => {
    const client = await newClient();
    for (const withCertKey of [false, true]) {
      const issued = await client.issue({
        identifiers: ['revoke.example.org'],
        challengeStore: challenges,
      });
      await client.revoke(
        issued.certPem,
        withCertKey ? { certKey: await importKeyPem(issued.keyPem), reason: 4 } : { reason: 1 },
      );
      const serial = parseCertificatePem(issued.certPem).serial;
      const res = await fetch(`${pebble.managementUrl}/cert-status-by-serial/${serial}`).catch(
        () => undefined,
      );
      // global fetch does not trust Pebble's listener: ask through our trusting fetch instead
      expect(res).toBeUndefined();
      const status = (await (
        await fetch_(`${pebble.managementUrl}/cert-status-by-serial/${serial}`)
      ).json()) as { Status: string };
      expect(status.Status).toBe('Revoked');
    }
  });

  it('rolls the account key over; the old key no longer finds the account', async () => {
    const client = await newClient();
    const { url } = await client.createAccount();
    const oldKey = client.accountKey;
    const next = (await generateAccountKey()).key;
    await client.rolloverKey(next);
    const withNew = new AcmeClient({
      directoryUrl: pebble.directoryUrl,
      accountKey: next,
      fetch: fetch_,
    });
    expect((await withNew.findAccount()).url).toBe(url);
    const withOld = new AcmeClient({
      directoryUrl: pebble.directoryUrl,
      accountKey: oldKey,
      fetch: fetch_,
    });
    await expect(withOld.findAccount()).rejects.toMatchObject({
      problem: { type: 'urn:ietf:params:acme:error:accountDoesNotExist' },
    });
    // and the rolled-over client keeps working
    await client.issue({ identifiers: ['rolled.example.org'], challengeStore: challenges });
  });

  it('updates the contact and deactivates an unused authorisation', async () => {
    const client = await newClient();
    await client.createAccount({ contact: ['old@example.org'] });
    expect((await client.updateAccount(['new@example.org'])).contact).toEqual([
      'mailto:new@example.org',
    ]);
    const order = await client.newOrder({ identifiers: ['unused.example.org'] });
    const [authzUrl] = order.authorizations;
    expect((await client.deactivateAuthorization(authzUrl as string)).status).toBe('deactivated');
    expect((await client.getAuthorization(authzUrl as string)).status).toBe('deactivated');
  });

  it('deactivates an account; it can no longer order', async () => {
    const client = await newClient();
    await client.createAccount();
    expect((await client.deactivateAccount()).status).toBe('deactivated');
    await expect(client.newOrder({ identifiers: ['gone.example.org'] })).rejects.toMatchObject({
      code: 'ERR_ACME_PROBLEM',
      problem: { status: 403 },
    });
  });

  it('hot-reloads a running HTTPS server; a TLS client sees the new certificate; evaluate agrees', async () => {
    const store = new FileCertificateStore({
      root: mkdtempSync(join(tmpdir(), 'acme-lite-hot-')),
      directoryUrl: pebble.directoryUrl,
    });
    const client = await openAccount({ store, email: 'ops@example.org', fetch: fetch_ });
    const obtain = () =>
      obtainCertificate({ client, store, domains: ['example.org'], challengeStore: challenges });
    const first = await obtain();
    const { cert, key, chain } = await store.read(first);
    const https = createHttpsServer({ cert: cert + chain, key }, (_req, res) => res.end('secure'));
    const port = await listen(https);
    const reloader = hotReload(https, store, 'example.org');
    try {
      expect(await servedSerial(port, root)).toBe(first.meta.serial);
      const reloaded = new Promise<StoredCertificate>((resolve) => store.onSaved(resolve));
      const second = await obtain();
      await reloaded;
      await new Promise((r) => setImmediate(r));
      await expect.poll(() => servedSerial(port, root)).toBe(second.meta.serial);
      expect(second.meta.serial).not.toBe(first.meta.serial);

      // A certificate saved by someone else (another store object = another process) is
      // picked up by polling.
      const other = new FileCertificateStore({
        root: store.root,
        directoryUrl: pebble.directoryUrl,
      });
      const polling = hotReload(https, store, 'example.org', { pollMs: 20 });
      const third = await obtainCertificate({
        client,
        store: other,
        domains: ['example.org'],
        challengeStore: challenges,
      });
      await expect.poll(() => servedSerial(port, root)).toBe(third.meta.serial);
      polling.stop();
      await store.delete(third.id);
      await reloader.reload();
      await expect.poll(() => servedSerial(port, root)).toBe(second.meta.serial);

      const ok = await evaluate('example.org', { host: '127.0.0.1', port, ca: root, store });
      expect(ok).toMatchObject({ ok: true, servedSerial: second.meta.serial, trusted: true });
      expect(ok.daysLeft).toBeGreaterThan(1);
      expect(
        (await assertServing('example.org', { host: '127.0.0.1', port, ca: root, store })).ok,
      ).toBe(true);

      // The stored certificate is not what is served any more → not ok, with the reason.
      await store.delete(second.id);
      const stale = await evaluate('example.org', { host: '127.0.0.1', port, ca: root, store });
      expect(stale).toMatchObject({ ok: false, storedSerial: first.meta.serial });
      expect(stale.reason).toMatch(/presents serial/);
      await expect(
        assertServing('example.org', { host: '127.0.0.1', port, ca: root, store }),
      ).rejects.toMatchObject({ code: 'ERR_ACME_EVALUATE_FAILED', message: /presents serial/ });
      // Without trusting Pebble's root the chain does not verify.
      const untrusted = await evaluate('example.org', { host: '127.0.0.1', port });
      expect(untrusted).toMatchObject({ ok: false, trusted: false });
      // Wrong name: the certificate is not for it.
      const wrongName = await evaluate('other.example.net', { host: '127.0.0.1', port, ca: root });
      expect(wrongName.ok).toBe(false);
      expect(wrongName.reason).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
    } finally {
      reloader.stop();
      https.closeAllConnections();
      await new Promise((r) => https.close(r));
    }
  });
});

describe.skipIf(skip)('against Pebble with EAB and 8-second certificates', () => {
  let pebble: Pebble;
  let app: Server;
  const challenges = new MemoryChallengeStore();
  const hmacKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');

  beforeAll(async () => {
    pebble = await startPebble({ eab: { 'kid-1': hmacKey }, validitySeconds: 8 });
    app = createHttpServer(challengeListener(challenges));
    await listen(app, pebble.httpPort);
  });
  afterAll(async () => {
    await new Promise((r) => app?.close(r));
    await pebble?.stop();
  });

  it('refuses an account without EAB and accepts one with it', async () => {
    const fetch_ = acmeFetch({ ca: pebble.listenerCa });
    const client = new AcmeClient({
      directoryUrl: pebble.directoryUrl,
      accountKey: (await generateAccountKey()).key,
      fetch: fetch_,
    });
    expect((await client.directory()).meta?.externalAccountRequired).toBe(true);
    await expect(client.createAccount()).rejects.toMatchObject({
      problem: { type: 'urn:ietf:params:acme:error:externalAccountRequired' },
    });
    await expect(
      client.createAccount({ externalAccountBinding: { kid: 'kid-1', hmacKey: b64Flip(hmacKey) } }),
    ).rejects.toMatchObject({ code: 'ERR_ACME_PROBLEM' });
    const account = await client.createAccount({
      externalAccountBinding: { kid: 'kid-1', hmacKey },
    });
    expect(account.status).toBe('valid');
  });

  it('the renewal manager orders a missing certificate, then renews the short-lived one before expiry', async () => {
    const store = new FileCertificateStore({
      root: mkdtempSync(join(tmpdir(), 'acme-lite-renew-')),
      directoryUrl: pebble.directoryUrl,
    });
    let client: Promise<AcmeClient> | undefined;
    const manager = new RenewalManager({
      store,
      client: () => {
        client ??= openAccount({
          store,
          fetch: acmeFetch({ ca: pebble.listenerCa }),
          externalAccountBinding: { kid: 'kid-1', hmacKey },
        });
        return client;
      },
      challengeStore: challenges,
      certificates: [['short.example.org']],
      fraction: 0.75, // renew when 6 of 8 seconds remain
    });
    const events: string[] = [];
    const renewed: StoredCertificate[] = [];
    manager.on('scheduled', (e) => events.push(`scheduled:${e.source}`));
    manager.on('ordered', () => events.push('ordered'));
    manager.on('failed', (e) => events.push(`failed:${String(e.error)}`));
    const twice = new Promise<void>((resolve) =>
      manager.on('renewed', (e) => {
        events.push('renewed');
        renewed.push(e.stored);
        if (renewed.length === 2) resolve();
      }),
    );
    await manager.start();
    try {
      await twice;
    } finally {
      manager.stop();
    }
    expect(events.slice(0, 2)).toEqual(['scheduled:missing', 'ordered']);
    expect(events).toContain('scheduled:fraction');
    expect(events.filter((e) => e.startsWith('failed'))).toEqual([]);
    const [a, b] = renewed as [StoredCertificate, StoredCertificate];
    expect(b.meta.serial).not.toBe(a.meta.serial);
    // renewed before the first one expired
    expect(Date.parse(b.meta.issuedAt)).toBeLessThan(Date.parse(a.meta.notAfter));
    expect((await store.current('short.example.org'))?.id).toBe(b.id);
  });
});

function b64Flip(key: string): string {
  return (key[0] === 'A' ? 'B' : 'A') + key.slice(1);
}
