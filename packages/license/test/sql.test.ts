/**
 * The SQL store against PGlite (embedded) and the machine's real PostgreSQL
 * (`DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/test). The whole authority
 * suite runs over both; activation races run with parallel connections on PostgreSQL.
 */
import { PGlite } from '@electric-sql/pglite';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlLicenseStore } from '../src/lib/sql.ts';
import { authoritySuite } from './authority-suite.ts';
import { Device, harness } from './helpers.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const suffix = () => `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

let lite: PGlite;
beforeAll(async () => {
  lite = new PGlite();
  await lite.waitReady;
});
afterAll(async () => {
  await lite?.close();
});

authoritySuite('SQL on PGlite', async () => {
  const store = new SqlLicenseStore(lite, { table: `lic_${suffix()}` });
  await store.migrate();
  return store;
});

async function connect(): Promise<pg.Pool | string> {
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 16,
    connectionTimeoutMillis: READY_BOUND_MS,
  });
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool.end();
    return missingDependency(
      `PostgreSQL at ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}`,
      `${(error as Error).message}; start it or set DATABASE_URL`,
    );
  }
}

const pool = await connect();
const skip = typeof pool === 'string' ? pool : undefined;
const schema = `fluxel_license_test_${suffix()}`;

describe.skipIf(skip !== undefined)(`PostgreSQL ${skip ?? ''}`, () => {
  const db = pool as pg.Pool;
  beforeAll(async () => {
    await db.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await db.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.end();
  });

  authoritySuite('SQL on PostgreSQL', async () => {
    const store = new SqlLicenseStore(db, { table: `${schema}.lic_${suffix()}` });
    await store.migrate();
    return store;
  });

  it('48 parallel activations of one key on parallel connections: exactly one wins, every time', async () => {
    const store = new SqlLicenseStore(db, { table: `${schema}.race_${suffix()}` });
    await store.migrate();
    for (let round = 0; round < 5; round++) {
      const h = await harness(store);
      const { key, license } = await h.authority.issue({ tenant: 'race', product: 'p' });
      const devices = await Promise.all(Array.from({ length: 48 }, () => Device.create(h.clock)));
      const results = await Promise.allSettled(devices.map((d) => d.activate(h.authority, key)));
      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      const stored = await store.get(license.id);
      const winner = devices[results.findIndex((r) => r.status === 'fulfilled')] as Device;
      expect(stored?.deviceJkt).toBe(winner.signer.jkt);
      expect(stored?.version).toBe(2);
    }
  });

  it('the migration is idempotent and only keyed hashes are stored', async () => {
    const table = `${schema}.mig_${suffix()}`;
    const store = new SqlLicenseStore(db, { table });
    await store.migrate();
    await store.migrate();
    const h = await harness(store);
    const { key } = await h.authority.issue({ tenant: 't', product: 'p' });
    const dump = JSON.stringify((await db.query(`SELECT * FROM ${table}`)).rows);
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(key.replaceAll('-', ''));
  });

  it('a storage failure is a typed error', async () => {
    const store = new SqlLicenseStore(db, { table: `${schema}.never_migrated` });
    await expect(store.get('x')).rejects.toMatchObject({ code: 'ERR_LICENSE_STORAGE' });
    expect(() => new SqlLicenseStore(db, { table: 'x; DROP TABLE y' })).toThrow(/identifier/);
  });
});
