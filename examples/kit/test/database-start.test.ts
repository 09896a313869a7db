/**
 * Waiting for the database at start (`database-start.ts`) against the machine's PostgreSQL
 * (`DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/test): which failures make a
 * start wait (a refused or reset connection, a read-only server, a standby) and which fail at
 * once; the bound and its message; and the regression behind it: a connection that died while
 * `exclusive()` held it killed the process (it had no 'error' listener).
 */
import { proxyInFrontOf } from '@fluxel/internal/tcp-proxy';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/database.ts';
import {
  DatabaseNotReadyError,
  type DatabaseWait,
  databaseWaitReason,
  describeDatabaseWait,
  refuseStandby,
  untilDatabaseReady,
} from '../src/database-start.ts';
import { closedPort, POSTGRES_URL, skipWithoutPostgres } from './machine-postgres.ts';

/** What `fn` threw. */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('untilDatabaseReady', () => {
  it('tries again while the failure is a connection failure, telling each wait', async () => {
    const waits: DatabaseWait[] = [];
    let calls = 0;
    const value = await untilDatabaseReady(
      async () => {
        calls++;
        if (calls < 3)
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return 'opened';
      },
      { firstDelayMs: 5, onWait: (w) => waits.push(w) },
    );
    expect(value).toBe('opened');
    expect(waits).toEqual([
      { reason: 'unreachable', code: 'ECONNREFUSED', attempt: 1, retryInMs: 5 },
      { reason: 'unreachable', code: 'ECONNREFUSED', attempt: 2, retryInMs: 10 },
    ]);
  });

  it('fails at once on anything waiting cannot mend, unchanged', async () => {
    const broken = Object.assign(new Error('syntax error at or near "CREAT"'), { code: '42601' });
    let calls = 0;
    const error = await thrown(() =>
      untilDatabaseReady(async () => {
        calls++;
        throw broken;
      }),
    );
    expect(error).toBe(broken);
    expect(calls).toBe(1);
  });

  it('finds the reason behind a store that wrapped the driver error', () => {
    const wrapped = new Error('the license database failed', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    expect(databaseWaitReason(wrapped)).toEqual({ reason: 'unreachable', code: 'ECONNRESET' });
    expect(databaseWaitReason(new Error('Connection terminated unexpectedly'))).toEqual({
      reason: 'unreachable',
      code: 'terminated',
    });
    expect(databaseWaitReason(new Error('no such table'))).toBeUndefined();
    expect(databaseWaitReason(undefined)).toBeUndefined();
  });

  it('gives up after its bound with an error that says what to check', async () => {
    const port = await closedPort();
    const error = await thrown(() =>
      untilDatabaseReady(
        async () => {
          const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres' });
          client.on('error', () => {});
          await client.connect();
        },
        { boundMs: 300, firstDelayMs: 50 },
      ),
    );
    expect(error).toBeInstanceOf(DatabaseNotReadyError);
    expect((error as DatabaseNotReadyError).code).toBe('ECONNREFUSED');
    expect((error as Error).message).toMatch(
      /^the database was not reachable \(ECONNREFUSED\) for 0.3 s: check DATABASE_URL and that PostgreSQL runs/,
    );
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses a bound that is not a number of milliseconds', async () => {
    await expect(untilDatabaseReady(async () => 1, { boundMs: -1 })).rejects.toThrow(RangeError);
    await expect(untilDatabaseReady(async () => 1, { boundMs: Number.NaN })).rejects.toThrow(
      /boundMs must be a number of milliseconds/,
    );
  });

  it('describes a wait in one line', () => {
    expect(
      describeDatabaseWait({
        reason: 'unreachable',
        code: 'ECONNRESET',
        attempt: 1,
        retryInMs: 250,
      }),
    ).toBe('database not reachable (ECONNRESET), retrying in 0.25 s');
    expect(
      describeDatabaseWait({
        reason: 'read-only',
        code: 'in-recovery',
        attempt: 4,
        retryInMs: 5000,
      }),
    ).toBe('database is read-only (in-recovery), a standby not yet promoted? retrying in 5 s');
  });
});

describe.skipIf(skipWithoutPostgres)('on the machine PostgreSQL', () => {
  it('waits on a read-only server (25006) and says it is read-only when it gives up', async () => {
    const waits: DatabaseWait[] = [];
    const error = await thrown(() =>
      untilDatabaseReady(
        async () => {
          const client = new pg.Client({
            connectionString: POSTGRES_URL,
            options: '-c default_transaction_read_only=on',
          });
          client.on('error', () => {});
          await client.connect();
          try {
            await client.query('CREATE TABLE IF NOT EXISTS never_created (id int)');
          } finally {
            await client.end();
          }
        },
        { boundMs: 200, firstDelayMs: 20, onWait: (w) => waits.push(w) },
      ),
    );
    expect(waits[0]).toMatchObject({ reason: 'read-only', code: '25006' });
    expect((error as Error).message).toMatch(
      /^the database is read-only \(25006\) .*point DATABASE_URL at the primary or promote the standby$/,
    );
  });

  it('refuseStandby passes a primary and stops at a standby', async () => {
    const database = await openDatabase({ url: POSTGRES_URL });
    try {
      await refuseStandby(database.query);
    } finally {
      await database.close();
    }
    const standby = await thrown(() => refuseStandby(async () => ({ rows: [{ standby: true }] })));
    expect(databaseWaitReason(standby)).toEqual({ reason: 'read-only', code: 'in-recovery' });
  });

  it('exclusive() whose connection is reset rejects instead of killing the process (regression)', async () => {
    const { proxy, url } = await proxyInFrontOf(POSTGRES_URL, 5432);
    const database = await openDatabase({ url });
    try {
      const error = await thrown(
        () =>
          database.exclusive?.(async (client) => {
            await client.query('SELECT 1');
            proxy.cut();
            // The reset arrives while the connection is checked out and idle: without a
            // listener its 'error' event was uncaught (vitest fails the run on it).
            await new Promise((resolve) => setTimeout(resolve, 200));
            await client.query('SELECT 1');
          }) ?? Promise.resolve(),
      );
      expect(databaseWaitReason(error)?.reason).toBe('unreachable');
      proxy.restore();
      // The pool is usable again: the broken connection was discarded, not handed back.
      expect((await database.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      proxy.restore();
      await database.close();
      await proxy.close();
    }
  });
});
