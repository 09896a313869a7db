/**
 * Promise 6, per tenant: every credential and held event is sealed under its tenant's own
 * key-encryption key (kept in `relay_tenant_keys`, itself sealed under the relay's KEK).
 * Destroying one tenant's key (the portal API's erasure) makes that tenant's data unreadable —
 * the rows stay, a copy of the database (a backup) opens no better — while other tenants work
 * on; a second relay instance over the same database stops opening it within its recheck time.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fromText, inspect, Keyring, open } from '@fluxel/crypto';
import { keyFileKek } from '@fluxel/crypto/node';
import { createDpopSigner, generateKeyPair, type PrivateJwk } from '@fluxel/license';
import {
  createRelayClient,
  type NodeRelayClient,
  type StoredTokens,
  spkiPin,
} from '@fluxel/relay-client/node';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, rawRequest, startHarness } from './helpers.ts';

const TOKEN = `portal-${randomUUID()}-${randomUUID()}`;
const shred = (h: Harness, tenant: string, body: unknown = { actor: { id: 'admin-1' } }) =>
  rawRequest(h, 'DELETE', `/internal/portal/v1/tenants/${tenant}/key`, {
    body: JSON.stringify(body),
    headers: { authorization: `Bearer ${TOKEN}` },
  });

let database: Database;
let h: Harness;
let second: Harness;

const clients: NodeRelayClient[] = [];
/** A device whose tokens are shared by its clients of both instances (one agent, two relays). */
function agent() {
  const device = createDpopSigner(generatedKeys.shift() as PrivateJwk);
  let saved: StoredTokens | undefined;
  const tokens = {
    load: () => saved,
    save: (t: StoredTokens) => {
      saved = t;
    },
  };
  const on = (harness: Harness) => {
    const client = createRelayClient({
      baseUrl: harness.relay.url,
      ca: harness.relay.tls.ca,
      pins: [spkiPin(harness.relay.tls.ca)],
      proxy: false,
      device,
      tokens,
      retry: { attempts: 1 },
    });
    clients.push(client);
    return client;
  };
  return { first: on(h), second: on(second) };
}
const generatedKeys: PrivateJwk[] = [];

async function activated(client: NodeRelayClient, harness: Harness, tenant: string) {
  await client.activate({ body: { licenseKey: await harness.issueKey(tenant) } });
  await client.putCredentials({
    connection: 'shop-1',
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: harness.webhookSecret } },
  });
}
const send = (client: NodeRelayClient, order: string) =>
  client.send.safe({
    connection: 'shop-1',
    idempotencyKey: randomUUID(),
    body: { operation: 'order.status', payload: { order, status: 'shipped' } },
  });

beforeAll(async () => {
  database = await openDatabase();
  h = await startHarness({
    database,
    relay: { portal: { token: TOKEN }, tenantKeyRecheckMs: 200 },
  });
  // A second instance over the same database and the same KEK file, forwarding to the same
  // counterpart.
  second = await startHarness({
    database,
    dataDir: h.dataDir,
    wrapConnector: () => h.connector,
    relay: { portal: { token: TOKEN }, tenantKeyRecheckMs: 200 },
  });
  for (let i = 0; i < 2; i++) generatedKeys.push((await generateKeyPair()).privateJwk);
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await second?.close();
  await h?.close();
  await database?.close();
});

describe('per-tenant keys and crypto-shredding', () => {
  it('values are sealed under the tenant key; shredding one tenant erases it and only it', async () => {
    const a = agent();
    const b = agent();
    await activated(a.first, h, 'merchant-a');
    await activated(b.first, h, 'merchant-b');
    expect((await send(a.first, 'A-1')).ok).toBe(true);
    expect((await send(a.second, 'A-2')).ok).toBe(true); // instance 2 opened A's key

    const { rows } = await database.query(
      "SELECT tenant, fields->>'apiKey' AS sealed FROM relay_credentials ORDER BY tenant",
    );
    expect(rows.map((r) => r.tenant)).toEqual(['merchant-a', 'merchant-b']);
    for (const row of rows)
      expect(inspect(fromText(String(row.sealed))).kekIds).toEqual([`tenant:${row.tenant}`]);
    const keys = await database.query('SELECT tenant, state, material FROM relay_tenant_keys');
    for (const k of keys.rows) {
      expect(k.state).toBe('active');
      // The stored tenant key is itself sealed under the relay's KEK (not raw key bytes).
      expect(inspect(Buffer.from(String(k.material), 'base64')).kekIds).toEqual(['dev-file-kek']);
    }

    // Bad input changes nothing.
    expect((await shred(h, 'merchant-a', { actor: {} })).status).toBe(400);
    expect((await shred(h, '../etc')).status).toBe(404);
    expect((await send(a.first, 'A-3')).ok).toBe(true);

    expect((await shred(h, 'merchant-a')).status).toBe(204);
    expect(h.audited('tenant.shred').map((e) => e.target?.id)).toEqual(['merchant-a']);

    const refused = await send(a.first, 'A-4');
    expect(!refused.ok && refused.error.status).toBe(410);
    expect(!refused.ok && refused.error.problem?.code).toBe('ERR_TENANT_ERASED');
    // The other tenant works on; its webhooks still verify and land.
    expect((await send(b.first, 'B-1')).ok).toBe(true);
    const hook = await h.hook('shop-1', {
      payload: { paymentId: 'p-b' },
      licenseId: (await b.first.tokens())?.licenseId as string,
    });
    expect(hook.status).toBe(204);
    expect((await b.first.pickup({ wait: 1 })).events.map((e) => e.id)).toEqual([hook.id]);

    // The rows are still there, and a copy of them (a backup) with the relay's KEK file does
    // not open: the tenant key is gone for good (tombstone, never recreated).
    const after = await database.query(
      "SELECT fields->>'apiKey' AS sealed FROM relay_credentials WHERE tenant = 'merchant-a'",
    );
    expect(after.rows).toHaveLength(1);
    const kek = new Keyring([await keyFileKek(join(h.dataDir, 'kek.key'), { id: 'dev-file-kek' })]);
    await expect(
      open(fromText(String(after.rows[0]?.sealed)), {
        keyring: kek,
        context: { tenant: 'merchant-a' },
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_CRYPTO_/) });
    const tomb = await database.query(
      "SELECT state, material FROM relay_tenant_keys WHERE tenant = 'merchant-a'",
    );
    expect(tomb.rows[0]).toMatchObject({ state: 'destroyed', material: null });
    const again = await a.first.putCredentials.safe({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });
    expect(!again.ok && again.error.status).toBe(410);

    // The second instance held A's key in memory; it stops opening within its recheck time.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const onSecond = await send(a.second, 'A-5');
    expect(!onSecond.ok && onSecond.error.status).toBe(410);
    expect(
      h.counterpart.effects
        .concat(second.counterpart.effects)
        .map((e) => (e.body as { order: string }).order)
        .sort(),
    ).toEqual(['A-1', 'A-2', 'A-3', 'B-1']);
  });
});
