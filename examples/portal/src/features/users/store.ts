/**
 * The portal's people: `portal_users` (the only SQL on it) and the invitations that create them
 * (`portal_invitations`: issued, listed, resent and revoked here; accepted by auth).
 */

import type { Database } from '../../server/db.ts';
import type { FactorType } from '../../shared/api.ts';
import type { Role } from '../../shared/permissions.ts';

type Sql = Pick<Database, 'query'>;

export interface UserRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly status: 'active' | 'disabled';
  readonly locale: 'de' | 'en';
  readonly passwordHash: string;
  readonly phone: string | undefined;
  readonly createdAt: number;
  readonly lastSignInAt: number | undefined;
}

export function toUser(r: Record<string, unknown>): UserRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    email: String(r.email),
    name: String(r.name),
    role: r.role as Role,
    status: r.status as 'active' | 'disabled',
    locale: r.locale === 'en' ? 'en' : 'de',
    passwordHash: String(r.password_hash),
    phone: r.phone == null ? undefined : String(r.phone),
    createdAt: Number(r.created_at),
    lastSignInAt: r.last_sign_in_at == null ? undefined : Number(r.last_sign_in_at),
  };
}

export async function userById(db: Sql, id: string): Promise<UserRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_users WHERE id = $1', [id]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function userByEmail(db: Sql, email: string): Promise<UserRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_users WHERE email = $1', [
    email.toLowerCase(),
  ]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

/** The users of one tenant, or of every tenant (`'all'`), by address. */
export async function usersOf(db: Sql, tenantId: string | 'all'): Promise<UserRecord[]> {
  const { rows } =
    tenantId === 'all'
      ? await db.query('SELECT * FROM portal_users ORDER BY email')
      : await db.query('SELECT * FROM portal_users WHERE tenant_id = $1 ORDER BY email', [
          tenantId,
        ]);
  return rows.map(toUser);
}

/** The kinds of confirmed second factor a user has (the user list shows them). */
export async function confirmedFactorTypes(db: Sql, userId: string): Promise<FactorType[]> {
  const { rows } = await db.query(
    'SELECT DISTINCT type FROM portal_factors WHERE user_id = $1 AND confirmed ORDER BY type',
    [userId],
  );
  return rows.map((r) => r.type as FactorType);
}

// ------------------------------------------------------------ invitations

export interface InvitationRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: Role;
  readonly invitedBy: string | undefined;
  readonly expiresAt: number;
}

const toInvitation = (r: Record<string, unknown>): InvitationRecord => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  email: String(r.email),
  role: r.role as Role,
  invitedBy: r.invited_by == null ? undefined : String(r.invited_by),
  expiresAt: Number(r.expires_at),
});

export async function insertInvitation(
  db: Sql,
  // The role as text: the bootstrap and tests invite by a role's name.
  invitation: Omit<InvitationRecord, 'role'> & {
    readonly role: string;
    readonly tokenHash: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO portal_invitations (id, token_hash, tenant_id, email, role, invited_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      invitation.id,
      invitation.tokenHash,
      invitation.tenantId,
      invitation.email,
      invitation.role,
      invitation.invitedBy ?? null,
      invitation.expiresAt,
    ],
  );
}

/**
 * Invitations nobody has accepted, replaced or revoked — expired ones too (they can be resent) —
 * of one tenant or of several, newest first.
 */
export async function pendingInvitations(
  db: Sql,
  tenants: readonly string[] | 'all',
): Promise<InvitationRecord[]> {
  const open = 'used_at IS NULL AND replaced_by IS NULL';
  const { rows } =
    tenants === 'all'
      ? await db.query(`SELECT * FROM portal_invitations WHERE ${open} ORDER BY expires_at DESC`)
      : await db.query(
          `SELECT * FROM portal_invitations WHERE ${open} AND tenant_id = ANY($1::text[])
           ORDER BY expires_at DESC`,
          [tenants],
        );
  return rows.map(toInvitation);
}

/** A pending invitation by id (not accepted, replaced or revoked). */
export async function pendingInvitation(
  db: Sql,
  id: string,
): Promise<InvitationRecord | undefined> {
  const { rows } = await db.query(
    'SELECT * FROM portal_invitations WHERE id = $1 AND used_at IS NULL AND replaced_by IS NULL',
    [id],
  );
  return rows[0] ? toInvitation(rows[0]) : undefined;
}

// $1 old id, $2 new id, $3 new token hash, $4 new expiry, $5 now, $6 who resends.
const REPLACE = `WITH old AS (
    UPDATE portal_invitations SET replaced_by = $2, expires_at = LEAST(expires_at, $5)
    WHERE id = $1 AND used_at IS NULL AND replaced_by IS NULL
    RETURNING tenant_id, email, role
  )
  INSERT INTO portal_invitations (id, token_hash, tenant_id, email, role, invited_by, expires_at)
  SELECT $2, $3, tenant_id, email, role, $6, $4 FROM old
  RETURNING *`;

