/**
 * The mailbox purge audits an expiry before it deletes the event, and instances purging at
 * once audit each expiry once — on PGlite and on PostgreSQL. The purge used to delete the
 * expired events first (`DELETE … RETURNING`) and audit them afterwards: a crash or a failed
 * audit write in between lost the `mailbox.expire` records of events that were gone.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditEventInput } from '@fluxel/audit';
import { Keyring, localKek } from '@fluxel/crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateRelay } from '../src/db.ts';
import { EXPIRE_CLAIM_LEASE_MS, MAILBOX_TTL_MS, Mailbox } from '../src/mailbox.ts';
import { localArrivals } from '../src/mailbox-wait.ts';
import { Vault } from '../src/vault.ts';
import { POSTGRES_URL, postgresReachable } from './helpers.ts';

const pgSkip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
if (pgSkip) console.warn(`${pgSkip}: the purge on PostgreSQL is skipped`);

const T0 = Date.parse('2026-05-01T12:00:00Z');
const LICENSE = 'lic-1';

const schema = `relay_purge_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
const backends = [
  { name: 'PGlite', skip: undefined, schema: undefined, open: () => openDatabase() },
  {
    name: 'PostgreSQL',
    skip: pgSkip,
    schema,
    open: () => openDatabase({ url: POSTGRES_URL, schema }),
  },
];

describe.each(backends)('mailbox purge on $name', ({ skip, schema, open }) => {
  let db: Database;
  const clock = { now: T0 };
  const keyring = new Keyring([localKek({ id: 'test', key: randomBytes(32) })]);

  beforeAll(async () => {
    if (skip) return;
    db = await open();
    await migrateRelay(db);
  });
  afterAll(async () => {
    if (skip) return;
    if (schema) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  const mailbox = (record: (event: AuditEventInput) => Promise<void>) =>
    new Mailbox(db, new Vault(db, keyring, () => clock.now), () => clock.now, {
      arrivals: localArrivals(),
      record,
    });

  /** `count` events received at `receivedAt` (so expiring a week later); returns their ids. */
  async function hold(count: number, receivedAt: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (const id of ids)
      await db.query(
        `INSERT INTO relay_mailbox (license_id, id, tenant, connection, type, sealed, received_at, expires_at)
         VALUES ($1, $2, 'tenant-1', 'shop-1', 'payment.received', 'sealed', $3, $4)`,
        [LICENSE, id, receivedAt, receivedAt + MAILBOX_TTL_MS],
      );
    return ids;
  }

  async function held(): Promise<string[]> {
    const { rows } = await db.query('SELECT id FROM relay_mailbox ORDER BY id');
    return rows.map((r) => String(r.id));
  }

  /** A recorder that keeps the expired ids it was given. */
  function recorder() {
    const ids: string[] = [];
    const record = async (event: AuditEventInput) => {
      expect(event.action).toBe('mailbox.expire');
      ids.push(String(event.target?.id));
    };
    return { ids, record };
  }

  it.skipIf(skip !== undefined)(
    'a failed audit of an expiry leaves the event held (the purge deleted first and lost the mailbox.expire record)',
    async () => {
      await db.query('DELETE FROM relay_mailbox');
      clock.now = T0;
      const expired = await hold(2, T0 - MAILBOX_TTL_MS - 1000);
      const live = await hold(1, T0);
      const failing = mailbox(() => Promise.reject(new Error('audit log unavailable')));
      await expect(failing.purgeExpired()).rejects.toThrow('audit log unavailable');
      expect(await held()).toEqual([...expired, ...live].sort());

      // Claimed by the failed run: a purge within the lease leaves them to it …
      const { ids, record } = recorder();
      expect(await mailbox(record).purgeExpired()).toBe(0);
      expect(ids).toEqual([]);
      // … and takes them over once the lease is past: audited, then deleted.
      clock.now = T0 + EXPIRE_CLAIM_LEASE_MS;
      expect(await mailbox(record).purgeExpired()).toBe(2);
      expect(ids.sort()).toEqual([...expired].sort());
      expect(await held()).toEqual(live);
    },
  );

  it.skipIf(skip !== undefined)(
    'instances purging at once audit and delete each expired event exactly once',
    async () => {
      await db.query('DELETE FROM relay_mailbox');
      clock.now = T0;
      const expired = await hold(60, T0 - MAILBOX_TTL_MS - 1);
      const live = await hold(1, T0);
      const { ids, record } = recorder();
      const counts = await Promise.all(
        Array.from({ length: 6 }, () => mailbox(record).purgeExpired()),
      );
      expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
      expect(ids.sort()).toEqual([...expired].sort());
      expect(await held()).toEqual(live);
    },
  );

  it.skipIf(skip !== undefined)(
    'an ack arriving while the purge audits an expiry finds the event gone: expired, not acked',
    async () => {
      await db.query('DELETE FROM relay_mailbox');
      clock.now = T0;
      const [id] = (await hold(1, T0 - MAILBOX_TTL_MS - 1)) as [string];
      const acked: string[][] = [];
      const box = mailbox(async (event) => {
        acked.push(await box.ack({ licenseId: LICENSE, tenant: 'tenant-1' }, [id]));
        expect(event.target?.id).toBe(id);
      });
      expect(await box.purgeExpired()).toBe(1);
      expect(acked).toEqual([[]]);
      expect(await held()).toEqual([]);
    },
  );
});
