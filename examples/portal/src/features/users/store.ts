/**
 * `portal_users`: the users feature's store. Other features' queries on the table are appended
 * below under their feature's name.
 */

import type { Database } from '../../server/db.ts';
import type { Role } from '../../shared/permissions.ts';

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