/**
 * Replaces a pending invitation by a new one with a new link, in one statement: the old row
 * expires now (so neither lookup nor acceptance finds it valid) and names its successor. An
 * invitation accepted, replaced or revoked meanwhile gives `undefined` (the row lock decides).
 */
export async function replaceInvitation(
  db: Sql,
  oldId: string,
  next: { id: string; tokenHash: string; expiresAt: number; invitedBy: string },
  now: number,
): Promise<InvitationRecord | undefined> {
  const { rows } = await db.query(REPLACE, [
    oldId,
    next.id,
    next.tokenHash,
    next.expiresAt,
    now,
    next.invitedBy,
  ]);
  return rows[0] ? toInvitation(rows[0]) : undefined;
}

/** Deletes a pending invitation: its link becomes invalid. False when it was not pending. */
export async function revokeInvitation(db: Sql, id: string): Promise<boolean> {
  const { rows } = await db.query(
    'DELETE FROM portal_invitations WHERE id = $1 AND used_at IS NULL AND replaced_by IS NULL RETURNING id',
    [id],
  );
  return rows.length > 0;
}

/** Whether the invitation with this token hash was replaced by a newer one (resent). */
export async function invitationReplaced(db: Sql, tokenHash: string): Promise<boolean> {
  const { rows } = await db.query(
    'SELECT 1 FROM portal_invitations WHERE token_hash = $1 AND replaced_by IS NOT NULL AND used_at IS NULL',
    [tokenHash],
  );
  return rows.length > 0;
}

// --- for adv ---

/** Active key users and partners of customer and partner tenants: who is asked to accept. */
export async function advRecipients(
  db: Database,
): Promise<{ email: string; name: string; tenantName: string }[]> {
  const { rows } = await db.query(
    `SELECT u.email, u.name, t.name AS tenant_name FROM portal_users u
     JOIN portal_tenants t ON t.id = u.tenant_id
     WHERE u.status = 'active' AND u.role IN ('key-user', 'partner') AND t.kind <> 'operator'`,
  );
  return rows.map((r) => ({
    email: String(r.email),
    name: String(r.name),
    tenantName: String(r.tenant_name),
  }));
}

// --- for privacy ---

/**
 * Schedules a person's erasure and disables the account, in one statement: the user row is
 * locked first (the order `cancelErasureOf` uses), the erasure claimed (a new one, or a
 * cancelled one again), and the status the account has *now* kept for a cancel — a cancel at
 * the same moment cannot interleave. `false` when an erasure is already scheduled.
 */
export async function scheduleErasureOf(
  db: Database,
  e: { userId: string; now: number; requestedBy: string; dueAt: number; tokenHash: string },
): Promise<boolean> {
  const { rows } = await db.query(
    `WITH u AS (SELECT id, status FROM portal_users WHERE id = $1 FOR UPDATE),
     s AS (
       INSERT INTO portal_erasures (user_id, state, requested_at, requested_by, due_at, previous_status, cancel_token_hash)
       SELECT u.id, 'scheduled', $2, $3, $4, u.status, $5 FROM u
       ON CONFLICT (user_id) DO UPDATE SET state = 'scheduled', requested_at = EXCLUDED.requested_at,
         requested_by = EXCLUDED.requested_by, due_at = EXCLUDED.due_at,
         previous_status = EXCLUDED.previous_status, cancel_token_hash = EXCLUDED.cancel_token_hash,
         cancelled_at = NULL, cancelled_by = NULL, claimed_at = NULL, done_at = NULL
       WHERE portal_erasures.state = 'cancelled'
       RETURNING user_id)
     UPDATE portal_users SET status = 'disabled' WHERE id IN (SELECT user_id FROM s) RETURNING id`,
    [e.userId, e.now, e.requestedBy, e.dueAt, e.tokenHash],
  );
  return rows.length > 0;
}

/**
 * Cancels a scheduled erasure (by user id, or by the hash of the mailed token) and restores the
 * account's previous status, in one statement, user row locked first (as in
 * `scheduleErasureOf`). The user id, or `undefined` when nothing was scheduled.
 */
