/**
 * Role changes of portal users, each one atomic statement that decides from what the database
 * returns: approving a rights request (the decision and the role change together) and an
 * administrator's or key user's direct change (`PATCH /api/users/:id`).
 *
 * Both lock the user row first (`FOR UPDATE`): a concurrent change waits, and the role compared
 * is the one the row has *now* — PostgreSQL re-reads a row it had to wait for and checks the
 * condition again on that version.
 */
import type { Role } from '../../shared/permissions.ts';
import type { Database } from '../db.ts';

export type ApproveOutcome =
  | { readonly kind: 'approved'; readonly userId: string; readonly from: Role; readonly to: Role }
  /** Already decided or withdrawn (or gone). */
  | { readonly kind: 'not_open' }
  /** Still pending, but the user's role is no longer the one asked from, or not active. */
  | { readonly kind: 'role_changed' };

/**
 * Approves pending rights request `id`: marks it approved and gives the user the requested
 * role — both or neither. Neither when the user no longer has the role the request was made
 * from or is not active (the request then stays pending).
 */
export async function approveRightsRequest(
  db: Database,
  id: string,
  decision: { readonly by: string; readonly at: number; readonly note?: string | undefined },
): Promise<ApproveOutcome> {
  const { rows } = await db.query(
    `WITH r AS (
       SELECT id, user_id, from_role FROM portal_rights_requests WHERE id = $1 AND status = 'pending'),
     u AS (
       SELECT p.id FROM portal_users p JOIN r ON p.id = r.user_id
       WHERE p.role = r.from_role AND p.status = 'active' FOR UPDATE OF p),
     d AS (
       UPDATE portal_rights_requests q
       SET status = 'approved', decided_by = $2, decided_at = $3, decision_note = $4
       FROM u WHERE q.id = $1 AND q.status = 'pending' AND q.user_id = u.id
       RETURNING q.user_id, q.from_role, q.requested_role)
     UPDATE portal_users p SET role = d.requested_role FROM d WHERE p.id = d.user_id
     RETURNING p.id, d.from_role, d.requested_role`,
    [id, decision.by, decision.at, decision.note ?? null],
  );
  const row = rows[0];
  if (row)
    return {
      kind: 'approved',
      userId: String(row.id),
      from: row.from_role as Role,
      to: row.requested_role as Role,
    };
  const { rows: now } = await db.query('SELECT status FROM portal_rights_requests WHERE id = $1', [
    id,
  ]);
  return now[0]?.status === 'pending' ? { kind: 'role_changed' } : { kind: 'not_open' };
}

export type RoleChange =
  | { readonly kind: 'changed'; readonly from: Role }
  /** The user already has that role: nothing written. */
  | { readonly kind: 'unchanged' }
  /** The user's role changed meanwhile to one the manager may not change (or the user is gone). */
  | { readonly kind: 'conflict' };

/**
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
