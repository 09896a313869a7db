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

export async function setPasswordHash(db: Sql, userId: string, hash: string): Promise<void> {
  await db.query('UPDATE portal_users SET password_hash = $2 WHERE id = $1', [userId, hash]);
}
