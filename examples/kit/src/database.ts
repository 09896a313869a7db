/**
 * Opening a database: PostgreSQL when a URL is given, otherwise PGlite (embedded Postgres,
 * same SQL) in a directory or in memory. Everything goes through `query(text, params)`. The
 * relay and the portal open theirs with it; each migrates its own tables.
 */
import type { SqlClient } from '@fluxel/license/sql';
import type { QueryConfig } from 'pg';
import { locateServer, postgresTargets } from './database-hosts.ts';
import { databaseWaitReason } from './database-start.ts';

export interface Database extends SqlClient {
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
  /**
   * Runs `fn` on one connection while holding the migration lock (PostgreSQL: a
   * session advisory lock per schema, released afterwards — also when the connection dies),
   * so instances started at the same moment migrate one after the other. Absent on PGlite
   * (one process) and on databases supplied by the caller: migrations then run unguarded.
   */
  exclusive?<T>(fn: (client: SqlClient) => Promise<T>): Promise<T>;
}

/**
 * Names for parameterised data statements, so `pg` prepares each once per
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
  /**
   * How long a query may wait for its answer before it fails and its connection is dropped;
   * default 15 s. A server that vanished without closing its connections (its node lost)
   * otherwise holds every query for the kernel's TCP timeout (minutes). Migrations
   * (`exclusive`) are not bounded.
   */
  readonly queryTimeoutMs?: number;
  /**
   * Called when a connection string that lists several servers (database-hosts.ts) moves to
   * another one, e.g. the promoted standby after a failover: `server` is its `host:port`.
   */
  readonly onServerChange?: (server: string) => void;
}

const ignore = () => {};

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (options.url) {
    const { default: pg } = await import('pg');
    if (options.schema && !SCHEMA.test(options.schema)) throw new Error('invalid schema name');
    const queryTimeoutMs = options.queryTimeoutMs ?? 15_000;
    if (!Number.isInteger(queryTimeoutMs) || queryTimeoutMs < 1)
      throw new RangeError(`queryTimeoutMs must be a whole number ≥ 1, got ${queryTimeoutMs}`);
    const targets = postgresTargets(options.url);
    // With several servers (or read-write asked for), the one to use is found by asking each.
    const choosing = targets.urls.length > 1 || targets.sessionAttrs !== 'any';
    let server = choosing ? await locateServer(pg.Client, targets) : 0;
    if (options.schema) {
      // Concurrent `CREATE SCHEMA IF NOT EXISTS` of the same name can still collide on the
      // catalog's unique index; serialise it with a transaction-scoped advisory lock.
      const admin = new pg.Client({ connectionString: targets.urls[server] });
      // A socket that dies while connected is emitted as 'error' on the client, also while a
      // query runs (which then rejects too); without a listener that event kills the process.
      admin.on('error', ignore);
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
    const newPool = (url: string) => {
      const created = new pg.Pool({
        connectionString: url,
        max: 10,
        // A server that is gone without a word: new connections give up, idle ones are probed.
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
      });
      // An idle pooled connection that dies (server restart, pg_terminate_backend, network
      // cut) is emitted as 'error' on the pool; without a listener that event kills the
      // process. The pool has already dropped the client, and the next query opens a new one.
      created.on('error', ignore);
      return created;
    };
    let pool = newPool(targets.urls[server] as string);
    // A query that failed because its server is gone or read-only (a failover): ask the
    // servers again, at most once a second, and move the pool to the one that fits. The
    // failed query still fails (its caller retries); later ones go to the new server.
    let asking: Promise<void> | undefined;
    let askedAt = 0;
    const askAgain = (error: unknown) => {
      if (!choosing || asking || !databaseWaitReason(error) || Date.now() - askedAt < 1000) return;
      askedAt = Date.now();
      asking = locateServer(pg.Client, targets)
        .then((found) => {
          if (found === server) return;
          const old = pool;
          server = found;
          pool = newPool(targets.urls[found] as string);
          old.end().catch(ignore);
          options.onServerChange?.(targets.servers[found] as string);
        }, ignore)
        .finally(() => {
          asking = undefined;
        });
    };
    return {
      kind: 'postgres',
      query: async (text, params) => {
        const name = params?.length ? statementName(text) : undefined;
        const values = params as unknown[];
        try {
          // query_timeout: pg fails the query and the pool drops its connection.
          const res = await pool.query({
            ...(name ? { name } : {}),
            text,
            values,
            query_timeout: queryTimeoutMs,
          } as QueryConfig);
          return { rows: res.rows as Record<string, unknown>[] };
        } catch (error) {
          askAgain(error);
          throw error;
        }
      },
      close: async () => {
        await asking;
        await pool.end();
      },
      exclusive: async (fn) => {
        const client = await pool.connect().catch((error: unknown) => {
          askAgain(error);
          throw error;
        });
        // The pool takes its own 'error' listener off a client it hands out: ours keeps a
        // connection dying mid-migration from killing the process (the query rejects instead).
        client.on('error', ignore);
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
          client.off('error', ignore);
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
