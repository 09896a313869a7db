/**
 * The users feature's use cases: list, invite, change role or status, end sessions, and the
 * pending invitations (list, resend, revoke). Each checks the principal's reach (tenant scope,
 * grantable roles), records the audit event and sends the mail.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import {
  type Context,
  type Principal,
  recordDenied,
  recordUserAction,
  requireTenant,
} from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { sha256 } from '../../server/sessions.ts';
import type { inviteBody, updateUserBody } from '../../shared/api.ts';
import { GRANTABLE, ROLE_SCOPE } from '../../shared/permissions.ts';
import { setAccountStatus } from '../privacy/account-status.ts';
import { roleFitsTenant } from '../rights/service.ts';
import { reachableTenants, tenantById } from '../tenants/store.ts';
import type { InvitationRow, UserRow } from './contract.ts';
import { invitationMail } from './mails.ts';
import * as store from './store.ts';
import { changeUserRole } from './store.ts';

const INVITATION_TTL_MS = 7 * 86_400_000;

async function userRow(ctx: Context, u: store.UserRecord): Promise<UserRow> {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    tenantId: u.tenantId,
    status: u.status,
    factors: await store.confirmedFactorTypes(ctx.db, u.id),
    ...(u.lastSignInAt ? { lastSignInAt: new Date(u.lastSignInAt).toISOString() } : {}),
  };
}

/** A user the principal may manage: in a reachable tenant, never an administrator unless admin. */
async function managedUser(ctx: Context, req: FastifyRequest, p: Principal, id: string) {
  const target = await store.userById(ctx.db, id);
  if (!target) return fail(404, 'not_found', 'not found');
  await requireTenant(ctx, req, p.user, target.tenantId);
  if (!GRANTABLE[p.user.role].includes(target.role) && p.user.role !== 'administrator')
    return fail(403, 'forbidden', 'you may not manage this user');
  return target;
}

/** The tenants a list covers: the chosen one (reachable, else 404), all, or the own tenant. */
async function listScope(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  tenantId: string | undefined,
): Promise<string | 'all'> {
  if (tenantId) return (await requireTenant(ctx, req, p.user, tenantId)).id;
  return ROLE_SCOPE[p.user.role] === 'all' ? 'all' : p.user.tenantId;
}

export async function listUsers(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  tenantId: string | undefined,
): Promise<UserRow[]> {
  const users = await store.usersOf(ctx.db, await listScope(ctx, req, p, tenantId));
  return Promise.all(users.map((u) => userRow(ctx, u)));
}

/** Refuses (audited) a role the principal may not grant, and a role that does not fit the tenant. */
async function checkGrant(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  role: store.UserRecord['role'],
  kind: 'customer' | 'partner' | 'operator',
): Promise<void> {
  if (!GRANTABLE[p.user.role].includes(role)) {
    await recordDenied(ctx, req, p.user, {
      action: 'user.invite',
      reason: `may not grant ${role}`,
    });
    return fail(403, 'forbidden', 'you may not grant that role');
  }
  if (!roleFitsTenant(role, kind))
    return fail(400, 'bad_request', 'that role does not fit the tenant');
}

async function sendInvitation(
  ctx: Context,
  p: Principal,
  invitation: { email: string; role: store.UserRecord['role']; tenantName: string },
  token: string,
): Promise<void> {
  await ctx.mail.send(
    invitationMail({
      to: invitation.email,
      inviter: p.user.name,
      tenantName: invitation.tenantName,
      role: invitation.role,
      link: `${ctx.origin()}/invite/${token}`,
    }),
  );
}

