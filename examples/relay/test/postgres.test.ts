/**
 * The same relay on a real PostgreSQL (`DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/test), in a schema of its own that is dropped afterwards.
 * Skipped, saying so, when no server answers.
 */
import { randomUUID } from 'node:crypto';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, POSTGRES_URL, postgresReachable, startHarness } from './helpers.ts';

const url = POSTGRES_URL;

const available = await postgresReachable();
if (!available) console.warn(`PostgreSQL not reachable at ${url}: postgres tests skipped`);

describe.skipIf(!available)('relay on PostgreSQL', () => {
  const schema = `relay_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let database: Database;
  let h: Harness;

  beforeAll(async () => {
    database = await openDatabase({ url, schema });
    h = await startHarness({ database });
  });

  afterAll(async () => {
    await h?.close();
    await database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await database?.close();
  });

  it('activate, credentials, concurrent sends with one key reach the counterpart once, mailbox round trip, no plaintext at rest', async () => {
    expect(database.kind).toBe('postgres');
    const { client } = await h.client();
    const licenseKey = await h.issueKey();
    await client.activate({ body: { licenseKey } });
    await client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
    });

    const idempotencyKey = randomUUID();
    const body = { operation: 'order.status', payload: { order: 'PG-1', status: 'shipped' } };
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        client.send.safe({ connection: 'shop-1', idempotencyKey, body }),
      ),
    );
    expect(results.some((r) => r.ok)).toBe(true);
    for (const r of results) if (!r.ok) expect(r.error.code).toBe('ERR_RELAY_UPSTREAM_UNAVAILABLE'); // "in progress"
    const after = await client.send({ connection: 'shop-1', idempotencyKey, body });
    expect(after.replayed).toBe(true);
    expect(h.counterpart.effects.filter((e) => e.idempotencyKey === idempotencyKey)).toHaveLength(
      1,
    );

    const hook = await h.hook('shop-1', { payload: { reference: 'pg-secret-reference-42' } });
    expect(hook.status).toBe(204);
    const { events } = await client.pickup({ wait: 1 });
    expect(events.map((e) => e.id)).toEqual([hook.id]);

    const { rows: tables } = await database.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()',
    );
    expect(tables.length).toBeGreaterThanOrEqual(4);
    let dump = '';
    for (const t of tables)
      dump += JSON.stringify(
        (await database.query(`SELECT * FROM "${String(t.table_name)}"`)).rows,
      );
    expect(dump).toContain('flx1.');
    for (const secret of [API_KEY, h.webhookSecret, 'pg-secret-reference-42', 'PG-1', licenseKey])
      expect(dump).not.toContain(secret);

    expect(await client.ack({ body: { ids: [hook.id] } })).toEqual({ acked: 1 });
  });
});
