/**
 * The TOTP set-up in progress (`features/account/store.ts`): one unconfirmed TOTP row per user,
 * replaced in place by a new start; confirmation only of the set-up still in progress; and
 * migration 011, which keeps each user's newest of older duplicate set-ups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  confirmTotpSetup,
  pendingTotpSetup,
  startTotpSetup,
} from '../src/features/account/store.ts';
import { type Database, migrate, openPortalDatabase } from '../src/server/db.ts';

async function seedUser(db: Database, id: string): Promise<void> {
  await db.query(
    `INSERT INTO portal_tenants (id, name, kind, created_at) VALUES ('t', 'T', 'customer', 0)
     ON CONFLICT (id) DO NOTHING`,
  );
  await db.query(
    `INSERT INTO portal_users (id, tenant_id, email, name, role, status, password_hash, created_at)
     VALUES ($1, 't', $2, 'N', 'customer', 'active', 'x', 0)`,
    [id, `${id}@example.test`],
  );
}

const unconfirmed = async (db: Database, userId: string) =>
  (
    await db.query(
      "SELECT id, secret FROM portal_factors WHERE user_id = $1 AND type = 'totp' AND NOT confirmed",
      [userId],
    )
  ).rows;

describe('TOTP set-up store', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openPortalDatabase({});
  });
  afterAll(async () => {
    await db?.close();
  });

  it('a new start replaces the set-up in progress (new id and secret); confirmed factors stay', async () => {
    await seedUser(db, 'usr_a');
    await startTotpSetup(db, {
      id: 'fac_1',
      userId: 'usr_a',
      label: 'A',
      sealedSecret: 's1',
      now: 1,
    });
    expect(await confirmTotpSetup(db, 'fac_1', 'usr_a', 5, 'Telefon')).toBe(true);
    await startTotpSetup(db, {
      id: 'fac_2',
      userId: 'usr_a',
      label: 'A',
      sealedSecret: 's2',
      now: 2,
    });
    await startTotpSetup(db, {
      id: 'fac_3',
      userId: 'usr_a',
      label: 'A',
      sealedSecret: 's3',
      now: 3,
    });
    expect(await unconfirmed(db, 'usr_a')).toEqual([{ id: 'fac_3', secret: 's3' }]);
    expect(await pendingTotpSetup(db, 'usr_a')).toEqual({ id: 'fac_3', secret: 's3' });
    const { rows } = await db.query(
      "SELECT id FROM portal_factors WHERE user_id = 'usr_a' AND confirmed ORDER BY id",
    );
    expect(rows.map((r) => r.id)).toEqual(['fac_1']);
  });

  it('a confirmation of a set-up replaced meanwhile is refused; of the current one, once', async () => {
    await seedUser(db, 'usr_b');
    await startTotpSetup(db, {
      id: 'fac_b1',
      userId: 'usr_b',
      label: 'B',
      sealedSecret: 'x',
      now: 1,
    });
    const checked = await pendingTotpSetup(db, 'usr_b');
    await startTotpSetup(db, {
      id: 'fac_b2',
      userId: 'usr_b',
      label: 'B',
      sealedSecret: 'y',
      now: 2,
    });
    expect(await confirmTotpSetup(db, checked?.id as string, 'usr_b', 5, 'B')).toBe(false);
    expect(await confirmTotpSetup(db, 'fac_b2', 'usr_b', 5, 'B')).toBe(true);
    expect(await confirmTotpSetup(db, 'fac_b2', 'usr_b', 5, 'B')).toBe(false);
    expect(await pendingTotpSetup(db, 'usr_b')).toBeUndefined();
  });

  it('migration 011: of older duplicate set-ups each user keeps the newest', async () => {
    const old = await openPortalDatabase({});
    try {
      await old.query('DROP INDEX portal_factors_totp_setup');
      await old.query("DELETE FROM portal_migrations WHERE version = '011_totp_setup_unique.sql'");
      await seedUser(old, 'usr_c');
      await seedUser(old, 'usr_d');
      const add = (id: string, user: string, confirmed: boolean, at: number) =>
        old.query(
          `INSERT INTO portal_factors (id, user_id, type, label, secret, confirmed, created_at)
           VALUES ($1, $2, 'totp', 'L', $1, $3, $4)`,
          [id, user, confirmed, at],
        );
      await add('fac_c_old', 'usr_c', false, 1);
      await add('fac_c_new', 'usr_c', false, 2);
      await add('fac_c_done', 'usr_c', true, 0);
      await add('fac_d', 'usr_d', false, 1);
      expect(await migrate(old.query, false)).toEqual(['011_totp_setup_unique.sql']);
      expect((await unconfirmed(old, 'usr_c')).map((r) => r.id)).toEqual(['fac_c_new']);
      expect((await unconfirmed(old, 'usr_d')).map((r) => r.id)).toEqual(['fac_d']);
      const { rows } = await old.query("SELECT id FROM portal_factors WHERE id = 'fac_c_done'");
      expect(rows).toHaveLength(1);
    } finally {
      await old.close();
    }
  });
});
