/**
 * The machine's PostgreSQL for the portal suites that run on it (`DATABASE_URL`, default the
 * local `test` database), each in a schema of its own. A missing server fails the run under
 * `CI=true` (`missingDependency`) and skips the file elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { PortalOptions } from '../src/server/app.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';

export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name: `<prefix>_<8 hex>`. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Whether PostgreSQL answers; when it does not, says so (and fails under CI). */
export async function postgresUp(): Promise<boolean> {
  const client = new pg.Client({
    connectionString: POSTGRES_URL,
    connectionTimeoutMillis: READY_BOUND_MS,
  });
  let up = false;
  try {
    await client.connect();
    up = true;
  } catch {
  } finally {
    await client.end().catch(() => {});
  }
  if (!up) missingDependency('PostgreSQL', 'pg_ctlcluster --skip-systemctl-redirect 15 main start');
  return up;
}

/** Drops `schema` and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

export interface PostgresPortal {
  /** Whether PostgreSQL answers: give it to `describe.skipIf(!pg.up)`. */
  readonly up: boolean;
  /** The file's own schema (dropped after its tests). */
  readonly schema: string;
  /** The harness, started before the file's tests: read it inside them. */
  readonly h: () => PortalHarness;
}

/**
 * A portal on the machine's PostgreSQL in a fresh schema `<prefix>_<8 hex>`, started before the
 * file's tests (when PostgreSQL answers) and closed, its schema dropped, after them.
 */
export async function setUpPostgresPortal(
  prefix: string,
  options: Partial<PortalOptions> = {},
): Promise<PostgresPortal> {
  const schema = uniqueSchema(prefix);
  const up = await postgresUp();
  let harness: PortalHarness | undefined;
  beforeAll(async () => {
    if (!up) return;
    harness = await startPortalHarness({
      ...options,
      databaseUrl: POSTGRES_URL,
      databaseSchema: schema,
      inMemoryDatabase: false,
    });
  });
  afterAll(async () => {
    await harness?.close();
    if (up) await dropSchema(schema);
  });
  return {
    up,
    schema,
    h() {
      if (!harness) throw new Error('the PostgreSQL portal is not started (is PostgreSQL up?)');
      return harness;
    },
  };
}
