/**
 * "Request more rights": a signed-in user asks for another role, with a reason; a key user of
 * the same tenant or an administrator approves or rejects it.
 *
 * - One open request per user; the role must differ from the current one and fit the tenant
 *   (administrator: operator tenant; partner: partner tenants; customer/key-user: customer
 *   tenants). The approvers are told by e-mail.
 * - Decisions: never by the requester (403), a key user only for roles they may grant
 *   (`GRANTABLE`: never administrator or partner, 403), only within reach (another tenant's
 *   request answers 404 exactly like a missing one, audited as `access.denied`). One decision
 *   wins (compare-and-set on the state). The requester gets an e-mail.
 *
 * The role is the user row's; every request reads it (`principal`), so the requester's open
 * sessions have the new role with their next request — no sign-in needed.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  type Context,
  type Principal,
  record,
  recordDenied,
  recordUserAction,
} from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import type { Tenant } from '../../shared/api.ts';
import { GRANTABLE, ROLE_SCOPE, type Role } from '../../shared/permissions.ts';
import { tenantById } from '../tenants/store.ts';
import {
  activeAdministratorEmails,
  keyUserAndAdministratorEmails,
  userById,
} from '../users/store.ts';
import type { RightsRequestRow } from './contract.ts';
import { approvedMail, rejectedMail, requestedMail } from './mails.ts';
import {
  approveRightsRequest,
  insertRightsRequest,
  listRightsRequests,
  rejectRightsRequest,
  rightsRequestById,
  rightsRequestsOf,
  type StoredRightsRequest,
  withdrawRightsRequest,
} from './store.ts';

/** Whether `role` fits a tenant of `kind` (the same rule as invitations). */
export function roleFitsTenant(role: Role, kind: Tenant['kind']): boolean {
  if (kind === 'operator') return role === 'administrator';
  if (kind === 'partner') return role === 'partner';
  return role === 'customer' || role === 'key-user';
}

const isAdmin = (p: Principal) => ROLE_SCOPE[p.user.role] === 'all';

const mayDecide = (p: Principal, r: StoredRightsRequest) =>
  r.userId !== p.user.id &&
  (isAdmin(p) ||
    (r.tenantId === p.user.tenantId &&
      GRANTABLE[p.user.role].includes(r.requestedRole) &&
      GRANTABLE[p.user.role].includes(r.fromRole)));

const iso = (ms: number) => new Date(ms).toISOString();

/** The answer row; with `canDecide` in the approvers' answers (`p` given). */
function toRow(r: StoredRightsRequest, p?: Principal): RightsRequestRow {
  return {
    id: r.id,
    tenantId: r.tenantId,
    tenantName: r.tenantName,
    user: { id: r.userId, name: r.userName, email: r.userEmail },
    currentRole: r.fromRole,
    requestedRole: r.requestedRole,
    reason: r.reason,
    status: r.status,
    createdAt: iso(r.createdAt),
    ...(r.decidedAt === undefined ? {} : { decidedAt: iso(r.decidedAt) }),
    ...(r.decisionNote === undefined ? {} : { decisionNote: r.decisionNote }),
    ...(p ? { canDecide: r.status === 'pending' && mayDecide(p, r) } : {}),
  };
}

/** The request as stored now (it was just written: it exists). */
async function reread(ctx: Context, id: string, p?: Principal): Promise<RightsRequestRow> {
  const row = await rightsRequestById(ctx.db, id);
  if (!row) return fail(404, 'not_found', 'not found');
  return toRow(row, p);
}

function denied(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  action: string,
  id: string,
  reason: string,
  tenant = p.user.tenantId,
): Promise<void> {
  return recordDenied(ctx, req, p.user, {
    action,
    target: { type: 'rights-request', id },
    reason,
    tenant,
  });
}

// ------------------------------------------------------------ the requester

export async function requestRights(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  body: { role: Role; reason: string },
): Promise<RightsRequestRow> {
  const tenant = await tenantById(ctx.db, p.user.tenantId);
  if (!tenant) return fail(404, 'not_found', 'not found');
  if (body.role === p.user.role) return fail(409, 'conflict', 'you already have that role');
  if (!roleFitsTenant(body.role, tenant.kind))
    return fail(400, 'bad_request', 'that role does not fit your tenant', {
      fields: [{ path: 'role', message: 'not available for this tenant' }],
    });
  const id = `rr_${randomBytes(12).toString('base64url')}`;
  const inserted = await insertRightsRequest(ctx.db, {
    id,
    tenantId: tenant.id,
    userId: p.user.id,
    fromRole: p.user.role,
    requestedRole: body.role,
    reason: body.reason,
    at: ctx.now(),
  });
  if (!inserted) return fail(409, 'conflict', 'you already have an open request');
  await record(ctx, req, {
    tenant: tenant.id,
    actor: { type: 'user', id: p.user.id },
    action: 'rights.requested',
    outcome: 'success',
    target: { type: 'rights-request', id },
    data: { from: p.user.role, to: body.role },
  });
  // Who can decide: key users of the tenant for roles they may grant, else administrators.
  const approvers = GRANTABLE['key-user'].includes(body.role)
    ? await keyUserAndAdministratorEmails(ctx.db, tenant.id, p.user.id)
    : await activeAdministratorEmails(ctx.db, p.user.id);
  const mail = requestedMail({
    userName: p.user.name,
    tenantName: tenant.name,
    role: body.role,
    origin: ctx.origin(),
  });
  await Promise.allSettled(approvers.map((to) => ctx.mail.send({ to, ...mail })));
  return reread(ctx, id);
}