export async function invite(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  body: z.output<typeof inviteBody>,
): Promise<{ id: string; expiresAt: string }> {
  const tenant = await requireTenant(ctx, req, p.user, body.tenantId ?? p.user.tenantId);
  await checkGrant(ctx, req, p, body.role, tenant.kind);
  const token = randomBytes(32).toString('base64url');
  const id = `inv_${randomBytes(9).toString('base64url')}`;
  const expiresAt = ctx.now() + INVITATION_TTL_MS;
  await store.insertInvitation(ctx.db, {
    id,
    tokenHash: sha256(token),
    tenantId: tenant.id,
    email: body.email,
    role: body.role,
    invitedBy: p.user.id,
    expiresAt,
  });
  await sendInvitation(ctx, p, { ...body, tenantName: tenant.name }, token);
  await recordUserAction(
    ctx,
    req,
    p,
    'user.invited',
    tenant.id,
    { type: 'invitation', id },
    { role: body.role },
  );
  return { id, expiresAt: new Date(expiresAt).toISOString() };
}

export async function updateUser(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  body: z.output<typeof updateUserBody>,
): Promise<UserRow> {
  const target = await managedUser(ctx, req, p, id);
  if (target.id === p.user.id)
    return fail(409, 'conflict', 'you cannot change your own role or status');
  if (body.role !== undefined) {
    if (!GRANTABLE[p.user.role].includes(body.role)) {
      await recordDenied(ctx, req, p.user, {
        action: 'user.role.changed',
        target: { type: 'user', id: target.id },
        reason: `may not grant ${body.role}`,
      });
      return fail(403, 'forbidden', 'you may not grant that role');
    }
    // The role must fit the user's tenant (the same rule as invitations and rights requests).
    const tenant = await tenantById(ctx.db, target.tenantId);
    if (!tenant || !roleFitsTenant(body.role, tenant.kind))
      return fail(400, 'bad_request', "that role does not fit the user's tenant", {
        fields: [
          { path: 'role', message: `not available in a ${tenant?.kind ?? 'unknown'} tenant` },
        ],
      });
    // Atomic on the locked row; audited only when the role really changed.
    const changed = await changeUserRole(
      ctx.db,
      target.id,
      body.role,
      p.user.role === 'administrator' ? 'all' : GRANTABLE[p.user.role],
    );
    if (changed.kind === 'conflict')
      return fail(409, 'conflict', 'the user changed meanwhile; reload and try again');
    // The `admin.role.*` action name is what the audit package's role-change alert watches.
    if (changed.kind === 'changed')
      await recordUserAction(
        ctx,
        req,
        p,
        body.role === 'administrator' ? 'admin.role.granted' : 'user.role.changed',
        target.tenantId,
        { type: 'user', id: target.id },
        { from: changed.from, to: body.role },
      );
  }
  if (body.status !== undefined) {
    // Never active while an erasure is scheduled: cancel the erasure instead (see
    // privacy/account-status.ts); decided on the locked user row.
    const changed = await setAccountStatus(ctx.db, target.id, body.status);
    if (changed.kind === 'not_found') return fail(404, 'not_found', 'not found');
    if (changed.kind === 'busy')
      return fail(409, 'conflict', 'the user changed meanwhile; reload and try again');
    if (changed.kind === 'erasure_scheduled')
      return fail(409, 'erasure_scheduled', 'an erasure is scheduled for this account', {
        detail: 'cancel the erasure to give the account its previous status back',
      });
    const ended = body.status === 'disabled' ? await ctx.sessions.revokeAll(target.id) : 0;
    if (changed.kind === 'changed')
      await recordUserAction(
        ctx,
        req,
        p,
        body.status === 'disabled' ? 'user.disabled' : 'user.enabled',
        target.tenantId,
        { type: 'user', id: target.id },
        { sessionsEnded: ended },
      );
  }
  const updated = await store.userById(ctx.db, target.id);
  if (!updated) return fail(404, 'not_found', 'not found');
  return userRow(ctx, updated);
}

