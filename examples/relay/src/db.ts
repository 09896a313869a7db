/**
 * The relay's database: PostgreSQL when a URL is given, otherwise PGlite (embedded Postgres,
 * same SQL) in a directory or in memory. Everything goes through `query(text, params)`.
 */
import { type SqlClient, SqlLicenseStore } from '@fluxel/license/sql';

export interface Database extends SqlClient {
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
  /**
   * Runs `fn` on one connection while holding the relay's migration lock (PostgreSQL: a
   * session advisory lock per schema, released afterwards — also when the connection dies),
   * so instances started at the same moment migrate one after the other. Absent on PGlite
   * (one process) and on databases supplied by the caller: migrations then run unguarded.
   */
  exclusive?<T>(fn: (client: SqlClient) => Promise<T>): Promise<T>;
}

/**
 * Names for the relay's parameterised data statements, so `pg` prepares each once per
 * connection and PostgreSQL skips parsing and planning on every later call. Only
 * SELECT/INSERT/UPDATE/DELETE/WITH statements; bounded (texts past the bound run unnamed).
 */
const statementNames = new Map<string, string>();
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
function statementName(text: string): string | undefined {
  const known = statementNames.get(text);
  if (known) return known;
  if (statementNames.size >= 500 || text.length > 8192 || !PREPARABLE.test(text)) return undefined;
  const name = `fluxel_relay_${statementNames.size + 1}`;
  statementNames.set(text, name);
  return name;
}

/** The advisory lock key: one per schema (`current_schema()`), so separate schemas do not wait on each other. */
const MIGRATION_LOCK = "hashtextextended('fluxel-relay-migrations:' || current_schema(), 0)";

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
      // Concurrent `CREATE SCHEMA IF NOT EXISTS` of the same name can still collide on the
      // catalog's unique index; serialise it with a transaction-scoped advisory lock.
      const admin = new pg.Client({ connectionString: options.url });
      await admin.connect();
      try {
        await admin.query('BEGIN');
        await admin.query(
          "SELECT pg_advisory_xact_lock(hashtextextended('fluxel-relay-schema:' || $1, 0))",
          [options.schema],
        );
        await admin.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
        await admin.query('COMMIT');
      } finally {
        await admin.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle pooled connection that dies (server restart, pg_terminate_backend, network cut)
    // is emitted as 'error' on the pool; without a listener that event kills the process.
    // The pool has already dropped the client, and the next query opens a new connection.
    pool.on('error', () => {});
    return {
      kind: 'postgres',
      query: async (text, params) => {
        const name = params?.length ? statementName(text) : undefined;
        const res = await pool.query(
          name
            ? { name, text, values: params as unknown[] }
            : { text, values: params as unknown[] },
        );
        return { rows: res.rows as Record<string, unknown>[] };
      },
      close: () => pool.end(),
      exclusive: async (fn) => {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
          try {
            return await fn({
              query: async (text, params) => {
                const res = await client.query(text, params as unknown[]);
                return { rows: res.rows as Record<string, unknown>[] };
              },
            });
          } finally {
            await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => {
              broken = true;
            });
          }
        } catch (error) {
          broken = true;
          throw error;
        } finally {
          // A connection whose unlock may have failed is discarded (which ends its session and
          // with it the lock), never handed back to the pool still holding it.
          client.release(broken);
        }
      },
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
  // Who wrote the credentials: 'device' (the agent), else the portal user's id.
  "ALTER TABLE relay_credentials ADD COLUMN IF NOT EXISTS set_by text NOT NULL DEFAULT 'device'",
  // One key-encryption key per tenant (crypto-shredding), itself sealed under the relay's KEK;
  // destroying it leaves a tombstone, so it is never recreated.
  `CREATE TABLE IF NOT EXISTS relay_tenant_keys (
  tenant       text PRIMARY KEY,
  state        text NOT NULL CHECK (state IN ('active', 'destroyed')),
  material     text,
  created_at   bigint NOT NULL,
  destroyed_at bigint
)`,
  // Inbound webhooks are routed by a per-connection hook id (`/v1/hooks/<connection>/<hookId>`),
  // so a webhook costs one row and one decryption. Rows stored before hook ids existed get one
  // here and are marked legacy: only they are still served on `/v1/hooks/<connection>`
  // (deprecated). gen_random_uuid() draws from the server's strong random source (244 bits
  // here); new rows get their id from the relay (24 random bytes).
  'ALTER TABLE relay_credentials ADD COLUMN IF NOT EXISTS hook_id text',
  'ALTER TABLE relay_credentials ADD COLUMN IF NOT EXISTS legacy_hook boolean NOT NULL DEFAULT false',
  `UPDATE relay_credentials
     SET hook_id = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), legacy_hook = true
   WHERE hook_id IS NULL`,
  'CREATE UNIQUE INDEX IF NOT EXISTS relay_credentials_hook_idx ON relay_credentials (hook_id)',
  // Ids of accepted webhooks per license, remembered past the signature's tolerance window, so
  // a signed webhook replayed after the agent acked it is not stored again.
  `CREATE TABLE IF NOT EXISTS relay_webhook_seen (
  license_id  text NOT NULL,
  id          text NOT NULL,
  expires_at  bigint NOT NULL,
  PRIMARY KEY (license_id, id)
)`,
  'CREATE INDEX IF NOT EXISTS relay_webhook_seen_expires_idx ON relay_webhook_seen (expires_at)',
  // The random token of the claim that created (or reclaimed) an idempotency record: the claim
  // whose token it holds is the one that forwards. Records are purged past the idempotency
  // window by claim time (created_at).
  'ALTER TABLE relay_idempotency ADD COLUMN IF NOT EXISTS claim text',
  'CREATE INDEX IF NOT EXISTS relay_idempotency_created_idx ON relay_idempotency (created_at)',
];

/**
 * Brings the database to the relay's schema: the license store's tables, then
 * {@link RELAY_MIGRATIONS} — under the database's migration lock when it has one (PostgreSQL),
 * so instances started at the same moment do not race on CREATE TABLE / ALTER TABLE.
 */
export async function migrateRelay(database: Database): Promise<void> {
  const migrate = async (client: SqlClient) => {
    await new SqlLicenseStore(client).migrate();
    for (const statement of RELAY_MIGRATIONS) await client.query(statement);
  };
  await (database.exclusive ? database.exclusive(migrate) : migrate(database));
}
