/**
 * Several servers in one connection string (`database-hosts.ts`, libpq's host list and
 * `target_session_attrs`), against the machine's PostgreSQL (`DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/test) and a TCP proxy in front of it: a server that is
 * down is passed over, a pool whose server dies moves to the next one, read-only servers are
 * refused for `read-write`, and the regression behind the query timeout: a server that stopped
 * answering (its node lost, no reset) held every query for the kernel's TCP timeout.
 * The standby itself (hot standby, promotion) is exercised by `pnpm test:swarm`.
 */
import { proxyInFrontOf } from '@fluxel/internal/tcp-proxy';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/database.ts';
import { locateServer, postgresTargets } from '../src/database-hosts.ts';
import { DatabaseReadOnly, databaseWaitReason, untilDatabaseReady } from '../src/database-start.ts';
import { closedPort, POSTGRES_URL, skipWithoutPostgres } from './machine-postgres.ts';

/** `POSTGRES_URL` with its host replaced by the list `servers`, and `extra` parameters. */
function listing(servers: string[], extra: Record<string, string> = {}): string {
  const u = new URL(POSTGRES_URL);
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  const params = new URLSearchParams(u.search);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const q = params.toString();
  return `postgres://${auth}${servers.join(',')}${u.pathname}${q ? `?${q}` : ''}`;
}
const machine = () => {
  const u = new URL(POSTGRES_URL);
  return `${u.hostname}:${u.port || 5432}`;
};

describe('postgresTargets', () => {
  it('leaves a one-server string as it is', () => {
    const url = 'postgres://relay@db:5432/relay?sslmode=disable';
    expect(postgresTargets(url)).toEqual({
      urls: [url],
      servers: ['db:5432'],
      sessionAttrs: 'any',
    });
  });

  it('splits a host list into one URL per server, keeping the other parameters', () => {
    expect(
      postgresTargets(
        'postgres://relay@postgres-alpha:5432,postgres-alpha-standby/relay?target_session_attrs=read-write&application_name=relay',
      ),
    ).toEqual({
      urls: [
        'postgres://relay@postgres-alpha:5432/relay?application_name=relay',
        'postgres://relay@postgres-alpha-standby:5432/relay?application_name=relay',
      ],
      servers: ['postgres-alpha:5432', 'postgres-alpha-standby:5432'],
      sessionAttrs: 'read-write',
    });
    expect(postgresTargets('postgresql://[::1]:6432,[fd00::2]/db').urls).toEqual([
      'postgresql://[::1]:6432/db',
      'postgresql://[fd00::2]:5432/db',
    ]);
    // read-write alone asks the one server whether it takes writes.
    expect(postgresTargets('postgres://u@db/x?target_session_attrs=read-write')).toMatchObject({
      urls: ['postgres://u@db:5432/x'],
      sessionAttrs: 'read-write',
    });
  });

  it('refuses what it cannot honour, saying what to write', () => {
    expect(() => postgresTargets('mysql://db/x')).toThrow(/^DATABASE_URL is not a postgres:\/\//);
    expect(() => postgresTargets('postgres://a:5432,,b:5432/x')).toThrow(/empty host/);
    expect(() => postgresTargets('postgres://a:5432,b:port/x')).toThrow(
      /names "b:port": list servers as host:port,host:port/,
    );
    expect(() => postgresTargets('postgres://a,b/x?target_session_attrs=standby')).toThrow(
      'target_session_attrs must be "any" or "read-write", got "standby"',
    );
  });
});

describe.skipIf(skipWithoutPostgres)('several servers, on the machine PostgreSQL', () => {
  it('passes over a server that refuses connections', async () => {
    const down = `127.0.0.1:${await closedPort()}`;
    const targets = postgresTargets(listing([down, machine()]));
    expect(await locateServer(pg.Client, targets)).toBe(1);
    const database = await openDatabase({ url: listing([down, machine()]) });
    try {
      expect((await database.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await database.close();
    }
  });

  it('read-write refuses servers whose sessions are read-only, and a start waits for a writable one', async () => {
    // Every session read-only, as on a hot standby (SHOW transaction_read_only → on).
    const url = listing([machine(), machine()], {
      options: '-c default_transaction_read_only=on',
      target_session_attrs: 'read-write',
    });
    const error = await locateServer(pg.Client, postgresTargets(url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseReadOnly);
    const waits: string[] = [];
    // A bound above one attempt's time on a loaded machine (two connections each).
    const gaveUp = await untilDatabaseReady(() => openDatabase({ url }), {
      boundMs: 2000,
      firstDelayMs: 20,
      onWait: (w) => waits.push(w.reason),
    }).catch((e: unknown) => e);
    expect(waits[0]).toBe('read-only');
    expect((gaveUp as Error).message).toMatch(/^the database is read-only \(in-recovery\)/);
    // The same servers without read-write: any server that answers.
    const any = listing([machine()], {
      options: '-c default_transaction_read_only=on',
    });
    expect(await locateServer(pg.Client, postgresTargets(any))).toBe(0);
  });

  it('moves the pool to the next server when its server dies, and says so', async () => {
    const { proxy } = await proxyInFrontOf(POSTGRES_URL, 5432);
    const moved: string[] = [];
    let onMove: () => void = () => {};
    const movedOnce = new Promise<void>((resolve) => {
      onMove = resolve;
    });
    const database = await openDatabase({
      url: listing([`127.0.0.1:${proxy.port}`, machine()], { target_session_attrs: 'read-write' }),
      onServerChange: (server) => {
        moved.push(server);
        onMove();
      },
    });
    try {
      expect((await database.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(proxy.stats.accepted).toBeGreaterThan(0);
      proxy.cut();
      // The query on the dead server fails (its caller retries) …
      const failed = await database.query('SELECT 2 AS two').catch((e: unknown) => e);
      expect(databaseWaitReason(failed)?.reason).toBe('unreachable');
      await movedOnce;
      expect(moved).toEqual([machine()]);
      // … and the next ones go to the server that is left.
      expect((await database.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  // Bounded: before the fix the query waited for the kernel (minutes), past any test timeout.
  it('a server that stops answering held every query (no query timeout) — regression', {
    timeout: 60_000,
  }, async () => {
    const { proxy, url } = await proxyInFrontOf(POSTGRES_URL, 5432);
    const database = await openDatabase({ url, queryTimeoutMs: 300 });
    try {
      expect((await database.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      // Its answers never come (a node lost: no reset, no FIN, only silence).
      proxy.delay(600_000);
      const error = await database.query('SELECT 2 AS two').catch((e: unknown) => e);
      expect(databaseWaitReason(error)).toEqual({ reason: 'unreachable', code: 'timeout' });
      proxy.delay(0);
      // The silent connection was dropped, not handed to the next query.
      expect((await database.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    } finally {
      proxy.cut();
      await database.close();
      await proxy.close();
    }
  });

  it('refuses a query timeout that is not a whole number of milliseconds', async () => {
    await expect(openDatabase({ url: POSTGRES_URL, queryTimeoutMs: 0 })).rejects.toThrow(
      'queryTimeoutMs must be a whole number ≥ 1, got 0',
    );
  });
});
