/**
 * Two relay instances over one PostgreSQL (`DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/test, a schema of its own per test) serving one agent: two
 * clients share the device key and the token store and go round-robin. Sends run once each at
 * the counterpart; a webhook received by one instance is picked up through the other (its
 * long-poll is woken by PostgreSQL `LISTEN/NOTIFY`); one instance is closed mid-run and the
 * other serves everything.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import {
  createRelayClient,
  type NodeRelayClient,
  type StoredTokens,
  spkiPin,
} from '@fluxel/relay-client/node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, POSTGRES_URL, postgresReachable, startHarness } from './helpers.ts';

const url = POSTGRES_URL;

const skip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${url}`, 'start PostgreSQL or set DATABASE_URL');
if (skip) console.warn(`${skip}: multi-instance tests skipped`);

describe.skipIf(skip)('two relay instances over one PostgreSQL', () => {
  const schema = `relay_multi_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let a: Harness;
  let b: Harness;
  let clientA: NodeRelayClient;
  let clientB: NodeRelayClient;

  beforeAll(async () => {
    const relay = { databaseUrl: url, databaseSchema: schema, mailboxPollMs: 200 };
    // Started one after the other: each runs the (idempotent) migrations at start.
    a = await startHarness({ relay });
    b = await startHarness({ relay, dataDir: a.dataDir, wrapConnector: () => a.connector });
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    let saved: StoredTokens | undefined;
    const tokens = {
      load: () => saved,
      save: (t: StoredTokens) => {
        saved = t;
      },
    };
    const client = (h: Harness) =>
      createRelayClient({
        baseUrl: h.relay.url,
        ca: h.relay.tls.ca,
        pins: [spkiPin(h.relay.tls.ca)],
        proxy: false,
        device,
        tokens,
        retry: { attempts: 1 },
      });
    clientA = client(a);
    clientB = client(b);
  });

  afterAll(async () => {
    await clientA?.close();
    await clientB?.close();
    await b?.close();
    await a?.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('round-robin sends run once each; a webhook at one is picked up at the other; one closes mid-run', async () => {
    expect(a.relay.database.kind).toBe('postgres');
    await clientA.activate({ body: { licenseKey: await a.issueKey() } });
    await clientB.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: a.webhookSecret } },
    });

    const keys: string[] = [];
    const send = (client: NodeRelayClient, key: string, i: number) =>
      client.send({
        connection: 'shop-1',
        idempotencyKey: key,
        body: { operation: 'order.status', payload: { order: `MI-${i}`, status: 'shipped' } },
      });
    for (let i = 0; i < 10; i++) {
      const key = randomUUID();
      keys.push(key);
      const sent = await send(i % 2 === 0 ? clientA : clientB, key, i);
      expect(sent).toMatchObject({ status: 'delivered', replayed: false });
    }
    // The same message retried through the other instance is the stored outcome.
    expect((await send(clientB, keys[0] as string, 0)).replayed).toBe(true);
    expect((await send(clientA, keys[1] as string, 1)).replayed).toBe(true);

    // A long-poll waiting at B; the webhook arrives at A.
    const waiting = clientB.pickup({ wait: 10 });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const hook = await a.counterpart.sendPaymentWebhook({
      url: await a.hookUrl('shop-1'),
      payload: { reference: 'cross-instance' },
    });
    expect(hook.status).toBe(204);
    const { events } = await waiting;
    expect(events.map((e) => e.id)).toEqual([hook.id]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await clientA.ack({ body: { ids: [hook.id] } })).toEqual({ acked: 1 });

    // Mid-run, A closes: every message still gets through (failover to B), once.
    let closing: Promise<void> | undefined;
    let failovers = 0;
    for (let i = 10; i < 20; i++) {
      const key = randomUUID();
      keys.push(key);
      if (i === 14) closing = a.relay.close();
      const first = await (i % 2 === 0 ? clientA : clientB).send.safe({
        connection: 'shop-1',
        idempotencyKey: key,
        body: { operation: 'order.status', payload: { order: `MI-${i}`, status: 'shipped' } },
      });
      if (!first.ok) {
        expect(i).toBeGreaterThanOrEqual(14);
        failovers++;
        expect((await send(clientB, key, i)).status).toBe('delivered');
      }
    }
    await closing;
    expect(failovers).toBeGreaterThanOrEqual(2);
    const after = await clientA.status.safe();
    expect(after.ok).toBe(false);
    expect((await clientB.status()).license.status).toBe('active');

    for (const key of keys)
      expect(a.counterpart.effects.filter((e) => e.idempotencyKey === key)).toHaveLength(1);
    expect(a.counterpart.effects).toHaveLength(20);
  });
});
