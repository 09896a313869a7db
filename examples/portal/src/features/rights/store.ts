/**
 * `portal_rights_requests`: "request more rights". Every decision is one statement that decides
 * from what the database returns (compare-and-set on the state), so one decision wins.
 *
 * Approving writes the user's role too (`portal_users`), in the same statement: the decision
 * and the role change happen together, on the locked user row (`FOR UPDATE`) — a concurrent
 * change waits, and the role compared is the one the row has *now* (PostgreSQL re-reads a row
 * it had to wait for and checks the condition again on that version).
 */

import type { Database } from '../../server/db.ts';
import type { Role } from '../../shared/permissions.ts';

/** A request with its user's name and e-mail and its tenant's name. */
export interface StoredRightsRequest {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly userId: string;
  readonly userName: string;
  readonly userEmail: string;
  readonly fromRole: Role;
  readonly requestedRole: Role;
  readonly reason: string;
  readonly status: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  readonly createdAt: number;
  readonly decidedAt?: number;
  readonly decisionNote?: string;
}

const SELECT = `SELECT r.*, u.name AS user_name, u.email AS user_email, t.name AS tenant_name
  FROM portal_rights_requests r
  JOIN portal_users u ON u.id = r.user_id
  JOIN portal_tenants t ON t.id = r.tenant_id`;

function request(r: Record<string, unknown>): StoredRightsRequest {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    tenantName: String(r.tenant_name ?? r.tenant_id),
    userId: String(r.user_id),
    userName: String(r.user_name),
    userEmail: String(r.user_email),
    fromRole: r.from_role as Role,
    requestedRole: r.requested_role as Role,
    reason: String(r.reason),
    status: r.status as StoredRightsRequest['status'],
    createdAt: Number(r.created_at),
    ...(r.decided_at == null ? {} : { decidedAt: Number(r.decided_at) }),
    ...(r.decision_note == null ? {} : { decisionNote: String(r.decision_note) }),
  };
}

/** Files a pending request; `false` when the user already has an open one. */
export async function insertRightsRequest(
  db: Database,
  r: {
    readonly id: string;
    readonly tenantId: string;
    readonly userId: string;
    readonly fromRole: Role;
    readonly requestedRole: Role;
    readonly reason: string;
    readonly at: number;
  },
): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO portal_rights_requests
       (id, tenant_id, user_id, from_role, requested_role, reason, status, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)
     ON CONFLICT (user_id) WHERE status = 'pending' DO NOTHING RETURNING id`,
    [r.id, r.tenantId, r.userId, r.fromRole, r.requestedRole, r.reason, r.at],
  );
  return rows.length > 0;
}

export async function rightsRequestById(
  db: Database,
  id: string,
): Promise<StoredRightsRequest | undefined> {
  if (!/^rr_[A-Za-z0-9_-]{1,40}$/.test(id)) return undefined;
  const { rows } = await db.query(`${SELECT} WHERE r.id = $1`, [id]);
  return rows[0] ? request(rows[0]) : undefined;
}

/** The user's own requests, newest first. */
export async function rightsRequestsOf(
  db: Database,
  userId: string,
): Promise<StoredRightsRequest[]> {
  const { rows } = await db.query(
    `${SELECT} WHERE r.user_id = $1 ORDER BY r.created_at DESC LIMIT 100`,
    [userId],
  );
  return rows.map(request);
}

/** Requests of one tenant (or every tenant: `undefined`), optionally by status, newest first. */
export async function listRightsRequests(
  db: Database,
  tenantId: string | undefined,
  status: StoredRightsRequest['status'] | undefined,
): Promise<StoredRightsRequest[]> {
  const { rows } = await db.query(
    `${SELECT} WHERE ($1::text IS NULL OR r.tenant_id = $1) AND ($2::text IS NULL OR r.status = $2)
     ORDER BY r.created_at DESC LIMIT 500`,
    [tenantId ?? null, status ?? null],
  );
  return rows.map(request);
}

/** Withdraws pending request `id`; `false` when it is not open. */
export async function withdrawRightsRequest(
  db: Database,
  id: string,
  at: number,
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE portal_rights_requests SET status = 'withdrawn', decided_at = $2
     WHERE id = $1 AND status = 'pending' RETURNING id`,
    [id, at],
  );
  return rows.length > 0;
}

/** Rejects pending request `id`; `false` when it is not open (any more). */
export async function rejectRightsRequest(
  db: Database,
  id: string,
  decision: { readonly by: string; readonly at: number; readonly reason: string },
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE portal_rights_requests SET status = 'rejected', decided_by = $2, decided_at = $3, decision_note = $4
     WHERE id = $1 AND status = 'pending' RETURNING id`,
    [id, decision.by, decision.at, decision.reason],
  );
  return rows.length > 0;
}

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
