/**
 * Recovery codes: format and entropy, forgiving normalisation, hashing and lookup; the store
 * (one valid set by generation) and the migration that introduced generations.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  isRecoveryCodeShape,
  normaliseRecoveryCode,
  RECOVERY_ALPHABET,
} from '../src/features/auth/recovery.ts';
import {
  recoveryCodesLeft,
  replaceRecoveryCodes,
  spendRecoveryCode,
} from '../src/features/auth/store.ts';
import { type Database, migrate, openPortalDatabase } from '../src/server/db.ts';

describe('recovery codes', () => {
  it('makes 10 distinct xxxx-xxxx-xxxx codes from the unambiguous alphabet by default', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      expect(isRecoveryCodeShape(code)).toBe(true);
    }
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    expect(() => generateRecoveryCodes(0)).toThrow(RangeError);
  });

  it('has at least 60 bits per code and uses every symbol', () => {
    expect(RECOVERY_ALPHABET).toHaveLength(32);
    expect(new Set(RECOVERY_ALPHABET).size).toBe(32);
    for (const c of 'ilou') expect(RECOVERY_ALPHABET).not.toContain(c);
    const symbols = normaliseRecoveryCode(generateRecoveryCodes(1)[0] ?? '').length;
    expect(symbols * Math.log2(RECOVERY_ALPHABET.length)).toBeGreaterThanOrEqual(60);
    // Roughly uniform: 100 codes = 1200 symbols, each of 32 symbols expected ~37 times.
    const counts = new Map<string, number>();
    for (const code of generateRecoveryCodes(100)) {
      for (const c of normaliseRecoveryCode(code)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(32);
    for (const n of counts.values()) expect(n).toBeLessThan(90);
  });

  it('normalises case, spaces, dashes and look-alikes', () => {
    expect(normaliseRecoveryCode(' 7KQ2-M9XD-0PTH ')).toBe('7kq2m9xd0pth');
    expect(normaliseRecoveryCode('7kq2 m9xd 0pth')).toBe('7kq2m9xd0pth');
    expect(normaliseRecoveryCode('7kq2m9xdOpth')).toBe('7kq2m9xd0pth');
    expect(normaliseRecoveryCode('abIL-0000-0000')).toBe('ab1100000000');
    expect(isRecoveryCodeShape('7kq2-m9xd-0pt')).toBe(false);
    expect(isRecoveryCodeShape('7kq2-m9xd-0ptu')).toBe(false);
  });

  it('hashes the normalised code with SHA-256', () => {
    const expected = createHash('sha256').update('7kq2m9xd0pth').digest('hex');
    expect(hashRecoveryCode('7kq2-m9xd-0pth')).toBe(expected);
    expect(hashRecoveryCode('7KQ2 M9XD OPTH')).toBe(expected);
    expect(hashRecoveryCode('7kq2-m9xd-0ptj')).not.toBe(expected);
  });

  it('finds which stored hash a typed code matches', () => {
    const codes = generateRecoveryCodes(5);
    const stored = codes.map(hashRecoveryCode);
    expect(findRecoveryCode(stored, (codes[3] ?? '').toUpperCase().replace(/-/g, ' '))).toBe(3);
    expect(findRecoveryCode(stored, 'zzzz-zzzz-zzzz')).toBe(-1);
    expect(findRecoveryCode(['not hex', ...stored], codes[0] ?? '')).toBe(1);
    expect(findRecoveryCode([], codes[0] ?? '')).toBe(-1);
  });
});

describe('recovery code store', () => {
  let db: Database;
  let users = 0;
  beforeAll(async () => {
    db = await openPortalDatabase({});
    await db.query(
      "INSERT INTO portal_tenants (id, name, kind, created_at) VALUES ('t', 'T', 'customer', 0)",
    );
  });
  afterAll(async () => {
    await db?.close();
  });
  async function user(): Promise<string> {
    const id = `usr_${++users}`;
    await db.query(
      `INSERT INTO portal_users (id, tenant_id, email, name, role, status, password_hash, created_at)
       VALUES ($1, 't', $2, 'N', 'customer', 'active', 'x', 0)`,
      [id, `${id}@example.test`],
    );
    return id;
  }
  const hashes = (codes: readonly string[]) => codes.map(hashRecoveryCode);

  it('a new set replaces the old one: old codes stop working, each new code works once', async () => {
    const id = await user();
    const first = generateRecoveryCodes(3);
    const second = generateRecoveryCodes(3);
    expect(await replaceRecoveryCodes(db, id, hashes(first))).toBe(true);
    expect(await recoveryCodesLeft(db, id)).toBe(3);
    expect(await replaceRecoveryCodes(db, id, hashes(second))).toBe(true);
    expect(await recoveryCodesLeft(db, id)).toBe(3);
    expect(await spendRecoveryCode(db, id, hashRecoveryCode(first[0] as string), 1)).toBe(false);
    expect(await spendRecoveryCode(db, id, hashRecoveryCode(second[0] as string), 1)).toBe(true);
    expect(await spendRecoveryCode(db, id, hashRecoveryCode(second[0] as string), 2)).toBe(false);
    expect(await recoveryCodesLeft(db, id)).toBe(2);
    // The older set is tidied away, not just out of use.
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM portal_recovery_codes WHERE user_id = $1',
      [id],
    );
    expect(Number(rows[0]?.n)).toBe(3);
  });

  it('a leftover row of an older generation is never accepted or counted', async () => {
    const id = await user();
    const current = generateRecoveryCodes(2);
    await replaceRecoveryCodes(db, id, hashes(current));
    // What a slower regeneration at once may leave behind: its codes, one generation lower.
    const stale = generateRecoveryCodes(1)[0] as string;
    await db.query(
      'INSERT INTO portal_recovery_codes (user_id, code_hash, generation) VALUES ($1, $2, 0)',
      [id, hashRecoveryCode(stale)],
    );
    expect(await recoveryCodesLeft(db, id)).toBe(2);
    expect(await spendRecoveryCode(db, id, hashRecoveryCode(stale), 1)).toBe(false);
  });

  it('stores nothing for an unknown user', async () => {
    expect(await replaceRecoveryCodes(db, 'usr_missing', hashes(generateRecoveryCodes(2)))).toBe(
      false,
    );
    const { rows } = await db.query(
      "SELECT count(*)::int AS n FROM portal_recovery_codes WHERE user_id = 'usr_missing'",
    );
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('migration 011: codes stored before generations existed stay valid', async () => {
    // The schema as it was before 011, with a user and codes stored the old way.
    const old = await openPortalDatabase({});
    try {
      await old.query('ALTER TABLE portal_recovery_codes DROP COLUMN generation');
      await old.query('ALTER TABLE portal_users DROP COLUMN recovery_generation');
      await old.query(
        "DELETE FROM portal_migrations WHERE version = '011_recovery_generation.sql'",
      );
      await old.query(
        "INSERT INTO portal_tenants (id, name, kind, created_at) VALUES ('t', 'T', 'customer', 0)",
      );
      await old.query(
        `INSERT INTO portal_users (id, tenant_id, email, name, role, status, password_hash, created_at)
         VALUES ('usr_old', 't', 'old@example.test', 'N', 'customer', 'active', 'x', 0)`,
      );
      const codes = generateRecoveryCodes(3);
      for (const hash of hashes(codes))
        await old.query('INSERT INTO portal_recovery_codes (user_id, code_hash) VALUES ($1, $2)', [
          'usr_old',
          hash,
        ]);
      expect(await migrate(old.query, false)).toEqual(['011_recovery_generation.sql']);
      expect(await recoveryCodesLeft(old, 'usr_old')).toBe(3);
      expect(await spendRecoveryCode(old, 'usr_old', hashRecoveryCode(codes[1] as string), 1)).toBe(
        true,
      );
      expect(await recoveryCodesLeft(old, 'usr_old')).toBe(2);
    } finally {
      await old.close();
    }
  });
});
