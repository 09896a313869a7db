/**
 * The certificates page's API end to end against Pebble (the ACME test CA, Debian package
 * `pebble`) with pebble-challtestsrv answering DNS (every name → 127.0.0.1): settings with a
 * strict address check, order in the background with progress, the certificate stored in the
 * acme-lite layout and hot-swapped into the running portal (a fresh TLS connection sees its
 * serial, no restart), evaluate green, delete back to the development certificate; only
 * administrators.
 */

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { directoryFolder } from '@fluxel/acme-lite/node';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAddress } from '../src/features/certificates/config.ts';
import type {
  CertificateDetails,
  CertificateOrderView,
  CertificatesOverview,
  EvaluateView,
} from '../src/features/certificates/contract.ts';
import { certificatesMessages } from '../web/src/features/certificates/messages.ts';
import { type PortalHarness, type SignedUp, startPortalHarness, TestClient } from './helpers.ts';
import {
  DOMAIN,
  type PortalPebble,
  pebbleMissing,
  servedCertificate,
  startPortalPebble,
} from './pebble-portal.ts';

const skip = pebbleMissing();

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = READY_BOUND_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('certificates page texts', () => {
  it('German and English have the same keys and variables', () => {
    const { de: certificatesDe, en: certificatesEn } = certificatesMessages;
    expect(Object.keys(certificatesEn).sort()).toEqual(Object.keys(certificatesDe).sort());
    const vars = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(certificatesDe) as (keyof typeof certificatesDe)[])
      expect(vars(certificatesEn[key]), key).toEqual(vars(certificatesDe[key]));
  });
});

describe('checkAddress', () => {
  it('accepts DNS names only', () => {
    expect(checkAddress(' Portal.Example.COM ')).toEqual({ ok: true, name: 'portal.example.com' });
    expect(checkAddress('münchen.example')).toEqual({ ok: true, name: 'xn--mnchen-3ya.example' });
    for (const bad of [
      '',
      'localhost',
      'https://portal.example.com',
      'portal.example.com:443',
      'portal.example.com/',
      '192.0.2.10',
      '[2001:db8::1]',
      '2001:db8::1',
      '*.example.com',
      'portal.example.com.',
      '-portal.example.com',
      'a..example.com',
      'user@example.com',
      'exa mple.com',
      '1.2.3.4.5',
      `${'a'.repeat(64)}.example.com`,
    ])
      expect(checkAddress(bad).ok, bad).toBe(false);
  });
});

