/**
 * ACME certificates for the relay against Pebble (Debian `pebble`, with pebble-challtestsrv
 * resolving every name to 127.0.0.1): ordered in the background at start, stored under
 * `<dataDir>/letsencrypt/`, installed into the running HTTPS server (a new TLS connection
 * sees Pebble's certificate for the domain on the same port), reused by the next start
 * without a new order, renewed while running; and a failing CA keeps the dev certificate.
 */
import { readdirSync, statSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  freePort,
  type Pebble,
  pebbleAvailable,
  startPebble,
} from '../../../packages/acme-lite/test/pebble-harness.ts';
import type { RelayAcmeOptions } from '../src/acme.ts';
import { type Harness, startHarness } from './helpers.ts';

const skip = pebbleAvailable()
  ? false
  : missingDependency('pebble, pebble-challtestsrv and openssl', 'apt-get install pebble openssl');

const DOMAIN = 'relay.example.org';

/** A new TLS connection to the relay: the certificate it presents, verified against `ca`. */
function handshake(
  port: number,
  ca: string,
  servername = DOMAIN,
): Promise<{ peer: PeerCertificate; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca }, () => {
      resolve({ peer: socket.getPeerCertificate(), authorized: socket.authorized });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const serialOf = (peer: PeerCertificate) => peer.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

function orderDirs(dataDir: string, pebble: Pebble): string[] {
  const port = new URL(pebble.directoryUrl).port;
  const orders = join(dataDir, 'letsencrypt', `1.0.0.127_${port}`, 'orders');
  return readdirSync(orders).map((id) => join(orders, id));
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('ACME failures', () => {
  it('keeps the dev certificate, logs and audits the failure without secrets, and close() stops the HTTP-01 listener', async () => {
    const unused = await freePort();
    const h = await startHarness({
      relay: {
        acme: {
          directoryUrl: `https://127.0.0.1:${unused}/dir`,
          domains: [DOMAIN],
          email: 'ops@example.org',
          http01Port: 0,
          renewal: { retryBaseMs: 3_600_000 },
        },
      },
    });
    let closed = false;
    try {
      const acme = h.relay.acme;
      expect(acme).toBeDefined();
      await vi.waitFor(() => expect(h.audited('tls.certificate.failed')).toHaveLength(1), {
        timeout: READY_BOUND_MS,
      });
      const [failed] = h.audited('tls.certificate.failed');
      expect(failed).toMatchObject({
        outcome: 'failure',
        actor: { type: 'service', id: 'acme' },
        data: { domains: [DOMAIN], attempt: 0, stage: 'order' },
      });
      expect(JSON.stringify(failed)).not.toMatch(/PRIVATE KEY|privateJwk|"d":/);
      expect(h.relay.tlsStatus()).toMatchObject({ source: 'dev', subject: 'CN=127.0.0.1' });
      const { authorized, peer } = await handshake(h.relay.port, h.relay.tls.ca, 'localhost');
      expect(authorized).toBe(true);
      expect(peer.subject.CN).toBe('127.0.0.1');
      expect(h.relay.tlsStatus().nextRenewal?.source).toBe('retry');
      const http01 = acme?.http01Port as number;
      expect(await refused(http01)).toBe(false);
      closed = true;
      await h.close();
      expect(await refused(http01)).toBe(true);
    } finally {
      if (!closed) await h.close();
    }
  });
});

describe.skipIf(skip)('ACME certificates from Pebble', () => {
  let pebble: Pebble;
  let root: string;
  const harnesses: Harness[] = [];

  beforeAll(async () => {
    pebble = await startPebble();
    root = await pebble.root();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await pebble?.stop();
  });

  const acmeOptions = (extra: Partial<RelayAcmeOptions> = {}): RelayAcmeOptions => ({
    directoryUrl: pebble.directoryUrl,
    domains: [DOMAIN],
    email: 'ops@example.org',
    http01Port: pebble.httpPort,
    caPem: pebble.listenerCa,
    ...extra,
  });

  it('obtains a certificate in the background, serves it without a restart, and the next start reuses it', async () => {
    const first = await startHarness({ relay: { acme: acmeOptions() } });
    harnesses.push(first);
    const port = first.relay.port;
    await vi.waitFor(() => expect(first.audited('tls.certificate.obtained')).toHaveLength(1), {
      timeout: READY_BOUND_MS,
    });
    expect(first.audited('tls.certificate.failed')).toEqual([]);
    const status = first.relay.tlsStatus();
    expect(status).toMatchObject({ source: 'acme', sans: [DOMAIN] });
    expect(status.issuer).toMatch(/Pebble Intermediate/);
    expect(status.notAfter.getTime()).toBeGreaterThan(Date.now());
    const [obtained] = first.audited('tls.certificate.obtained');
    expect(obtained).toMatchObject({
      outcome: 'success',
      data: { domains: [DOMAIN], serial: status.serial, orderId: status.orderId },
    });

    // A new TLS connection to the same running relay gets Pebble's certificate for the domain,
    // verified against Pebble's root only (the intermediate comes with it).
    expect(first.relay.port).toBe(port);
    const { peer, authorized } = await handshake(port, root);
    expect(authorized).toBe(true);
    expect(peer.subjectaltname).toBe(`DNS:${DOMAIN}`);
    expect(peer.issuer.CN).toMatch(/Pebble Intermediate/);
    expect(serialOf(peer)).toBe(status.serial);

    // Stored in <dataDir>/letsencrypt/<directory-host-reversed>/orders/<order-id>/.
    const dirs = orderDirs(first.dataDir, pebble);
    expect(dirs).toHaveLength(1);
    const dir = dirs[0] as string;
    expect(dir.endsWith(status.orderId as string)).toBe(true);
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cert.pem')).isFile()).toBe(true);
    await first.close();
    harnesses.splice(harnesses.indexOf(first), 1);

    // A second start on the same data directory serves the stored certificate at once, and
    // the renewal manager schedules its renewal (a third of the lifetime left), no new order.
    const second = await startHarness({ dataDir: first.dataDir, relay: { acme: acmeOptions() } });
    harnesses.push(second);
    expect(second.relay.tlsStatus()).toMatchObject({ source: 'acme', serial: status.serial });
    expect(serialOf((await handshake(second.relay.port, root)).peer)).toBe(status.serial);
    await vi.waitFor(() => expect(second.relay.tlsStatus().nextRenewal?.source).toBe('fraction'), {
      timeout: READY_BOUND_MS,
    });
    expect(second.relay.tlsStatus().nextRenewal?.at.getTime()).toBeGreaterThan(
      Date.now() + 86_400_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(orderDirs(first.dataDir, pebble)).toHaveLength(1);
    expect(second.audited('tls.certificate.obtained')).toEqual([]);
    expect(second.audited('tls.certificate.failed')).toEqual([]);
    await second.close();
    harnesses.splice(harnesses.indexOf(second), 1);
  });
});

describe.skipIf(skip)('ACME renewal on a running relay (8-second certificates)', () => {
  let pebble: Pebble;
  let root: string;
  let h: Harness | undefined;

  beforeAll(async () => {
    pebble = await startPebble({ validitySeconds: 8 });
    root = await pebble.root();
  });
  afterAll(async () => {
    await h?.close();
    await pebble?.stop();
  });

  it('renews before expiry and new connections get the new certificate on the same port', async () => {
    h = await startHarness({
      relay: {
        acme: {
          directoryUrl: pebble.directoryUrl,
          domains: [DOMAIN],
          email: 'ops@example.org',
          http01Port: pebble.httpPort,
          caPem: pebble.listenerCa,
          renewal: { fraction: 0.75 }, // renew when 6 of 8 seconds remain
        },
      },
    });
    const harness = h;
    const port = harness.relay.port;
    await vi.waitFor(() => expect(harness.audited('tls.certificate.obtained')).toHaveLength(1), {
      timeout: READY_BOUND_MS,
    });
    const firstSerial = harness.relay.tlsStatus().serial;
    await vi.waitFor(() => expect(harness.audited('tls.certificate.obtained')).toHaveLength(2), {
      timeout: READY_BOUND_MS,
    });
    const renewed = harness.relay.tlsStatus();
    expect(renewed.serial).not.toBe(firstSerial);
    expect(harness.relay.port).toBe(port);
    const { peer, authorized } = await handshake(port, root);
    expect(authorized).toBe(true);
    expect(serialOf(peer)).toBe(renewed.serial);
  });
});
