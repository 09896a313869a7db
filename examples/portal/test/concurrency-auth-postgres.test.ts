/**
 * Sign-in limits and one-time secrets under concurrency on the machine's PostgreSQL
 * (`DATABASE_URL`, default the local `test` database) in a schema of its own: here the
 * competing requests really run on separate database connections (a pool).
 */
import { randomBytes } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { authConcurrencyCases, frozenClock } from './concurrency-auth.cases.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `portal_auth_ccy_${randomBytes(4).toString('hex')}`;

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const up = await reachable();
if (!up) missingDependency('PostgreSQL', 'pg_ctlcluster --skip-systemctl-redirect 15 main start');

const clock = frozenClock();
let h: PortalHarness;

beforeAll(async () => {
  if (!up) return;
  h = await startPortalHarness({
    clock: clock.now,
    databaseUrl: URL,
    databaseSchema: SCHEMA,
    inMemoryDatabase: false,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (!up) return;
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
});

describe.skipIf(!up)('sign-in concurrency on PostgreSQL', () => {
  authConcurrencyCases(() => h, clock);
});
