/**
 * Issue 17: when the relay's admin gRPC API requires mutual TLS (`admin.clientCa`), the
 * portal's gateway presents its client certificate (`adminClientCert`/`adminClientKey`,
 * `RELAY_ADMIN_CLIENT_CERT`/`_KEY`); without one its calls are refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { counterpartConnector, createRelay, type Relay } from '@fluxel-example/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientPki } from '../../relay/test/tls-probe.ts';
import { type RelayGateway, relayGateway } from '../src/server/relay-gateway.ts';

const ADMIN_TOKEN = 'adm_0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f';

describe('portal → relay admin API over mutual TLS (issue 17)', () => {
  let relay: Relay;
  let connector: ReturnType<typeof counterpartConnector>;
  let portalCert: ReturnType<typeof clientPki>;
  let strangerCert: ReturnType<typeof clientPki>;
  const gateways: RelayGateway[] = [];

  const gateway = (client?: { cert: string; key: string }) => {
    const g = relayGateway({
      adminAddress: `localhost:${relay.adminPort}`,
      adminToken: ADMIN_TOKEN,
      relayUrl: relay.url,
      portalToken: 'p'.repeat(40),
      ca: relay.tls.ca,
      ...(client ? { adminClientCert: client.cert, adminClientKey: client.key } : {}),
    });
    gateways.push(g);
    return g;
  };

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-portal-mtls-'));
    portalCert = clientPki(dataDir, 'portal');
    strangerCert = clientPki(dataDir, 'stranger');
    // The connector is never called here: no relay route that forwards is used.
    connector = counterpartConnector({ baseUrl: 'https://127.0.0.1:9', timeoutMs: 1000 });
    relay = await createRelay({
      dataDir,
      connector,
      inMemoryDatabase: true,
      admin: { token: ADMIN_TOKEN, actor: 'portal', clientCa: portalCert.ca },
      rateLimit: false,
    });
  });
  afterAll(async () => {
    for (const g of gateways) g.close();
    await relay?.close();
    await connector?.close();
  });

  it('with the client certificate the pinned CA signed, the gateway works', async () => {
    expect(await gateway(portalCert).list()).toEqual([]);
  });

  it('without a client certificate, or with another CA’s, the relay is unreachable', async () => {
    await expect(gateway().list()).rejects.toMatchObject({ status: 503, reason: 'unavailable' });
    await expect(gateway(strangerCert).list()).rejects.toMatchObject({
      status: 503,
      reason: 'unavailable',
    });
  });

  it('refuses a certificate without its key (configuration error)', () => {
    expect(() =>
      relayGateway({
        adminAddress: 'localhost:1',
        adminToken: ADMIN_TOKEN,
        relayUrl: 'https://127.0.0.1:1',
        portalToken: 'p'.repeat(40),
        ca: relay.tls.ca,
        adminClientCert: portalCert.cert,
      }),
    ).toThrow(/go together/);
  });
});
