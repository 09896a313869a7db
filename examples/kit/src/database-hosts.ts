/**
 * Which PostgreSQL server a service talks to, when it has more than one: a primary and its
 * streaming standby (deploy/swarm/stack.yml). The connection string lists the servers as
 * libpq does, and `target_session_attrs=read-write` asks for the one that takes writes:
 *
 *   postgres://relay@postgres-alpha:5432,postgres-alpha-standby:5432/relay?target_session_attrs=read-write
 *
 * node-postgres takes one host; `postgresTargets` turns such a string into one URL per server
 * (tried in the order given), and `locateServer` asks each, in order, until one fits: the
 * first that answers, or with `read-write` the first whose sessions are not read-only (libpq's
 * test: `SHOW transaction_read_only`, which is `on` on a hot standby). After a failover the
 * promoted standby is found the same way (database.ts asks again when a query fails because
 * its server is gone or read-only).
 */
import type pg from 'pg';
import { DatabaseReadOnly } from './database-start.ts';

export type TargetSessionAttrs = 'any' | 'read-write';

export interface PostgresTargets {
  /** One single-host connection string per server, in the order given. */
  readonly urls: readonly string[];
  /** `host:port` of each, for messages (no user, no password). */
  readonly servers: readonly string[];
  readonly sessionAttrs: TargetSessionAttrs;
}

const SESSION_ATTRS: readonly string[] = ['any', 'read-write'];

/**
 * Splits a `postgres://` connection string with a host list (`a:5432,b:5432` — a host without a
 * port gets 5432) and `target_session_attrs` (`any`, the default, or `read-write`) into one URL
 * per server. A string with one host and no `target_session_attrs` comes back as it is.
 */
export function postgresTargets(url: string): PostgresTargets {
  const scheme = ['postgres://', 'postgresql://'].find((x) => url.startsWith(x));
  if (!scheme)
    throw new Error(
      'DATABASE_URL is not a postgres:// connection string (postgres://user@host:5432/database)',
    );
  // scheme, userinfo@, host list, /path, ?query (a #fragment is dropped, as libpq does)
  const rest = url.slice(scheme.length).split('#')[0] as string;
  const q = rest.indexOf('?');
  const beforeQuery = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q);
  const slash = beforeQuery.indexOf('/');
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? '' : beforeQuery.slice(slash);
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  const hostList = authority.slice(at + 1);
  const params = new URLSearchParams(query);
  const attrs = params.get('target_session_attrs') ?? 'any';
  if (!SESSION_ATTRS.includes(attrs))
    throw new Error(
      `target_session_attrs must be "any" or "read-write", got ${JSON.stringify(attrs)}`,
    );
  params.delete('target_session_attrs');
  const others = params.toString();
  const hosts = hostList.split(',');
  if (hosts.some((h) => h === ''))
    throw new Error(
      'DATABASE_URL names an empty host: list servers as host:port,host:port (e.g. postgres-a:5432,postgres-b:5432)',
    );
  const servers = hosts.map((h) => (/(^[^[:]+|\])$/.test(h) ? `${h}:5432` : h));
  if (hosts.length === 1 && attrs === 'any') return { urls: [url], servers, sessionAttrs: 'any' };
  for (const s of servers)
    if (!/^(\[[0-9a-fA-F:.]+\]|[^[\]:]+):\d{1,5}$/.test(s))
      throw new Error(
        `DATABASE_URL names ${JSON.stringify(s)}: list servers as host:port,host:port`,
      );
  return {
    urls: servers.map((s) => `${scheme}${userinfo}${s}${path}${others ? `?${others}` : ''}`),
    servers,
    sessionAttrs: attrs as TargetSessionAttrs,
  };
}

export interface LocateOptions {
  /** How long one server may take to accept a connection; default 5 s. */
  readonly connectTimeoutMs?: number;
}

/**
 * The index in `targets.urls` of the server to use: the first that accepts a connection and,
 * with `read-write`, is not read-only. Throws {@link DatabaseReadOnly} when every server that
 * answered is read-only, else the last server's connection error (both make a start wait:
 * `untilDatabaseReady`).
 */
export async function locateServer(
  Client: typeof pg.Client,
  targets: PostgresTargets,
  options: LocateOptions = {},
): Promise<number> {
  let failure: unknown;
  let readOnly = false;
  for (const [i, url] of targets.urls.entries()) {
    const client = new Client({
      connectionString: url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      if (targets.sessionAttrs === 'any') return i;
      const { rows } = await client.query('SHOW transaction_read_only');
      if (rows[0]?.transaction_read_only === 'off') return i;
      readOnly = true;
    } catch (error) {
      failure = error;
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw readOnly ? new DatabaseReadOnly() : failure;
}

/**
 * The one-server connection string to use now for `url`: `url` itself when it names one
 * server and no `target_session_attrs`, else the URL of the server {@link locateServer} finds.
 * For a dedicated connection (a migration's) beside `openDatabase`'s pool.
 */
export async function serverUrl(Client: typeof pg.Client, url: string): Promise<string> {
  const targets = postgresTargets(url);
  if (targets.urls.length === 1 && targets.sessionAttrs === 'any') return url;
  return targets.urls[await locateServer(Client, targets)] as string;
}
