/**
 * The idempotency window: a key's record is kept for `idempotencyWindowMs` (default 24 h,
 * counted from its claim); after it the key is new again — forwarded once more, exactly once
 * however many sends race for it — and the periodic purge deletes expired records in bounded
 * batches, never a pending one. Also the statements a send costs. On PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateRelay } from '../src/db.ts';
import { IDEMPOTENCY_WINDOW_MS, SendLedger } from '../src/send-ledger.ts';
import { API_KEY, type Harness, POSTGRES_URL, postgresReachable, startHarness } from './helpers.ts';

const pgSkip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
if (pgSkip) console.warn(`${pgSkip}: PostgreSQL idempotency window tests skipped`);

const N = 8;
const body = { operation: 'order.status', payload: { order: 'W-1', status: 'shipped' } };

describe.each([
  { name: 'PGlite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
])('idempotency window on $name', ({ postgres }) => {
  const schema = `relay_window_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let database: Database | undefined;
  let h: Harness;
  /** Statements the relay sent to its database. */
  const counter = { statements: 0 };
  const skip = postgres && pgSkip !== undefined;

  beforeAll(async () => {
    if (skip) return;
    const opened = postgres
      ? await openDatabase({ url: POSTGRES_URL, schema })
      : await openDatabase();
    database = opened;
    const query = opened.query.bind(opened);
    const counted: Database = {
      ...opened,
      query: (text, params) => {
        counter.statements++;
        return query(text, params);
      },
    };
    h = await startHarness({ database: counted });
  });

  afterAll(async () => {
    await h?.close();
    if (postgres) await database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await database?.close();
  });

  const forwarded = (key: string) =>
    h.counterpart.effects.filter((e) => e.idempotencyKey === key).length;

  async function activated() {
    const { client } = await h.client();
    await client.activate({ body: { licenseKey: await h.issueKey() } });
    await client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
    });
    return client;
  }

  it.skipIf(skip)(
    'a key older than the idempotency window is forwarded again (within it, replayed)',
    async () => {
      h.clockOffset.ms = 0;
      const client = await activated();
      const idempotencyKey = randomUUID();
      expect((await client.send({ connection: 'shop-1', idempotencyKey, body })).replayed).toBe(
        false,
      );
      h.clockOffset.ms = IDEMPOTENCY_WINDOW_MS - 60_000;
      expect((await client.send({ connection: 'shop-1', idempotencyKey, body })).replayed).toBe(
        true,
      );
      expect(forwarded(idempotencyKey)).toBe(1);
      h.clockOffset.ms = IDEMPOTENCY_WINDOW_MS + 1000;
      // Past the window even another body is a new send, not a 409.
      const other = { operation: 'order.status', payload: { order: 'W-2', status: 'shipped' } };
      const again = await client.send({ connection: 'shop-1', idempotencyKey, body: other });
      expect(again.replayed).toBe(false);
      expect(forwarded(idempotencyKey)).toBe(2);
      // The reclaimed record starts a new window.
      expect(
        (await client.send({ connection: 'shop-1', idempotencyKey, body: other })).replayed,
      ).toBe(true);
      expect(forwarded(idempotencyKey)).toBe(2);
    },
  );

  it.skipIf(skip)(
    'N concurrent sends of an expired key: exactly one is forwarded, the others replay or wait',
    async () => {
      h.clockOffset.ms = 0;
      const client = await activated();
      const idempotencyKey = randomUUID();
      await client.send({ connection: 'shop-1', idempotencyKey, body });
      h.clockOffset.ms = IDEMPOTENCY_WINDOW_MS + 1000;
      const results = await Promise.all(
        Array.from({ length: N }, () =>
          client.send.safe({ connection: 'shop-1', idempotencyKey, body }),
        ),
      );
      expect(forwarded(idempotencyKey)).toBe(2);
      const fresh = results.filter((r) => r.ok && !r.value.replayed);
      expect(fresh).toHaveLength(1);
      for (const r of results)
        if (!r.ok) expect(r.error.code).toBe('ERR_RELAY_UPSTREAM_UNAVAILABLE'); // "in progress"
    },
  );

  it.skipIf(skip)(
    'statements per send: a sequential send costs at most 2, its replayed retry 1 (the claim returns the record; no separate read)',
    async () => {
      h.clockOffset.ms = 0;
      const client = await activated();
      await client.send({ connection: 'shop-1', idempotencyKey: randomUUID(), body });
      const idempotencyKey = randomUUID();
      let before = counter.statements;
      await client.send({ connection: 'shop-1', idempotencyKey, body });
      const first = counter.statements - before;
      before = counter.statements;
      const retried = await client.send({ connection: 'shop-1', idempotencyKey, body });
      const retry = counter.statements - before;
      expect(retried.replayed).toBe(true);
      console.info(`statements: send ${first}, retried send ${retry}`);
      expect(first).toBeLessThanOrEqual(2);
      expect(retry).toBeLessThanOrEqual(1);
    },
  );
});

describe('idempotency purge (PGlite)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase();
    await migrateRelay(database);
  });
  afterAll(() => database.close());

  it('deletes at most purgeBatch × purgeMaxBatches expired records per run and never a pending one', async () => {
    let now = 1_000_000_000_000;
    const ledger = new SendLedger(database, () => now, { purgeBatch: 3, purgeMaxBatches: 2 });
    const claim = (key: string) =>
      ledger.claim({ licenseId: 'lic-1', key, connection: 'c', operation: 'o', hash: 'h', now });
    const sent = { licenseId: 'lic-1', connection: 'c', operation: 'o', hash: 'h' };
    for (let i = 0; i < 10; i++) {
      await claim(`settled-${i}`);
      await ledger.complete(
        { ...sent, key: `settled-${i}`, state: 'delivered', status: 200, at: now },
        now,
      );
    }
    await claim('pending-old');
    now += IDEMPOTENCY_WINDOW_MS + 1000;
    await claim('settled-fresh');
    await ledger.complete(
      { ...sent, key: 'settled-fresh', state: 'rejected', status: 422, at: now },
      now,
    );
    const keys = async () =>
      (await database.query('SELECT key FROM relay_idempotency ORDER BY key')).rows.map((r) =>
        String(r.key),
      );
    expect(await ledger.purgeExpired()).toBe(6);
    expect(await keys()).toHaveLength(12 - 6);
    expect(await ledger.purgeExpired()).toBe(4);
    expect(await keys()).toEqual(['pending-old', 'settled-fresh']);
    expect(await ledger.purgeExpired()).toBe(0);
  });

  it('idempotencyWindowMs is checked at construction (whole ms, at least the pending lease, at most 30 days)', () => {
    for (const bad of [0, 1.5, 59_999, Number.NaN, 31 * 86_400_000])
      expect(() => new SendLedger(database, Date.now, { idempotencyWindowMs: bad })).toThrow(
        /idempotencyWindowMs/,
      );
    expect(
      () => new SendLedger(database, Date.now, { idempotencyWindowMs: 3_600_000 }),
    ).not.toThrow();
  });
});
