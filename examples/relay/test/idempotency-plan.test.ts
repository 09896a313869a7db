/**
 * The send ledger's statements on PostgreSQL keep using `relay_idempotency`'s primary key
 * however their plans are cached: a fresh schema (no statistics yet), N sends through a real
 * relay, then zero sequential scans of the table. The relay prepares its statements once per
 * connection, so from the sixth execution PostgreSQL may switch to a generic plan built while
 * the table looked empty — for the completion's `UPDATE … FROM unnest(…)` that was a hash join
 * over a sequential scan, kept for every later completion (issue 18).
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, POSTGRES_URL, postgresReachable, startHarness } from './helpers.ts';

const skip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
if (skip) console.warn(`${skip}: idempotency plan test skipped`);

/** Sends per run, and how many are in flight at once. */
const SENDS = 300;
const IN_FLIGHT = 8;

describe.skipIf(skip !== undefined)('relay_idempotency plans on PostgreSQL', () => {
  const schema = `relay_plan_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let database: Database;
  let h: Harness;

  beforeAll(async () => {
    database = await openDatabase({ url: POSTGRES_URL, schema });
    h = await startHarness({ database });
  });

  /**
   * The table's counters, complete: each backend flushes its counters lazily, so every pooled
   * connection (the pool holds at most 10) is made to flush first — ten statements held open
   * at once land on ten connections, and each flushes before answering.
   */
  async function counters() {
    await Promise.all(
      Array.from({ length: 10 }, () =>
        database.query('SELECT pg_stat_force_next_flush(), pg_sleep(0.2)'),
      ),
    );
    const reader = new pg.Client({ connectionString: POSTGRES_URL });
    await reader.connect();
    try {
      const { rows } = await reader.query(
        `SELECT seq_scan, n_tup_ins, n_tup_upd FROM pg_stat_user_tables
         WHERE relname = 'relay_idempotency' AND schemaname = $1`,
        [schema],
      );
      return {
        seqScans: Number(rows[0]?.seq_scan),
        inserted: Number(rows[0]?.n_tup_ins),
        updated: Number(rows[0]?.n_tup_upd),
      };
    } finally {
      await reader.end();
    }
  }

  afterAll(async () => {
    await h?.close();
    await database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await database?.close();
  });

  it("ledger statements never scan relay_idempotency sequentially (fresh schema, N sends and replays: the completion UPDATE's cached generic plan)", async () => {
    const { client } = await h.client();
    await client.activate({ body: { licenseKey: await h.issueKey() } });
    await client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
    });

    // Building the primary key's index at CREATE TABLE is itself a sequential scan: counted
    // before the sends, and only what the sends add is asserted.
    const before = await counters();
    let next = 0;
    const worker = async () => {
      while (next < SENDS) {
        const n = next++;
        const idempotencyKey = randomUUID();
        const body = { operation: 'order.status', payload: { order: `P-${n}`, status: 'shipped' } };
        await client.send({ connection: 'shop-1', idempotencyKey, body });
        // Every tenth key sent again: the retry finds the record and replays it.
        if (n % 10 === 0) {
          const again = await client.send({ connection: 'shop-1', idempotencyKey, body });
          expect(again.replayed).toBe(true);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    expect(h.counterpart.effects).toHaveLength(SENDS);

    const after = await counters();
    // The counters are complete: every send's claim and completion is in them.
    expect(after.inserted - before.inserted).toBeGreaterThanOrEqual(SENDS);
    expect(after.updated - before.updated).toBeGreaterThanOrEqual(SENDS);
    expect(after.seqScans - before.seqScans).toBe(0);
  });
});