export async function endSessions(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<{ ended: number }> {
  const target = await managedUser(ctx, req, p, id);
  const ended = await ctx.sessions.revokeAll(target.id);
  await recordUserAction(
    ctx,
    req,
    p,
    'user.sessions.ended',
    target.tenantId,
    { type: 'user', id: target.id },
    { ended },
  );
  return { ended };
}

// ------------------------------------------------------------ pending invitations

export async function listInvitations(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  tenantId: string | undefined,
): Promise<InvitationRow[]> {
  const scope = await listScope(ctx, req, p, tenantId);
  const rows = await store.pendingInvitations(ctx.db, scope === 'all' ? 'all' : [scope]);
  const names = new Map((await reachableTenants(ctx.db, p.user)).map((t) => [t.id, t.name]));
  const inviters = new Map<string, string | undefined>();
  const out: InvitationRow[] = [];
  for (const row of rows) {
    // Like user management: only invitations of roles the principal could have granted.
    if (!GRANTABLE[p.user.role].includes(row.role) && p.user.role !== 'administrator') continue;
    if (row.invitedBy && !inviters.has(row.invitedBy))
      inviters.set(row.invitedBy, (await store.userById(ctx.db, row.invitedBy))?.name);
    const invitedBy = row.invitedBy ? inviters.get(row.invitedBy) : undefined;
    out.push({
      id: row.id,
      email: row.email,
      role: row.role,
      tenantId: row.tenantId,
      tenantName: names.get(row.tenantId) ?? row.tenantId,
      ...(invitedBy ? { invitedBy } : {}),
      expiresAt: new Date(row.expiresAt).toISOString(),
      expired: row.expiresAt <= ctx.now(),
    });
  }
  return out;
}

/** A pending invitation the principal may manage (reachable tenant, grantable role), else 404/403. */
async function managedInvitation(ctx: Context, req: FastifyRequest, p: Principal, id: string) {
  const invitation = await store.pendingInvitation(ctx.db, id);
  if (!invitation) return fail(404, 'not_found', 'not found');
  const tenant = await requireTenant(ctx, req, p.user, invitation.tenantId);
  if (!GRANTABLE[p.user.role].includes(invitation.role) && p.user.role !== 'administrator')
    return fail(403, 'forbidden', 'you may not manage this invitation');
  return { invitation, tenant };
}

/**
 * Sends a pending (or expired) invitation again with a new link, valid for 7 days from now; the
 * old link then says it was replaced.
 */
export async function resendInvitation(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<{ id: string; expiresAt: string }> {
  const { invitation, tenant } = await managedInvitation(ctx, req, p, id);
  const token = randomBytes(32).toString('base64url');
  const next = await store.replaceInvitation(
    ctx.db,
    invitation.id,
    {
      id: `inv_${randomBytes(9).toString('base64url')}`,
      tokenHash: sha256(token),
      expiresAt: ctx.now() + INVITATION_TTL_MS,
      invitedBy: p.user.id,
    },
    ctx.now(),
  );
  // Accepted, revoked or resent by someone else since it was read.
  if (!next) return fail(409, 'conflict', 'the invitation changed meanwhile; reload and try again');
  await sendInvitation(ctx, p, { ...next, tenantName: tenant.name }, token);
  await recordUserAction(
    ctx,
    req,
    p,
    'user.invitation.resent',
    tenant.id,
    { type: 'invitation', id: next.id },
    {
      replaces: invitation.id,
      role: next.role,
    },
  );
  return { id: next.id, expiresAt: new Date(next.expiresAt).toISOString() };
}

/** Withdraws a pending invitation: its link no longer works. */
export async function revokeInvitation(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<void> {
  const { invitation } = await managedInvitation(ctx, req, p, id);
  if (!(await store.revokeInvitation(ctx.db, invitation.id)))
    return fail(409, 'conflict', 'the invitation changed meanwhile; reload and try again');
  await recordUserAction(ctx, req, p, 'user.invitation.revoked', invitation.tenantId, {
    type: 'invitation',
    id: invitation.id,
  });
}

/**
 * For the invitation link's lookup when the token is no longer valid: a link that was replaced
 * by a resend says so (410 `invitation_replaced`), so the person looks for the newer mail.
 */
export async function failReplacedInvitation(ctx: Context, token: string): Promise<void> {
  if (await store.invitationReplaced(ctx.db, sha256(token)))
    return fail(410, 'invitation_replaced', 'the invitation was sent again with a new link');
}
