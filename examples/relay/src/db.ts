/**
 * The relay's database: PostgreSQL when a URL is given, otherwise PGlite (embedded Postgres,
 * same SQL) in a directory or in memory. Everything goes through `query(text, params)`.
 */
import type { SqlClient } from '@fluxel/license/sql';

export interface Database extends SqlClient {
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; PGlite when absent. */
  readonly url?: string;
  /** Schema to create and use (PostgreSQL only; tests use one per run). */
  readonly schema?: string;
  /** PGlite data directory; in memory when absent. */
  readonly pgliteDir?: string;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (options.url) {
    const { default: pg } = await import('pg');
    if (options.schema && !SCHEMA.test(options.schema)) throw new Error('invalid schema name');
    if (options.schema) {
      const admin = new pg.Client({ connectionString: options.url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      await admin.end();
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    return {
      kind: 'postgres',
      query: async (text, params) => {
        const res = await pool.query(text, params as unknown[]);
        return { rows: res.rows as Record<string, unknown>[] };
      },
      close: () => pool.end(),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const db = options.pgliteDir ? new PGlite(options.pgliteDir) : new PGlite();
  await db.waitReady;
  return {
    kind: 'pglite',
    query: async (text, params) => {
      const res = await db.query<Record<string, unknown>>(text, params as unknown[]);
      return { rows: res.rows };
    },
    close: () => db.close(),
  };
}

/** The relay's own tables (the license table comes from `SqlLicenseStore.migrate()`). */
export const RELAY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS relay_credentials (
  license_id  text NOT NULL,
  tenant      text NOT NULL,
  connection  text NOT NULL,
  kind        text NOT NULL,
  fields      jsonb NOT NULL,
  set_at      bigint NOT NULL,
  PRIMARY KEY (license_id, connection)
)`,
  'CREATE INDEX IF NOT EXISTS relay_credentials_connection_idx ON relay_credentials (connection)',
  `CREATE TABLE IF NOT EXISTS relay_idempotency (
  license_id      text NOT NULL,
  key             text NOT NULL,
  connection      text NOT NULL,
  operation       text NOT NULL,
  body_hash       text NOT NULL,
  state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'rejected')),
  upstream_status integer,
  completed_at    bigint,
  created_at      bigint NOT NULL,
  PRIMARY KEY (license_id, key)
)`,
  `CREATE TABLE IF NOT EXISTS relay_mailbox (
  license_id  text NOT NULL,
  id          text NOT NULL,
  tenant      text NOT NULL,
  connection  text NOT NULL,
  type        text NOT NULL,
  sealed      text NOT NULL,
  received_at bigint NOT NULL,
  expires_at  bigint NOT NULL,
  PRIMARY KEY (license_id, id)
)`,
  'CREATE INDEX IF NOT EXISTS relay_mailbox_expires_idx ON relay_mailbox (expires_at)',
];
