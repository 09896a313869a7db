/**
 * Issue 17 ("decide and document"): the admin gRPC API can require mutual TLS with a pinned
 * client CA (`admin.clientCa`, `RELAY_ADMIN_CLIENT_CA_FILE`). Without a client certificate, or
 * with one from another CA, the TLS handshake is refused before any gRPC; with the right one
 * the bearer token is still required.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LicenseAdminClient } from '@fluxel/license/admin';
import { adminClient } from '@fluxel-example/kit/admin-service';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.ts';
import { clientPki, probe } from './tls-probe.ts';

const TOKEN = 'adm_4f9c2e7a1b8d6f3e0c5a9b2d7e1f4a8c';

describe('admin gRPC with mutual TLS (issue 17)', () => {
  let h: Harness;
  let pinned: ReturnType<typeof clientPki>;
  let other: ReturnType<typeof clientPki>;
  const clients: LicenseAdminClient[] = [];

  /** One `List` call over a fresh channel, with or without a client certificate. */
  function list(client?: { cert: string; key: string }, token = TOKEN) {
    const ca = Buffer.from(h.relay.tls.ca);
    const admin = adminClient({
      address: `127.0.0.1:${h.relay.adminPort}`,
      credentials: client
        ? grpc.credentials.createSsl(ca, Buffer.from(client.key), Buffer.from(client.cert))
        : grpc.credentials.createSsl(ca),
      token,
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });
    clients.push(admin);
    return admin.list({ tenant: '', page_size: 1 }).then(
      () => grpc.status.OK,
      (error: grpc.ServiceError) => error.code,
    );
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-admin-mtls-'));
    pinned = clientPki(dir, 'portal');
    other = clientPki(dir, 'stranger');
    h = await startHarness({ relay: { admin: { token: TOKEN, clientCa: pinned.ca } } });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await h?.close();
  });

  it('refuses a client without a certificate in the TLS handshake', async () => {
    const port = h.relay.adminPort as number;
    const ca = h.relay.tls.ca;
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const result = await probe(port, {
        ca,
        minVersion: version,
        maxVersion: version,
        ALPNProtocols: ['h2'],
        awaitServerData: true,
      });
      expect({ version, ok: result.ok }).toEqual({ version, ok: false });
    }
    expect(await list()).toBe(grpc.status.UNAVAILABLE);
  });

  it('refuses a client certificate from another CA in the TLS handshake', async () => {
    const result = await probe(h.relay.adminPort as number, {
      ca: h.relay.tls.ca,
      cert: other.cert,
      key: other.key,
      ALPNProtocols: ['h2'],
      awaitServerData: true,
    });
    expect(result.ok).toBe(false);
    expect(await list(other)).toBe(grpc.status.UNAVAILABLE);
  });

  it('accepts the pinned CA’s client certificate, and still requires the bearer token', async () => {
    const result = await probe(h.relay.adminPort as number, {
      ca: h.relay.tls.ca,
      cert: pinned.cert,
      key: pinned.key,
      ALPNProtocols: ['h2'],
      awaitServerData: true,
    });
    expect(result.ok).toBe(true);
    expect(await list(pinned)).toBe(grpc.status.OK);
    expect(await list(pinned, 'x'.repeat(40))).toBe(grpc.status.UNAUTHENTICATED);
  });
});