export async function myRequests(ctx: Context, p: Principal): Promise<RightsRequestRow[]> {
  return (await rightsRequestsOf(ctx.db, p.user.id)).map((r) => toRow(r));
}

export async function withdraw(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<RightsRequestRow> {
  const row = await rightsRequestById(ctx.db, id);
  if (!row || row.userId !== p.user.id) {
    await denied(ctx, req, p, 'rights.withdrawn', id, 'not own request');
    return fail(404, 'not_found', 'not found');
  }
  if (!(await withdrawRightsRequest(ctx.db, row.id, ctx.now())))
    return fail(409, 'conflict', 'the request is not open');
  await recordUserAction(ctx, req, p, 'rights.withdrawn', row.tenantId, {
    type: 'rights-request',
    id: row.id,
  });
  return reread(ctx, row.id);
}

// ------------------------------------------------------------ approvers

/** Key users: their tenant's requests; administrators: every tenant's. */
export async function requestsToDecide(
  ctx: Context,
  p: Principal,
  status: StoredRightsRequest['status'] | undefined,
): Promise<RightsRequestRow[]> {
  const rows = await listRightsRequests(ctx.db, isAdmin(p) ? undefined : p.user.tenantId, status);
  return rows.map((r) => toRow(r, p));
}

/** The request, if the principal may decide it; 404 / 403 / 409 otherwise (all audited). */
async function decidable(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  action: string,
): Promise<StoredRightsRequest> {
  const row = await rightsRequestById(ctx.db, id);
  if (!row || (!isAdmin(p) && row.tenantId !== p.user.tenantId)) {
    await denied(ctx, req, p, 'access.denied', id, row ? 'tenant out of scope' : 'no such request');
    return fail(404, 'not_found', 'not found');
  }
  if (row.userId === p.user.id) {
    await denied(ctx, req, p, action, id, 'own request', row.tenantId);
    return fail(403, 'forbidden', 'you cannot decide your own request');
  }
  if (!mayDecide(p, row)) {
    await denied(ctx, req, p, action, id, `may not grant ${row.requestedRole}`);
    return fail(403, 'forbidden', 'you may not grant that role');
  }
  if (row.status !== 'pending') return fail(409, 'conflict', 'the request is not open');
  return row;
}

export async function approve(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  note: string | undefined,
): Promise<RightsRequestRow> {
  const row = await decidable(ctx, req, p, id, 'rights.approved');
  const target = await userById(ctx.db, row.userId);
  const tenant = await tenantById(ctx.db, row.tenantId);
  const role = row.requestedRole;
  if (!target || !tenant || !roleFitsTenant(role, tenant.kind))
    return fail(409, 'conflict', 'the user or their tenant has changed since the request');
  // One statement: the request is approved and the role changed together, on the locked user
  // row, only while the user still has the role the request was made from.
  const decided = await approveRightsRequest(ctx.db, row.id, {
    by: p.user.id,
    at: ctx.now(),
    note,
  });
  if (decided.kind === 'not_open') return fail(409, 'conflict', 'the request is not open');
  if (decided.kind === 'role_changed')
    return fail(409, 'role_changed', 'the user or their role has changed since the request', {
      detail: `the request stays open: the user no longer has the role ${row.fromRole} or is not active; review it again or reject it`,
    });
  await record(ctx, req, {
    tenant: target.tenantId,
    actor: { type: 'user', id: p.user.id },
    action: 'rights.approved',
    outcome: 'success',
    target: { type: 'rights-request', id: row.id },
    data: { user: target.id, from: decided.from, to: decided.to },
  });
  // The `admin.role.*` action name is what the audit package's role-change alert watches.
  await record(ctx, req, {
    tenant: target.tenantId,
    actor: { type: 'user', id: p.user.id },
    action: role === 'administrator' ? 'admin.role.granted' : 'user.role.changed',
    outcome: 'success',
    target: { type: 'user', id: target.id },
    data: { from: decided.from, to: decided.to, request: row.id },
  });
  await ctx.mail.send({ to: target.email, ...approvedMail({ userName: target.name, role, note }) });
  return reread(ctx, row.id, p);
}

export async function reject(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  reason: string,
): Promise<RightsRequestRow> {
  const row = await decidable(ctx, req, p, id, 'rights.rejected');
  if (!(await rejectRightsRequest(ctx.db, row.id, { by: p.user.id, at: ctx.now(), reason })))
    return fail(409, 'conflict', 'the request is not open');
  await recordUserAction(
    ctx,
    req,
    p,
    'rights.rejected',
    row.tenantId,
    { type: 'rights-request', id: row.id },
    { user: row.userId, requested: row.requestedRole },
    reason,
  );
  await ctx.mail.send({
    to: row.userEmail,
    ...rejectedMail({ userName: row.userName, role: row.requestedRole, reason }),
  });
  return reread(ctx, row.id, p);
}
