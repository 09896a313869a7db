/**
 * "Request more rights": a signed-in user asks for another role, with a reason; a key user of
 * the same tenant or an administrator approves or rejects it.
 *
 * - `POST /api/rights/requests {role, reason}` (`rights.request`) — one open request per user;
 *   the role must differ from the current one and fit the tenant (administrator: operator
 *   tenant; partner: partner tenants; customer/key-user: customer tenants). The approvers are
 *   told by e-mail.
 * - `GET  /api/rights/requests/mine`, `POST /api/rights/requests/:id/withdraw` — the requester.
 * - `GET  /api/rights/requests[?status=]` (`rights.approve`) — key users: their tenant;
 *   administrators: every tenant.
 * - `POST /api/rights/requests/:id/approve {note?}`, `POST …/:id/reject {reason}`
 *   (`rights.approve`) — never by the requester (403), a key user only for roles they may grant
 *   (`GRANTABLE`: never administrator or partner, 403), only within reach (another tenant's
 *   request answers 404 exactly like a missing one, audited as `access.denied`). One decision
 *   wins (compare-and-set on the state). The requester gets an e-mail.
 *
 * The role is the user row's; every request reads it (`principal`), so the requester's open
 * sessions have the new role with their next request — no sign-in needed.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tenant } from '../../shared/api.ts';
import { GRANTABLE, ROLE_SCOPE, type Role } from '../../shared/permissions.ts';
import {
  authorize,
  type Context,
  type Principal,
  record,
  tenantById,
  userById,
} from '../context.ts';
import { fail, parse } from '../http.ts';
import {
  type RightsRequestRow,
  rightsDecisionBody,
  rightsQuery,
  rightsRejectBody,
  rightsRequestBody,
} from '../onboarding/contract.ts';
import { approveRightsRequest } from '../onboarding/roles.ts';

/** Whether `role` fits a tenant of `kind` (the same rule as invitations). */
export function roleFitsTenant(role: Role, kind: Tenant['kind']): boolean {
  if (kind === 'operator') return role === 'administrator';
  if (kind === 'partner') return role === 'partner';
  return role === 'customer' || role === 'key-user';
}

const SELECT = `SELECT r.*, u.name AS user_name, u.email AS user_email, t.name AS tenant_name
  FROM portal_rights_requests r
  JOIN portal_users u ON u.id = r.user_id
  JOIN portal_tenants t ON t.id = r.tenant_id`;

