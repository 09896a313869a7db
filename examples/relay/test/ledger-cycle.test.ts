/**
 * The send ledger's group commit: claims and completions waiting together are written by one
 * statement per cycle (issue 18), not by one statement per kind, and a key is written at most
 * once per cycle (a second write of it waits for the next). Results are checked as well as
 * the statements counted: every claim's `inserted` flag and credentials, every record's state
 * after its completion. On PGlite and, when it answers, on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateRelay } from '../src/db.ts';
import { type SendCompletion, SendLedger } from '../src/send-ledger.ts';
import { POSTGRES_URL, postgresReachable } from './helpers.ts';

/** Claims, and completions, submitted at once. */
const N = 32;
const LICENSE = 'lic-cycle';
const NOW = 1_700_000_000_000;

const backends = [{ name: 'PGlite', postgres: false }];
if (await postgresReachable()) backends.push({ name: 'PostgreSQL', postgres: true });
else
  console.warn(
    `${missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL')}: ledger cycle tests on PostgreSQL not registered`,
  );

describe.each(backends)('send ledger cycles on $name', ({ postgres }) => {
  const schema = `relay_cycle_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let database: Database | undefined;
  let ledger: SendLedger;
  /** Statements the ledger sent. */
  let statements = 0;

  beforeAll(async () => {
    const opened = postgres
      ? await openDatabase({ url: POSTGRES_URL, schema })
      : await openDatabase();
    database = opened;
    await migrateRelay(opened);
    await opened.query(
      `INSERT INTO relay_credentials (license_id, tenant, connection, kind, fields, set_at)
       VALUES ($1, 'tenant-1', 'shop-1', 'api-key', '{"sealed":"x"}', $2)`,
      [LICENSE, NOW],
    );
    const query = opened.query.bind(opened);
    const counted: Database = {
      ...opened,
      query: (text, params) => {
        statements++;
        return query(text, params);
      },
    };
    ledger = new SendLedger(counted, () => NOW);
  });

  afterAll(async () => {
    if (postgres) await database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await database?.close();
  });

  const claim = (key: string) =>
    ledger.claim({
      licenseId: LICENSE,
      key,
      connection: 'shop-1',
      operation: 'order.status',
      hash: `hash-${key}`,
      now: NOW,
    });
  const completion = (key: string, i: number): SendCompletion => {
    const sent = { licenseId: LICENSE, key, connection: 'shop-1', operation: 'order.status' };
    return i % 2 === 0
      ? { ...sent, hash: `hash-${key}`, state: 'delivered', status: 200, at: NOW + 1 }
      : { ...sent, hash: `hash-${key}`, state: 'rejected', status: 422, at: NOW + 1 };
  };
  /** Statements `fn` cost. */
  async function counting<T>(fn: () => Promise<T>): Promise<[T, number]> {
    const before = statements;
    const result = await fn();
    return [result, statements - before];
  }

  it(`${N} claims and ${N} completions submitted in the same tick are written by one statement, with the right results`, async () => {
    const first = Array.from({ length: N }, (_, i) => `first-${i}-${randomUUID()}`);
    const second = Array.from({ length: N }, (_, i) => `second-${i}-${randomUUID()}`);

    const [claimed, claimStatements] = await counting(() => Promise.all(first.map(claim)));
    expect(claimStatements).toBe(1);
    for (const c of claimed) {
      expect(c.inserted).toBe(true);
      expect(c.existing).toBeUndefined();
      expect(c.credentials).toEqual({ kind: 'api-key', fields: { sealed: 'x' } });
    }

    // Completions of the first keys interleaved with claims of new keys, all in one tick.
    const [[completed, claimedAgain], cycle] = await counting(() => {
      const completions: Promise<void>[] = [];
      const claims: Promise<Awaited<ReturnType<typeof claim>>>[] = [];
      for (let i = 0; i < N; i++) {
        completions.push(ledger.complete(completion(first[i] as string, i), NOW));
        claims.push(claim(second[i] as string));
      }
      return Promise.all([Promise.all(completions), Promise.all(claims)]);
    });
    expect(cycle).toBe(1);
    expect(completed).toHaveLength(N);
    for (const c of claimedAgain) {
      expect(c.inserted).toBe(true);
      expect(c.credentials).toEqual({ kind: 'api-key', fields: { sealed: 'x' } });
    }
    for (const [i, key] of first.entries()) {
      const record = await ledger.read(LICENSE, key);
      expect(record?.state).toBe(i % 2 === 0 ? 'delivered' : 'rejected');
      expect(record?.upstreamStatus).toBe(i % 2 === 0 ? 200 : 422);
      expect(record?.completedAt).toBe(NOW + 1);
    }
    for (const key of second) expect((await ledger.read(LICENSE, key))?.state).toBe('pending');

    // Retries of the completed keys find their outcome; completions of the second keys alone.
    const [[retried], mixed] = await counting(() =>
      Promise.all([
        Promise.all(first.map(claim)),
        Promise.all(second.map((key, i) => ledger.complete(completion(key, i), NOW))),
      ]),
    );
    expect(mixed).toBe(1);
    for (const [i, r] of retried.entries()) {
      expect(r.inserted).toBe(false);
      expect(r.existing?.state).toBe(i % 2 === 0 ? 'delivered' : 'rejected');
      expect(r.existing?.upstreamStatus).toBe(i % 2 === 0 ? 200 : 422);
    }
    for (const [i, key] of second.entries())
      expect((await ledger.read(LICENSE, key))?.state).toBe(i % 2 === 0 ? 'delivered' : 'rejected');
  });

  it('a completion and claims of the same key in one tick go to consecutive cycles: one claim inserts, the later ones see the outcome', async () => {
    const done = `done-${randomUUID()}`;
    const fresh = `fresh-${randomUUID()}`;
    expect((await claim(done)).inserted).toBe(true);

    const [[, retry, ...racing], cycles] = await counting(() =>
      Promise.all([
        ledger.complete(completion(done, 0), NOW),
        claim(done),
        claim(fresh),
        claim(fresh),
        claim(fresh),
      ]),
    );
    // Cycle 1: the completion of `done` and the first claim of `fresh`; cycle 2: the retry
    // of `done` and the second claim of `fresh`; cycle 3: the third claim of `fresh`.
    expect(cycles).toBe(3);
    expect(retry?.inserted).toBe(false);
    expect(retry?.existing?.state).toBe('delivered');
    expect(racing.filter((r) => r?.inserted)).toHaveLength(1);
    for (const r of racing) if (!r?.inserted) expect(r?.existing?.state).toBe('pending');
  });
});
