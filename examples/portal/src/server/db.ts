/**
 * The portal's database: PostgreSQL when `DATABASE_URL` is set, otherwise an embedded PGlite
 * (same SQL). Migrations are the SQL files in `migrations/`, applied in name order at start,
 * each once, under an advisory lock on PostgreSQL so two portals starting together do not race.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { serverUrl } from '@fluxel-example/kit/database-hosts';
import { refuseStandby } from '@fluxel-example/kit/database-start';

export type { Database };

const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);
const LOCK_ID = 7_314_159_265;

export interface PortalDatabaseOptions {
  readonly url?: string;
  readonly schema?: string;
  readonly pgliteDir?: string;
  /** Told when the pool moves to another of the URL's servers (a failover). */
  readonly onServerChange?: (server: string) => void;
}

/** Splits a migration file into statements (no functions or `;` inside strings in our SQL). */
function statements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((s) =>
      s
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter((s) => s.length > 0);
}

type Query = Database['query'];

/** Applies the pending migrations through `query`, optionally under the advisory lock. */
export async function migrate(
  query: Query,
  lock: boolean,
  now: () => number = Date.now,
): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const applied: string[] = [];
  if (lock) await query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
  try {
    await query(
      'CREATE TABLE IF NOT EXISTS portal_migrations (version text PRIMARY KEY, applied_at bigint NOT NULL)',
    );
    const { rows } = await query('SELECT version FROM portal_migrations');
    const done = new Set(rows.map((r) => String(r.version)));
    for (const file of files) {
      if (done.has(file)) continue;
      for (const statement of statements(readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8')))
        await query(statement);
      await query('INSERT INTO portal_migrations (version, applied_at) VALUES ($1, $2)', [
        file,
        now(),
      ]);
      applied.push(file);
    }
  } finally {
    if (lock) await query('SELECT pg_advisory_unlock($1)', [LOCK_ID]);
  }
  return applied;
}

export async function openPortalDatabase(options: PortalDatabaseOptions): Promise<Database> {
  if (!options.url) {
    const db = await openDatabase(options.pgliteDir ? { pgliteDir: options.pgliteDir } : {});
    await migrate(db.query, false);
    return db;
  }
  if (options.schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema))
    throw new Error('invalid schema name');
  // Schema and migrations under one session-level advisory lock, on one dedicated connection,
  // so portals starting at the same moment do not race (not even on CREATE SCHEMA).
  const { default: pg } = await import('pg');
  // A host list (a primary and its standby) is asked which server takes writes.
  const client = new pg.Client({ connectionString: await serverUrl(pg.Client, options.url) });
  // A connection dying mid-migration rejects the query; without a listener its 'error' event
  // would also kill the process.
  client.on('error', () => {});
  await client.connect();
  try {
    const query: Query = async (text, params) => {
      const res = await client.query(text, params as unknown[]);
      return { rows: res.rows as Record<string, unknown>[] };
    };
    await refuseStandby(query);
    await query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    try {
      if (options.schema) {
        await query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
        await query(`SET search_path TO ${options.schema}`);
      }
      await migrate(query, false);
    } finally {
      // When the connection died, ending it below released the lock with the session; the
      // unlock's own failure must not hide why the migration failed.
      await query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
  return openDatabase({
    url: options.url,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.onServerChange ? { onServerChange: options.onServerChange } : {}),
  });
}