export async function cancelErasureOf(
  db: Database,
  by: { userId: string } | { tokenHash: string },
  now: number,
  cancelledBy: string,
): Promise<string | undefined> {
  const where = 'userId' in by ? 'user_id = $1' : 'cancel_token_hash = $1';
  const key = 'userId' in by ? by.userId : by.tokenHash;
  const { rows } = await db.query(
    `WITH u AS (
       SELECT id FROM portal_users WHERE id = (SELECT user_id FROM portal_erasures WHERE ${where})
       FOR UPDATE),
     c AS (
       UPDATE portal_erasures SET state = 'cancelled', cancelled_at = $2, cancelled_by = $3,
         cancel_token_hash = NULL
       WHERE ${where} AND user_id IN (SELECT id FROM u) AND state = 'scheduled' AND due_at > $2
       RETURNING user_id, previous_status)
     UPDATE portal_users p SET status = CASE WHEN c.previous_status = 'active' THEN 'active' ELSE 'disabled' END
     FROM c WHERE p.id = c.user_id RETURNING p.id`,
    [key, now, cancelledBy],
  );
  return rows[0] ? String(rows[0].id) : undefined;
}

/**
 * One attempt at setting an account's status consistently with erasure (see
 * `privacy/account-status.ts`): `found` 0 — no such user; `locked` 0 — the row changed since
 * the statement's snapshot (try again); `before` null — refused (an erasure is scheduled,
 * running or done); else the status before.
 */
export async function setStatusUnlessErasing(
  db: Database,
  userId: string,
  status: 'active' | 'disabled',
): Promise<{ found: number; locked: number; before: string | null }> {
  const { rows } = await db.query(
    `WITH seen AS (SELECT xmin AS v FROM portal_users WHERE id = $1),
     u AS (
       SELECT p.id, p.status FROM portal_users p, seen
       WHERE p.id = $1 AND p.xmin = seen.v FOR UPDATE OF p),
     erasure AS (
       SELECT 1 FROM portal_erasures
       WHERE user_id = $1 AND state IN ('scheduled', 'erasing', 'done')),
     k AS (
       UPDATE portal_erasures SET previous_status = 'disabled'
       WHERE $2 = 'disabled' AND state = 'scheduled' AND user_id IN (SELECT id FROM u)
       RETURNING user_id),
     s AS (
       UPDATE portal_users p SET status = $2 FROM u
       WHERE p.id = u.id AND ($2 = 'disabled' OR NOT EXISTS (SELECT 1 FROM erasure))
       RETURNING u.status AS before)
     SELECT (SELECT count(*) FROM seen)::int AS found, (SELECT count(*) FROM u)::int AS locked,
       (SELECT before FROM s) AS before`,
    [userId, status],
  );
  const r = rows[0] ?? {};
  return {
    found: Number(r.found ?? 0),
    locked: Number(r.locked ?? 0),
    before: r.before == null ? null : String(r.before),
  };
}

/**
 * Turns an erased person's row into a pseudonymous tombstone: no name, address, phone or
 * usable password (`.invalid` never resolves); id, tenant, role and creation time stay.
 */
export async function tombstoneUser(db: Database, userId: string): Promise<void> {
  await db.query(
    `UPDATE portal_users SET email = $2, name = $3, phone = NULL, password_hash = '!erased',
       status = 'disabled', last_sign_in_at = NULL WHERE id = $1`,
    [userId, `erased-${userId.toLowerCase()}@erased.invalid`, `[erased ${userId}]`],
  );
}

/** The scheduled erasures of the users of `tenantIds`, soonest first. */
export async function scheduledErasures(
  db: Database,
  tenantIds: readonly string[],
): Promise<
  {
    userId: string;
    email: string;
    name: string;
    tenantId: string;
    requestedAt: number;
    requestedBy: string;
    dueAt: number;
  }[]
> {
  const { rows } = await db.query(
    `SELECT e.user_id, e.requested_at, e.requested_by, e.due_at, u.email, u.name, u.tenant_id
     FROM portal_erasures e JOIN portal_users u ON u.id = e.user_id
     WHERE e.state = 'scheduled' AND u.tenant_id = ANY($1::text[]) ORDER BY e.due_at`,
    [tenantIds],
  );
  return rows.map((r) => ({
    userId: String(r.user_id),
    email: String(r.email),
    name: String(r.name),
    tenantId: String(r.tenant_id),
    requestedAt: Number(r.requested_at),
    requestedBy: String(r.requested_by),
    dueAt: Number(r.due_at),
  }));
}