describe.skipIf(skip)('certificates against Pebble', () => {
  let acme: PortalPebble;
  let h: PortalHarness;
  let admin: SignedUp;
  let root: string;
  let devCa: string;
  /** Trusts the dev CA and Pebble's root, and accepts either the dev or the ACME name. */
  let both: Agent;
  let client: TestClient;

  beforeAll(async () => {
    acme = await startPortalPebble();
    root = acme.root;
    h = await startPortalHarness();
    acme.portalStarted(h.portal.port);
    devCa = h.portal.tls.ca;
    both = new Agent({
      connect: {
        ca: [devCa, root],
        checkServerIdentity: (_host, cert) =>
          checkServerIdentity('localhost', cert) && checkServerIdentity(DOMAIN, cert),
      },
    });
    await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
    admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
    // The same session through a connection that also accepts the ACME certificate.
    client = new TestClient(h.portal.url, both);
    for (const [k, v] of admin.client.cookies) client.cookies.set(k, v);
    client.csrf = admin.client.csrf;
  });

  afterAll(async () => {
    await h?.close();
    await both?.close();
    await acme?.stop();
  });

  it('only administrators reach the certificates API', async () => {
    const keyUser = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kim Key');
    const customer = await h.signUp('cu@acme.test', 'customer', 'acme', 'Cu Stomer');
    for (const c of [keyUser.client, customer.client]) {
      expect((await c.get('/api/certificates')).status).toBe(403);
      expect((await c.get('/api/certificates/current')).status).toBe(403);
      expect(
        (
          await c.call('PUT', '/api/certificates/settings', {
            address: DOMAIN,
            email: 'x@acme.test',
            directory: 'custom',
          })
        ).status,
      ).toBe(403);
      expect((await c.post('/api/certificates/order')).status).toBe(403);
      expect((await c.post('/api/certificates/evaluate')).status).toBe(403);
      expect((await c.call('DELETE', '/api/certificates/current')).status).toBe(403);
    }
    expect((await h.client().get('/api/certificates')).status).toBe(401);
  });

  it('starts on the development certificate; ordering needs address and e-mail', async () => {
    const overview = await client.get<CertificatesOverview>('/api/certificates');
    expect(overview.status).toBe(200);
    expect(overview.body.tls).toBe('development');
    expect(overview.body.current.source).toBe('development');
    expect(overview.body.settings).toEqual({ address: '', email: '', directory: 'custom' });
    expect(overview.body.directories.map((d) => d.choice)).toEqual([
      'production',
      'staging',
      'custom',
    ]);
    const refused = await client.post('/api/certificates/order');
    expect(refused.status).toBe(409);
  });

  it('refuses a bad address (400) and changes nothing', async () => {
    const good = await client.call<CertificatesOverview>('PUT', '/api/certificates/settings', {
      address: 'first.localhost',
      email: 'ops@fluxel.test',
      directory: 'custom',
    });
    expect(good.status).toBe(200);
    for (const address of [
      'https://portal.localhost',
      'portal.localhost:8443',
      '127.0.0.1',
      '*.localhost',
      'localhost',
      'portal.localhost/x',
    ]) {
      const res = await client.call('PUT', '/api/certificates/settings', {
        address,
        email: 'other@fluxel.test',
        directory: 'staging',
      });
      expect(res.status, address).toBe(400);
      expect(res.body).toMatchObject({ code: 'bad_request', fields: [{ path: 'address' }] });
    }
    const badMail = await client.call('PUT', '/api/certificates/settings', {
      address: DOMAIN,
      email: 'not an address',
      directory: 'custom',
    });
    expect(badMail.status).toBe(400);
    const after = await client.get<CertificatesOverview>('/api/certificates');
    expect(after.body.settings).toEqual({
      address: 'first.localhost',
      email: 'ops@fluxel.test',
      directory: 'custom',
    });
  });

  it('orders, installs without a restart, shows, evaluates green, deletes', async () => {
    const before = await servedCertificate(h.portal.port, [devCa], 'localhost');
    expect(before.authorized).toBe(true);

    const saved = await client.call<CertificatesOverview>('PUT', '/api/certificates/settings', {
      address: 'Portal.Localhost',
      email: 'ops@fluxel.test',
      directory: 'custom',
    });
    expect(saved.status).toBe(200);
    expect(saved.body.settings.address).toBe(DOMAIN);

    const started = await client.post<{ id: string; state: string }>('/api/certificates/order');
    expect(started.status).toBe(202);
    expect(started.body.state).toBe('pending');
    const seen = new Set<string>();
    const order = await until(
      async () => {
        const res = await client.get<CertificateOrderView>(
          `/api/certificates/order/${started.body.id}`,
        );
        seen.add(res.body.state);
        return res.body;
      },
      (o) => o.state === 'installed' || o.state === 'failed',
    );
    expect(order.message).toBeUndefined();
    expect(order.state).toBe('installed');
    expect(order.finishedAt).toBeDefined();

    // A fresh TLS connection to the same, still running portal gets the new certificate.
    const current = await client.get<CertificateDetails>('/api/certificates/current');
    expect(current.status).toBe(200);
    const after = await servedCertificate(h.portal.port, [root], DOMAIN);
    expect(after.authorized).toBe(true);
    expect(after.serial).toBe(current.body.serial);
    expect(after.serial).not.toBe(before.serial);
    expect(after.issuer).toMatch(/Pebble/i);
    expect(after.subjectaltname).toContain(`DNS:${DOMAIN}`);

    // Show: subject, SANs, issuer, validity, days left, the files in the acme-lite layout.
    const c = current.body;
    expect(c.source).toBe('acme');
    expect(c.sans).toEqual([DOMAIN]);
    expect(c.issuer).toMatch(/Pebble/i);
    expect(c.daysLeft).toBeGreaterThan(30);
    expect(Date.parse(c.notAfter)).toBeGreaterThan(Date.parse(c.notBefore));
    const dir = join(
      h.dataDir,
      'letsencrypt',
      directoryFolder(acme.pebble.directoryUrl),
      'orders',
      c.orderId as string,
    );
    expect(c.directory).toBe(dir);
    expect(c.certPath).toBe(join(dir, 'cert.pem'));
    expect(c.keyPath).toBe(join(dir, 'key.pem'));
    expect(existsSync(join(dir, 'cert.pem'))).toBe(true);
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);

    const overview = await client.get<CertificatesOverview>('/api/certificates');
    expect(overview.body.tls).toBe('active');
    expect(overview.body.order).toMatchObject({ id: started.body.id, state: 'installed' });
    expect(overview.body.renewal.active).toBe(true);
    expect(overview.body.renewal.nextAt).toBeDefined();

    // Evaluate: https://portal.localhost answers with a trusted certificate — the stored one.
    const green = await client.post<EvaluateView>('/api/certificates/evaluate');
    expect(green.status).toBe(200);
    expect(green.body).toMatchObject({ ok: true, code: 'ok', servedSerial: c.serial });
    expect(green.body.storedSerial).toBe(c.serial);

    // Delete: the files go, the development certificate is served again, evaluate is red.
    const deleted = await client.call<CertificatesOverview>('DELETE', '/api/certificates/current');
    expect(deleted.status).toBe(200);
    expect(deleted.body.tls).toBe('development');
    expect(deleted.body.renewal.active).toBe(false);
    expect(existsSync(dir)).toBe(false);
    const again = await servedCertificate(h.portal.port, [devCa], 'localhost');
    expect(again).toMatchObject({ authorized: true, serial: before.serial });
    const red = await client.post<EvaluateView>('/api/certificates/evaluate');
    expect(red.body.ok).toBe(false);
    expect(red.body.code).toBe('untrusted');
    expect((await client.call('DELETE', '/api/certificates/current')).status).toBe(404);

    const { events } = await h.portal.audit.query({ tenant: 'fluxel-operator', limit: 200 });
    const actions = events.map((e) => `${e.action}:${e.outcome}`);
    for (const action of [
      'certificate.settings.changed:success',
      'certificate.order.started:success',
      'certificate.installed:success',
      'certificate.evaluated:success',
      'certificate.deleted:success',
      'certificate.evaluated:failure',
    ])
      expect(actions).toContain(action);
    expect(seen.has('installed')).toBe(true);
  });

  it('reports a failed order with a message', async () => {
    // Nothing answers HTTP-01 for this name's port any more once the listener is taken.
    await client.call('PUT', '/api/certificates/settings', {
      address: 'other.localhost',
      email: 'ops@fluxel.test',
      directory: 'custom',
    });
    const saved = process.env.PORTAL_HTTP01_PORT;
    process.env.PORTAL_HTTP01_PORT = String(h.portal.port); // taken by the portal itself
    try {
      const started = await client.post<{ id: string }>('/api/certificates/order');
      expect(started.status).toBe(202);
      const order = await until(
        async () =>
          (await client.get<CertificateOrderView>(`/api/certificates/order/${started.body.id}`))
            .body,
        (o) => o.state === 'failed' || o.state === 'installed',
      );
      expect(order.state).toBe('failed');
      expect(order.message).toMatch(/port/);
      // The page explains the stable code; the technical message is for operators.
      expect(order.failure).toBe('listener_port');
    } finally {
      process.env.PORTAL_HTTP01_PORT = saved;
    }
    expect((await client.get<CertificatesOverview>('/api/certificates')).body.tls).toBe(
      'development',
    );
    expect((await client.get('/api/certificates/order/crt_nope')).status).toBe(404);
  });
});
