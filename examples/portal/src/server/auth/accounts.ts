/**
 * Changing one's own sign-in address, decided by the database in one statement, so the
 * `UNIQUE` on `portal_users.email` is the check and nothing is looked up first and written
 * after: the address and the removal of the e-mail factor in one statement; a unique violation
 * (23505: the address was taken meanwhile) changes nothing and is `taken`. (Accepting an
 * invitation, the other such write, is `acceptInvitation` in src/features/users/store.ts.)
 */
import type { Database } from '../db.ts';

type Sql = Pick<Database, 'query'>;

/** Whether `error` is PostgreSQL's unique violation (23505) — from `pg` and PGlite alike. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505'
  );
}

// $1 user, $2 new address.
const CHANGE = `WITH changed AS (
    UPDATE portal_users SET email = $2 WHERE id = $1 AND status = 'active' RETURNING id
  ), dropped AS (
    DELETE FROM portal_factors WHERE user_id IN (SELECT id FROM changed) AND type = 'email'
    RETURNING id
  )
  SELECT count(*)::int AS n FROM changed`;

export type ChangeOutcome = 'changed' | 'taken' | 'gone';

/**
 * Moves `userId` to `email` and drops the e-mail factor (it follows the address only after a
 * new confirmation), in one statement: `changed`; `taken` (another account has the address —
 * nothing changed); `gone` (no active account with that id).
 */
export async function changeEmail(db: Sql, userId: string, email: string): Promise<ChangeOutcome> {
  try {
    const { rows } = await db.query(CHANGE, [userId, email]);
    return Number(rows[0]?.n) === 1 ? 'changed' : 'gone';
  } catch (error) {
    // The only unique column this statement writes is the address.
    if (isUniqueViolation(error)) return 'taken';
    throw error;
  }
}
