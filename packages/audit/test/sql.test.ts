import { PGlite } from '@electric-sql/pglite';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, generateSigningKey, type SqlClient, SqlStore } from '../src/index.ts';

const prefix = `audit_${process.pid}_${Date.now().toString(36)}`;

async function exercise(client: SqlClient, table: string) {
  const key = generateSigningKey();
  const store = new SqlStore(client, { table, stream: 'relay' });
  let log = await AuditLog.open({
    store,
    signingKey: key,
    checkpointEvery: 5,
    checkpointIntervalMs: 0,
  });
  const base = Date.UTC(2026, 4, 1, 12);
  const appends = [];
  for (let i = 0; i < 30; i++) {
    appends.push(
      log.append({
        time: new Date(base + i * 60_000).toISOString(),
        tenant: i % 3 === 0 ? 'globex' : 'acme',
        actor: { type: i % 5 === 0 ? 'device' : 'user', id: `u${i % 4}`, ip: '192.0.2.1' },
        action: i % 2 === 0 ? 'auth.login' : 'license.activate',
        target: { type: 'license', id: `L${i}` },
        outcome: i % 7 === 0 ? 'failure' : 'success',
      }),
    );
  }
  await Promise.all(appends);
  await log.close();
  // Reopen: the chain continues from the stored head.
  log = await AuditLog.open({ store, signingKey: key, checkpointIntervalMs: 0 });
  await log.append({
    tenant: 'acme',
    actor: { type: 'user', id: 'u1' },
    action: 'admin.role.grant',
    outcome: 'success',
  });
  await log.close();

  const report = await store.verify({ publicKeys: [key] });
  expect(report.findings).toEqual([]);
  expect(report.events).toBe(31);

  const acme = await store.query({ tenant: 'acme' });
  expect(acme.events).toHaveLength(21);
  expect(acme.events.every((e) => e.tenant === 'acme')).toBe(true);
  expect(acme.events[0]?.action).toBe('admin.role.grant'); // newest first
  const page1 = await store.query({ tenant: 'acme', limit: 8 });
  expect(page1.events).toHaveLength(8);
  const page2 = await store.query({
    tenant: 'acme',
    limit: 8,
    beforeSeq: page1.nextBeforeSeq as number,
  });
  expect(page2.events[0]?.seq).toBeLessThan(page1.events.at(-1)?.seq as number);
  const filtered = await store.query({
    tenant: 'acme',
    actorId: 'u1',
    action: 'auth.*',
    outcome: 'success',
    from: new Date(base + 5 * 60_000),
    to: new Date(base + 25 * 60_000),
  });
  expect(filtered.events.map((e) => e.data ?? e.time)).toEqual(
    acme.events
      .filter((e) => e.actor.id === 'u1' && e.action.startsWith('auth.') && e.outcome === 'success')
      .filter(
        (e) => Date.parse(e.time) >= base + 5 * 60_000 && Date.parse(e.time) < base + 25 * 60_000,
      )
      .map((e) => e.data ?? e.time),
  );
  expect(
    (await store.query({ tenant: 'acme', actorType: 'device' })).events.every(
      (e) => e.actor.type === 'device',
    ),
  ).toBe(true);
  await expect(store.query({ tenant: '' })).rejects.toMatchObject({
    code: 'ERR_AUDIT_INVALID_ARGUMENT',
  });

  // Tampering in the table is found by the verifier.
  await client.query(
    `UPDATE ${table} SET line = replace(line, '"u2"', '"u9"') WHERE stream = 'relay' AND seq = 4`,
  );
  const tampered = await store.verify({ publicKeys: [key] });
  expect(tampered.findings.map((f) => `${f.code}@${f.seq}`)).toEqual(['hash-mismatch@4']);

  // A second writer cannot fork the chain: the primary key refuses its duplicate sequence number.
  const a = await AuditLog.open({
    store: new SqlStore(client, { table, stream: 'relay' }),
    signingKey: key,
    checkpointIntervalMs: 0,
  });
  const b = await AuditLog.open({
    store: new SqlStore(client, { table, stream: 'relay' }),
    signingKey: key,
    checkpointIntervalMs: 0,
  });
  const event = {
    tenant: 'acme',
    actor: { type: 'user' as const, id: 'x' },
    action: 'data.read',
    outcome: 'success' as const,
  };
  // b opened after a and took the next sequence number (its `open` checkpoint): a's next
  // append collides with it and fails instead of forking; b goes on.
  await expect(a.append(event)).rejects.toMatchObject({ code: 'ERR_AUDIT_STORAGE' });
  await b.append(event);
  await b.close();
  await a.close();
  expect((await store.verify({ publicKeys: [key] })).findings.map((f) => f.code)).toEqual([
    'hash-mismatch',
  ]);
}

describe('SqlStore on PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.waitReady;
  });
  afterAll(async () => {
    await db?.close();
  });

  it('stores, reopens, queries and verifies', async () => {
    await exercise(db, `${prefix}_lite`);
  });

  it('refuses a table name that is not an identifier', () => {
    expect(() => new SqlStore(db, { table: 'x; DROP TABLE y' })).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_INVALID_ARGUMENT' }),
    );
  });
});

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
let client: pg.Client | undefined;
let skip: string | undefined;
try {
  client = new pg.Client({ connectionString: url, connectionTimeoutMillis: READY_BOUND_MS });
  await client.connect();
} catch {
  client = undefined;
  skip = missingDependency(`PostgreSQL at ${url}`, 'start PostgreSQL or set DATABASE_URL');
}

describe.skipIf(skip !== undefined)(
  `SqlStore on PostgreSQL ${skip ? `(skipped: ${skip})` : ''}`,
  () => {
    const schema = `${prefix}_pg`;
    afterAll(async () => {
      await client?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client?.end();
    });

    it('stores, reopens, queries and verifies', async () => {
      const c = client as pg.Client;
      await c.query(`CREATE SCHEMA ${schema}`);
      await exercise(c, `${schema}.records`);
    });
  },
);