/** How many recovery codes of the person's current generation exist, and how many are unused. */
export async function recoveryCodeCounts(
  db: Database,
  userId: string,
): Promise<{ total: number; unused: number }> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE c.used_at IS NULL)::int AS unused
     FROM portal_recovery_codes c JOIN portal_users u ON u.id = c.user_id
     WHERE c.user_id = $1 AND c.generation = u.recovery_generation`,
    [userId],
  );
  return { total: Number(rows[0]?.total ?? 0), unused: Number(rows[0]?.unused ?? 0) };
}

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

// --- for account ---

/** A complete sign-in of `userId` at `at` (shown to administrators as "last sign-in"). */
export async function setLastSignIn(db: Sql, userId: string, at: number): Promise<void> {
  await db.query('UPDATE portal_users SET last_sign_in_at = $2 WHERE id = $1', [userId, at]);
}

/** The phone number SMS codes go to (verified by a code first). */
export async function setPhone(db: Sql, userId: string, phone: string): Promise<void> {
  await db.query('UPDATE portal_users SET phone = $2 WHERE id = $1', [userId, phone]);
}

/** The fields of the own profile given (absent ones stay). */
export async function updateProfile(
  db: Sql,
  userId: string,
  profile: { readonly name?: string | undefined; readonly locale?: 'de' | 'en' | undefined },
): Promise<void> {
  if (profile.name !== undefined)
    await db.query('UPDATE portal_users SET name = $2 WHERE id = $1', [userId, profile.name]);
  if (profile.locale !== undefined)
    await db.query('UPDATE portal_users SET locale = $2 WHERE id = $1', [userId, profile.locale]);
}

// --- for onboarding ---

/** The e-mail addresses of the active administrators (reviewers of applications and rights). */
export async function activeAdministratorEmails(db: Database, except?: string): Promise<string[]> {
  const { rows } = await db.query(
    "SELECT email FROM portal_users WHERE role = 'administrator' AND status = 'active' AND ($1::text IS NULL OR id <> $1)",
    [except ?? null],
  );
  return rows.map((r) => String(r.email));
}

/** The e-mail addresses of the active key users of `tenantId` and all active administrators. */
export async function keyUserAndAdministratorEmails(
  db: Database,
  tenantId: string,
  except: string,
): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT email FROM portal_users WHERE status = 'active' AND id <> $2
     AND ((role = 'key-user' AND tenant_id = $1) OR role = 'administrator')`,
    [tenantId, except],
  );
  return rows.map((r) => String(r.email));
}

export type RoleChange =
  | { readonly kind: 'changed'; readonly from: Role }
  /** The user already has that role: nothing written. */
  | { readonly kind: 'unchanged' }
  /** The user's role changed meanwhile to one the manager may not change (or the user is gone). */
  | { readonly kind: 'conflict' };

/**
 * An administrator's or key user's direct role change (`PATCH /api/users/:id`): locks the user
 * row first (`FOR UPDATE`), so a concurrent change waits and the role compared is the one the
 * row has *now*.
 *
 * Sets user `userId`'s role to `role`, only if their current role is one of `manageable`
 * (`'all'` for administrators) — checked on the locked row, not on an earlier read.
 */
export async function changeUserRole(
  db: Database,
  userId: string,
  role: Role,
  manageable: readonly Role[] | 'all',
): Promise<RoleChange> {
  const { rows } = await db.query(
    `WITH old AS (SELECT id, role FROM portal_users WHERE id = $1 FOR UPDATE)
     UPDATE portal_users p SET role = $2 FROM old
     WHERE p.id = old.id AND old.role <> $2 AND ($3::text[] IS NULL OR old.role = ANY($3::text[]))
     RETURNING old.role AS from_role`,
    [userId, role, manageable === 'all' ? null : [...manageable]],
  );
  if (rows[0]) return { kind: 'changed', from: rows[0].from_role as Role };
  const { rows: now } = await db.query('SELECT role FROM portal_users WHERE id = $1', [userId]);
  return now[0]?.role === role ? { kind: 'unchanged' } : { kind: 'conflict' };
}

// ------------------------------------------------------------ changing one's address
// Changing one's own sign-in address, decided by the database in one statement, so the
// `UNIQUE` on `portal_users.email` is the check and nothing is looked up first and written
// after: the address and the removal of the e-mail factor in one statement; a unique violation
// (23505: the address was taken meanwhile) changes nothing and is `taken`. (Accepting an
// invitation, the other such write, is `acceptInvitation` in src/features/users/store.ts.)

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

// ------------------------------------------------------------ the first administrator

/** How many accounts exist (the start entries invite the first administrator at 0). */
export async function countUsers(db: Sql): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM portal_users');
  return Number(rows[0]?.n ?? 0);
}

/** How many invitations to `email` are still open at `now`. */
export async function openInvitationsTo(db: Sql, email: string, now: number): Promise<number> {
  const { rows } = await db.query(
    'SELECT count(*)::int AS n FROM portal_invitations WHERE email = $1 AND expires_at > $2',
    [email.toLowerCase(), now],
  );
  return Number(rows[0]?.n ?? 0);
}
