/**
 * Dev state on disk: after a restart on the same data directory (PGlite files, key file,
 * secrets, TLS, file audit log) the device keeps working, its sealed credentials still open,
 * and the audit log verifies against the relay's pinned key.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPath } from '@fluxel/audit/node';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import {
  createRelayClient,
  type NodeRelayClient,
  type StoredTokens,
  spkiPin,
} from '@fluxel/relay-client/node';
import { type Counterpart, createCounterpart } from '@fluxel-example/counterpart';
import { afterAll, describe, expect, it } from 'vitest';
import { counterpartConnector } from '../src/connector.ts';
import { createRelay, type Relay } from '../src/relay.ts';

const API_KEY = 'restart-key-5521aa';
const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const o of open.reverse()) await o.close();
});

describe('restart on the same data directory', () => {
  it('keeps licenses, sealed credentials, TLS and a verifiable audit log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-relay-restart-'));
    const counterpart: Counterpart = await createCounterpart({ apiKey: API_KEY });
    open.push(counterpart);
    const connector = counterpartConnector({ baseUrl: counterpart.url });
    open.push(connector);
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    let saved: StoredTokens | undefined;
    const tokens = {
      load: () => saved,
      save: (t: StoredTokens) => {
        saved = t;
      },
    };
    const clientFor = (relay: Relay): NodeRelayClient => {
      const client = createRelayClient({
        baseUrl: relay.url,
        ca: relay.tls.ca,
        pins: [spkiPin(relay.tls.ca)],
        proxy: false,
        device,
        tokens,
        retry: { attempts: 1 },
      });
      open.push(client);
      return client;
    };

    const first = await createRelay({ dataDir, connector });
    const { key } = await first.authority.issue({ tenant: 'm-1', product: 'wawi-sync' });
    const c1 = clientFor(first);
    await c1.activate({ body: { licenseKey: key } });
    await c1.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });
    const ca = first.tls.ca;
    await first.close();

    const second = await createRelay({ dataDir, connector });
    open.push(second);
    expect(second.tls.ca).toBe(ca);
    const c2 = clientFor(second);
    const idempotencyKey = randomUUID();
    const sent = await c2.send({
      connection: 'shop-1',
      idempotencyKey,
      body: { operation: 'order.status', payload: { order: 'R-1', status: 'packed' } },
    });
    expect(sent.status).toBe('delivered');
    expect(counterpart.effects.map((e) => e.idempotencyKey)).toEqual([idempotencyKey]);

    await second.audit.flush();
    const report = await verifyPath(join(dataDir, 'audit'), {
      publicKeys: [second.auditKey],
      live: true,
    });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.events).toBeGreaterThanOrEqual(4); // issue, activate, credentials.put, send
  });
});
