/**
 * The two writes that give an account its sign-in address — accepting an invitation and
 * changing one's own address — each decided by the database in one statement, so the
 * `UNIQUE` on `portal_users.email` is the check and nothing is looked up first and written
 * after:
 *
 * - Accepting: the invitation is locked (`FOR UPDATE`), the account inserted with
 *   `ON CONFLICT (email) DO NOTHING`, and the invitation spent only if the insert returned a
 *   row. Of two invitations for one address accepted at once one creates the account; the
 *   other gets `taken` and its invitation stays unspent (usable again should the address
 *   become free before it expires). One invitation accepted N times at once: the lock makes
 *   the others see it spent (`invalid`).
 * - Changing: the address and the removal of the e-mail factor in one statement; a unique
 *   violation (23505: the address was taken meanwhile) changes nothing and is `taken`.
 */
import type { Database } from '../db.ts';

type Sql = Pick<Database, 'query'>;

/** Whether `error` is PostgreSQL's unique violation (23505) — from `pg` and PGlite alike. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505'
  );
}

export interface NewAccount {
  readonly invitationId: string;
  readonly userId: string;
  readonly name: string;
  readonly locale: string;
  readonly passwordHash: string;
}

export type AcceptOutcome = 'created' | 'taken' | 'invalid';

// $1 invitation, $2 now, $3 user id, $4 name, $5 locale, $6 password hash.
const ACCEPT = `WITH invitation AS (
    SELECT id, tenant_id, email, role FROM portal_invitations
    WHERE id = $1 AND used_at IS NULL AND expires_at > $2
    FOR UPDATE
  ), created AS (
    INSERT INTO portal_users (id, tenant_id, email, name, role, status, locale, password_hash, created_at)
    SELECT $3, tenant_id, email, $4, role, 'active', $5, $6, $2 FROM invitation
    ON CONFLICT (email) DO NOTHING
    RETURNING id
  ), spent AS (
    UPDATE portal_invitations SET used_at = $2
    WHERE id IN (SELECT id FROM invitation) AND EXISTS (SELECT 1 FROM created)
    RETURNING id
  )
  SELECT (SELECT count(*) FROM invitation)::int AS open,
         (SELECT count(*) FROM created)::int AS created,
         (SELECT count(*) FROM spent)::int AS spent`;

/**
 * Creates the invited account and spends the invitation, or neither: `created`; `taken` (an
 * account with the invitation's address exists — the invitation is not spent); `invalid`
 * (the invitation is used, expired or unknown).
 */
export async function acceptInvitation(
  db: Sql,
  account: NewAccount,
  now: number,
): Promise<AcceptOutcome> {
  const { rows } = await db.query(ACCEPT, [
    account.invitationId,
    now,
    account.userId,
    account.name,
    account.locale,
    account.passwordHash,
  ]);
  const row = rows[0];
  if (!row || Number(row.open) !== 1) return 'invalid';
  if (Number(row.created) === 1 && Number(row.spent) === 1) return 'created';
  return 'taken';
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