export function rightsRoutes(app: FastifyInstance, ctx: Context): void {
  const isAdmin = (p: Principal) => ROLE_SCOPE[p.user.role] === 'all';

  const mayDecide = (p: Principal, r: Record<string, unknown>) =>
    String(r.user_id) !== p.user.id &&
    (isAdmin(p) ||
      (String(r.tenant_id) === p.user.tenantId &&
        GRANTABLE[p.user.role].includes(r.requested_role as Role) &&
        GRANTABLE[p.user.role].includes(r.from_role as Role)));

  const toRow = (r: Record<string, unknown>, p?: Principal): RightsRequestRow => ({
    id: String(r.id),
    tenantId: String(r.tenant_id),
    tenantName: String(r.tenant_name ?? r.tenant_id),
    user: { id: String(r.user_id), name: String(r.user_name), email: String(r.user_email) },
    currentRole: r.from_role as Role,
    requestedRole: r.requested_role as Role,
    reason: String(r.reason),
    status: r.status as RightsRequestRow['status'],
    createdAt: new Date(Number(r.created_at)).toISOString(),
    ...(r.decided_at == null ? {} : { decidedAt: new Date(Number(r.decided_at)).toISOString() }),
    ...(r.decision_note == null ? {} : { decisionNote: String(r.decision_note) }),
    ...(p ? { canDecide: r.status === 'pending' && mayDecide(p, r) } : {}),
  });

  const byId = async (id: string) => {
    const { rows } = /^rr_[A-Za-z0-9_-]{1,40}$/.test(id)
      ? await ctx.db.query(`${SELECT} WHERE r.id = $1`, [id])
      : { rows: [] };
    return rows[0];
  };

  const denied = (
    req: FastifyRequest,
    p: Principal,
    action: string,
    id: string,
    reason: string,
    tenant = p.user.tenantId,
  ) =>
    record(ctx, req, {
      tenant,
      actor: { type: 'user', id: p.user.id },
      action,
      outcome: 'denied',
      target: { type: 'rights-request', id: id.slice(0, 100) },
      reason,
    });

  // ------------------------------------------------------------ the requester

  app.post('/api/rights/requests', async (req, reply) => {
    const body = parse(rightsRequestBody, req.body);
    const p = await authorize(ctx, req, 'rights.request');
    const tenant = await tenantById(ctx, p.user.tenantId);
    if (!tenant) return fail(404, 'not_found', 'not found');
    if (body.role === p.user.role) return fail(409, 'conflict', 'you already have that role');
    if (!roleFitsTenant(body.role, tenant.kind))
      return fail(400, 'bad_request', 'that role does not fit your tenant', {
        fields: [{ path: 'role', message: 'not available for this tenant' }],
      });
    const id = `rr_${randomBytes(12).toString('base64url')}`;
    const inserted = await ctx.db.query(
      `INSERT INTO portal_rights_requests
         (id, tenant_id, user_id, from_role, requested_role, reason, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)
       ON CONFLICT (user_id) WHERE status = 'pending' DO NOTHING RETURNING id`,
      [id, tenant.id, p.user.id, p.user.role, body.role, body.reason, ctx.now()],
    );
    if (inserted.rows.length === 0)
      return fail(409, 'conflict', 'you already have an open request');
    await record(ctx, req, {
      tenant: tenant.id,
      actor: { type: 'user', id: p.user.id },
      action: 'rights.requested',
      outcome: 'success',
      target: { type: 'rights-request', id },
      data: { from: p.user.role, to: body.role },
    });
    // Who can decide: key users of the tenant for roles they may grant, else administrators.
    const { rows: approvers } = GRANTABLE['key-user'].includes(body.role)
      ? await ctx.db.query(
          `SELECT email FROM portal_users WHERE status = 'active' AND id <> $2
           AND ((role = 'key-user' AND tenant_id = $1) OR role = 'administrator')`,
          [tenant.id, p.user.id],
        )
      : await ctx.db.query(
          "SELECT email FROM portal_users WHERE status = 'active' AND role = 'administrator' AND id <> $1",
          [p.user.id],
        );
    await Promise.allSettled(
      approvers.map((a) =>
        ctx.mail.send({
          to: String(a.email),
          subject: `Rechteanfrage / Rights request: ${p.user.name} (${tenant.name})`,
          text: `${p.user.name} (${tenant.name}) bittet um die Rolle ${body.role}.\n${p.user.name} (${tenant.name}) asks for the role ${body.role}.\n\n${ctx.origin()}/rights\n`,
        }),
      ),
    );
    const row = await byId(id);
    return reply.code(201).send({ request: toRow(row as Record<string, unknown>) });
  });

  app.get('/api/rights/requests/mine', async (req) => {
    const p = await authorize(ctx, req, 'rights.request');
    const { rows } = await ctx.db.query(
      `${SELECT} WHERE r.user_id = $1 ORDER BY r.created_at DESC LIMIT 100`,
      [p.user.id],
    );
    return { requests: rows.map((r) => toRow(r)) };
  });

  app.post<{ Params: { id: string } }>('/api/rights/requests/:id/withdraw', async (req) => {
    const p = await authorize(ctx, req, 'rights.request');
    const row = await byId(req.params.id);
    if (!row || String(row.user_id) !== p.user.id) {
      await denied(req, p, 'rights.withdrawn', req.params.id, 'not own request');
      return fail(404, 'not_found', 'not found');
    }
    const { rows } = await ctx.db.query(
      `UPDATE portal_rights_requests SET status = 'withdrawn', decided_at = $2
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [row.id, ctx.now()],
    );
    if (rows.length === 0) return fail(409, 'conflict', 'the request is not open');
    await record(ctx, req, {
      tenant: String(row.tenant_id),
      actor: { type: 'user', id: p.user.id },
      action: 'rights.withdrawn',
      outcome: 'success',
      target: { type: 'rights-request', id: String(row.id) },
    });
    return { request: toRow((await byId(String(row.id))) as Record<string, unknown>) };
  });

  // ------------------------------------------------------------ approvers

  app.get('/api/rights/requests', async (req) => {
    const p = await authorize(ctx, req, 'rights.approve');
    const q = parse(rightsQuery, req.query);
    const { rows } = await ctx.db.query(
      `${SELECT} WHERE ($1::text IS NULL OR r.tenant_id = $1) AND ($2::text IS NULL OR r.status = $2)
       ORDER BY r.created_at DESC LIMIT 500`,
      [isAdmin(p) ? null : p.user.tenantId, q.status ?? null],
    );
    return { requests: rows.map((r) => toRow(r, p)) };
  });

  /** The request, if the principal may decide it; 404 / 403 / 409 otherwise (all audited). */
  const decidable = async (req: FastifyRequest, p: Principal, id: string, action: string) => {
    const row = await byId(id);
    if (!row || (!isAdmin(p) && String(row.tenant_id) !== p.user.tenantId)) {
      await record(ctx, req, {
        tenant: p.user.tenantId,
        actor: { type: 'user', id: p.user.id },
        action: 'access.denied',
        outcome: 'denied',
        target: { type: 'rights-request', id: id.slice(0, 100) },
        reason: row ? 'tenant out of scope' : 'no such request',
      });
      return fail(404, 'not_found', 'not found');
    }
    if (String(row.user_id) === p.user.id) {
      await denied(req, p, action, id, 'own request', String(row.tenant_id));
      return fail(403, 'forbidden', 'you cannot decide your own request');
    }
    if (!mayDecide(p, row)) {
      await denied(req, p, action, id, `may not grant ${String(row.requested_role)}`);
      return fail(403, 'forbidden', 'you may not grant that role');
    }
    if (row.status !== 'pending') return fail(409, 'conflict', 'the request is not open');
    return row;
  };

  const close = async (
    id: string,
    p: Principal,
    status: 'approved' | 'rejected',
    note: string | undefined,
  ) => {
    const { rows } = await ctx.db.query(
      `UPDATE portal_rights_requests SET status = $2, decided_by = $3, decided_at = $4, decision_note = $5
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [id, status, p.user.id, ctx.now(), note ?? null],
    );
    if (rows.length === 0) fail(409, 'conflict', 'the request is not open');
  };

  app.post<{ Params: { id: string } }>('/api/rights/requests/:id/approve', async (req) => {
    const body = parse(rightsDecisionBody, req.body);
    const p = await authorize(ctx, req, 'rights.approve');
    const row = await decidable(req, p, req.params.id, 'rights.approved');
    const target = await userById(ctx, String(row.user_id));
    const tenant = await tenantById(ctx, String(row.tenant_id));
    const role = row.requested_role as Role;
    if (!target || !tenant || !roleFitsTenant(role, tenant.kind))
      return fail(409, 'conflict', 'the user or their tenant has changed since the request');
    // One statement: the request is approved and the role changed together, on the locked user
    // row, only while the user still has the role the request was made from.
    const decided = await approveRightsRequest(ctx.db, String(row.id), {
      by: p.user.id,
      at: ctx.now(),
      note: body.note,
    });
    if (decided.kind === 'not_open') return fail(409, 'conflict', 'the request is not open');
    if (decided.kind === 'role_changed')
      return fail(409, 'role_changed', 'the user or their role has changed since the request', {
        detail: `the request stays open: the user no longer has the role ${String(row.from_role)} or is not active; review it again or reject it`,
      });
    await record(ctx, req, {
      tenant: target.tenantId,
      actor: { type: 'user', id: p.user.id },
      action: 'rights.approved',
      outcome: 'success',
      target: { type: 'rights-request', id: String(row.id) },
      data: { user: target.id, from: decided.from, to: decided.to },
    });
    // The `admin.role.*` action name is what the audit package's role-change alert watches.
    await record(ctx, req, {
      tenant: target.tenantId,
      actor: { type: 'user', id: p.user.id },
      action: role === 'administrator' ? 'admin.role.granted' : 'user.role.changed',
      outcome: 'success',
      target: { type: 'user', id: target.id },
      data: { from: decided.from, to: decided.to, request: String(row.id) },
    });
    await ctx.mail.send({
      to: target.email,
      subject: 'Rechteanfrage genehmigt / Rights request approved',
      text: `Hallo ${target.name},\n\nIhre Anfrage wurde genehmigt: Sie haben jetzt die Rolle ${role}.${body.note ? `\nHinweis: ${body.note}` : ''}\n\nYour request was approved: you now have the role ${role}.${body.note ? `\nNote: ${body.note}` : ''}\n`,
    });
    return { request: toRow((await byId(String(row.id))) as Record<string, unknown>, p) };
  });

  app.post<{ Params: { id: string } }>('/api/rights/requests/:id/reject', async (req) => {
    const body = parse(rightsRejectBody, req.body);
    const p = await authorize(ctx, req, 'rights.approve');
    const row = await decidable(req, p, req.params.id, 'rights.rejected');
    await close(String(row.id), p, 'rejected', body.reason);
    await record(ctx, req, {
      tenant: String(row.tenant_id),
      actor: { type: 'user', id: p.user.id },
      action: 'rights.rejected',
      outcome: 'success',
      target: { type: 'rights-request', id: String(row.id) },
      data: { user: String(row.user_id), requested: String(row.requested_role) },
      reason: body.reason,
    });
    await ctx.mail.send({
      to: String(row.user_email),
      subject: 'Rechteanfrage abgelehnt / Rights request rejected',
      text: `Hallo ${String(row.user_name)},\n\nIhre Anfrage nach der Rolle ${String(row.requested_role)} wurde abgelehnt.\nBegründung: ${body.reason}\n\nYour request for the role ${String(row.requested_role)} was rejected.\nReason: ${body.reason}\n`,
    });
    return { request: toRow((await byId(String(row.id))) as Record<string, unknown>, p) };
  });
}
