/**
 * The SQL of `portal_users` (and of the invitations that create them).
 */
import type { Database } from '../../server/db.ts';

type Sql = Pick<Database, 'query'>;

// --- for auth ---

/** Notes a completed sign-in. */
export async function recordSignIn(db: Sql, userId: string, now: number): Promise<void> {
  await db.query('UPDATE portal_users SET last_sign_in_at = $2 WHERE id = $1', [userId, now]);
}

/** Stores a new password hash (a reset, or a re-hash with stronger parameters). */
export async function setPasswordHash(db: Sql, userId: string, passwordHash: string) {
  await db.query('UPDATE portal_users SET password_hash = $2 WHERE id = $1', [
    userId,
    passwordHash,
  ]);
}

export interface OpenInvitation {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: string;
  readonly invitedBy: string;
  readonly expiresAt: number;
}

/** The unused, unexpired invitation whose token hashes to `tokenHash`. */
export async function openInvitation(
  db: Sql,
  tokenHash: string,
  now: number,
): Promise<OpenInvitation | undefined> {
  const { rows } = await db.query(
    'SELECT * FROM portal_invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
    [tokenHash, now],
  );
  const r = rows[0];
  return r
    ? {
        id: String(r.id),
        tenantId: String(r.tenant_id),
        email: String(r.email),
        role: String(r.role),
        invitedBy: String(r.invited_by ?? ''),
        expiresAt: Number(r.expires_at),
      }
    : undefined;
}

/*
 * Accepting an invitation is decided by the database in one statement, so the `UNIQUE` on
 * `portal_users.email` is the check and nothing is looked up first and written after: the
 * invitation is locked (`FOR UPDATE`), the account inserted with `ON CONFLICT (email) DO
 * NOTHING`, and the invitation spent only if the insert returned a row. Of two invitations for
 * one address accepted at once one creates the account; the other gets `taken` and its
 * invitation stays unspent (usable again should the address become free before it expires).
 * One invitation accepted N times at once: the lock makes the others see it spent (`invalid`).
 */

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

/**
 * An account made just in time for a single sign-on identity. No password: `!sso` is no
 * argon2 hash, so a password sign-in never matches. False when the address is taken (by an
 * account created at the same time).
 */
export async function insertSsoUser(
  db: Sql,
  user: {
    readonly id: string;
    readonly tenantId: string;
    readonly email: string;
    readonly name: string;
    readonly role: string;
  },
  now: number,
): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO portal_users (id, tenant_id, email, name, role, status, locale, password_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, 'active', 'de', '!sso', $6) ON CONFLICT (email) DO NOTHING RETURNING id`,
    [user.id, user.tenantId, user.email, user.name, user.role, now],
  );
  return rows.length === 1;
}
