/**
 * Tenants, users, licenses, credentials, audit log and alerts. Every route checks a permission
 * from the role table, then scopes by tenant on the server: an object of a tenant the user
 * cannot reach answers 404, exactly like one that does not exist.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { roleFitsTenant } from '../../features/rights/service.ts';
import { changeUserRole } from '../../features/users/store.ts';
import {
  type AuditRow,
  auditQuery,
  CONNECTION_PATTERN,
  type ConnectionRow,
  createLicenseBody,
  credentialsBody,
  inviteBody,
  type LicenseRow,
  lockBody,
  type UserRow,
  updateUserBody,
} from '../../shared/api.ts';
import type { AuditViewPage, AuditViewRow } from '../../shared/audit-view.ts';
import { can, GRANTABLE, ROLE_SCOPE } from '../../shared/permissions.ts';
import { type AuditStoreQuery, verifyPortalAudit } from '../audit.ts';
import {
  authorize,
  type Context,
  type Principal,
  reachableTenants,
  record,
  requireTenant,
  tenantById,
  toUser,
  type UserRecord,
  userById,
} from '../context.ts';
import { fail, parse } from '../http.ts';
import { licenseLockChanged } from '../partner/events.ts';
import { setAccountStatus } from '../privacy/account-status.ts';
import type { LicenseRecord } from '../relay-gateway.ts';
import { RelayGatewayError } from '../relay-gateway.ts';
import { sha256 } from '../sessions.ts';

const INVITATION_TTL_MS = 7 * 86_400_000;

function relayFailure(error: unknown): never {
  if (error instanceof RelayGatewayError) {
    if (error.reason === 'not_found') return fail(404, 'not_found', 'not found');
    if (error.reason === 'license_not_active')
      return fail(409, 'license_not_active', 'the license is not activated');
    if (error.reason === 'invalid') return fail(400, 'bad_request', error.message);
    if (error.reason === 'webhook_secret_invalid')
      return fail(400, 'webhook_secret_invalid', error.message);
    if (error.reason === 'forbidden') return fail(404, 'not_found', 'not found');
    return fail(503, 'upstream_unavailable', 'the relay is not reachable; try again shortly');
  }
  throw error;
}

async function viaRelay<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return relayFailure(error);
  }
}

export function manageRoutes(
  app: FastifyInstance,
  ctx: Context,
  auditQueryFn: (q: AuditStoreQuery) => Promise<AuditViewPage>,
): void {
  const audit = (
    req: FastifyRequest,
    p: Principal,
    action: string,
    extra: {
      tenant?: string;
      target?: { type: string; id: string };
      data?: Record<string, unknown>;
    } = {},
  ) =>
    record(ctx, req, {
      tenant: extra.tenant ?? p.user.tenantId,
      actor: { type: 'user', id: p.user.id },
      action,
      outcome: 'success',
      ...(extra.target ? { target: extra.target } : {}),
      ...(extra.data ? { data: extra.data } : {}),
    });

  // ------------------------------------------------------------ tenants

  app.get('/api/tenants', async (req) => {
    const p = await authorize(ctx, req, 'tenants.read');
    return { tenants: await reachableTenants(ctx, p.user) };
  });

  // ------------------------------------------------------------ users

  const userRow = async (u: UserRecord): Promise<UserRow> => {
    const { rows } = await ctx.db.query(
      'SELECT DISTINCT type FROM portal_factors WHERE user_id = $1 AND confirmed',
      [u.id],
    );
    return {
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role,
      tenantId: u.tenantId,
      status: u.status,
      factors: rows.map((r) => r.type as UserRow['factors'][number]),
      ...(u.lastSignInAt ? { lastSignInAt: new Date(u.lastSignInAt).toISOString() } : {}),
    };
  };

  /** A user the principal may manage: in a reachable tenant, never an administrator unless admin. */
  const managedUser = async (req: FastifyRequest, p: Principal, id: string) => {
    const target = await userById(ctx, id);
    if (!target) return fail(404, 'not_found', 'not found');
    await requireTenant(ctx, req, p.user, target.tenantId);
    if (!GRANTABLE[p.user.role].includes(target.role) && p.user.role !== 'administrator')
      return fail(403, 'forbidden', 'you may not manage this user');
    return target;
  };

  app.get<{ Querystring: { tenantId?: string } }>('/api/users', async (req) => {
    const p = await authorize(ctx, req, 'users.read');
    const tenantId = typeof req.query.tenantId === 'string' ? req.query.tenantId : undefined;
    let rows: Record<string, unknown>[];
    if (tenantId) {
      await requireTenant(ctx, req, p.user, tenantId);
      rows = (
        await ctx.db.query('SELECT * FROM portal_users WHERE tenant_id = $1 ORDER BY email', [
          tenantId,
        ])
      ).rows;
    } else if (ROLE_SCOPE[p.user.role] === 'all') {
      rows = (await ctx.db.query('SELECT * FROM portal_users ORDER BY email')).rows;
    } else {
      rows = (
        await ctx.db.query('SELECT * FROM portal_users WHERE tenant_id = $1 ORDER BY email', [
          p.user.tenantId,
        ])
      ).rows;
    }
    return { users: await Promise.all(rows.map((r) => userRow(toUser(r)))) };
  });

  app.post('/api/invitations', async (req) => {
    const body = parse(inviteBody, req.body);
    const p = await authorize(ctx, req, 'users.invite');
    const tenantId = body.tenantId ?? p.user.tenantId;
    const tenant = await requireTenant(ctx, req, p.user, tenantId);
    if (!GRANTABLE[p.user.role].includes(body.role)) {
      await record(ctx, req, {
        tenant: p.user.tenantId,
        actor: { type: 'user', id: p.user.id },
        action: 'user.invite',
        outcome: 'denied',
        reason: `may not grant ${body.role}`,
      });
      return fail(403, 'forbidden', 'you may not grant that role');
    }
    if (
      (body.role === 'administrator') !== (tenant.kind === 'operator') ||
      (body.role === 'partner') !== (tenant.kind === 'partner')
    )
      return fail(400, 'bad_request', 'that role does not fit the tenant');
    const token = randomBytes(32).toString('base64url');
    const id = `inv_${randomBytes(9).toString('base64url')}`;
    const expiresAt = ctx.now() + INVITATION_TTL_MS;
    await ctx.db.query(
      `INSERT INTO portal_invitations (id, token_hash, tenant_id, email, role, invited_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, sha256(token), tenantId, body.email, body.role, p.user.id, expiresAt],
    );
    const link = `${ctx.origin()}/invite/${token}`;
    await ctx.mail.send({
      to: body.email,
      subject: `Einladung zum Fluxel-Portal / Invitation to the Fluxel portal (${tenant.name})`,
      text: `${p.user.name} lädt Sie in das Fluxel-Portal ein (${tenant.name}, Rolle ${body.role}).\n${p.user.name} invites you to the Fluxel portal (${tenant.name}, role ${body.role}).\n\n${link}\n\nGültig 7 Tage / valid for 7 days.`,
    });
    await audit(req, p, 'user.invited', {
      tenant: tenantId,
      target: { type: 'invitation', id },
      data: { role: body.role },
    });
    return { id, expiresAt: new Date(expiresAt).toISOString() };
  });

  app.patch<{ Params: { id: string } }>('/api/users/:id', async (req) => {
    const body = parse(updateUserBody, req.body);
    const p = await authorize(ctx, req, 'users.manage');
    const target = await managedUser(req, p, req.params.id);
    if (target.id === p.user.id)
      return fail(409, 'conflict', 'you cannot change your own role or status');
    if (body.role !== undefined) {
      if (!GRANTABLE[p.user.role].includes(body.role)) {
        await record(ctx, req, {
          tenant: p.user.tenantId,
          actor: { type: 'user', id: p.user.id },
          action: 'user.role.changed',
          outcome: 'denied',
          target: { type: 'user', id: target.id },
          reason: `may not grant ${body.role}`,
        });
        return fail(403, 'forbidden', 'you may not grant that role');
      }
      // The role must fit the user's tenant (the same rule as invitations and rights requests).
      const tenant = await tenantById(ctx, target.tenantId);
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
        await audit(
          req,
          p,
          body.role === 'administrator' ? 'admin.role.granted' : 'user.role.changed',
          {
            tenant: target.tenantId,
            target: { type: 'user', id: target.id },
            data: { from: changed.from, to: body.role },
          },
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
        await audit(req, p, body.status === 'disabled' ? 'user.disabled' : 'user.enabled', {
          tenant: target.tenantId,
          target: { type: 'user', id: target.id },
          data: { sessionsEnded: ended },
        });
    }
    return userRow((await userById(ctx, target.id)) as UserRecord);
  });

  app.post<{ Params: { id: string } }>('/api/users/:id/sessions/revoke', async (req) => {
    const p = await authorize(ctx, req, 'users.manage');
    const target = await managedUser(req, p, req.params.id);
    const ended = await ctx.sessions.revokeAll(target.id);
    await audit(req, p, 'user.sessions.ended', {
      tenant: target.tenantId,
      target: { type: 'user', id: target.id },
      data: { ended },
    });
    return { ended };
  });

  // ------------------------------------------------------------ licenses

  const tenantNames = async () => {
    const { rows } = await ctx.db.query('SELECT id, name FROM portal_tenants');
    return new Map(rows.map((r) => [String(r.id), String(r.name)]));
  };

  const licenseRow = (l: LicenseRecord, p: Principal, names: Map<string, string>): LicenseRow => ({
    id: l.id,
    tenantId: l.tenant,
    tenantName: names.get(l.tenant) ?? l.tenant,
    product: l.product,
    entitlements: l.entitlements,
    status: l.status,
    activated: l.status === 'active' || l.activatedAt !== undefined,
    createdAt: l.createdAt,
    ...(l.lockedReason ? { lockedReason: l.lockedReason } : {}),
    // Field-level rule: the device key's thumbprint only for those who manage devices.
    ...(l.deviceJkt && can(p.user.role, 'device.read') ? { deviceJkt: l.deviceJkt } : {}),
    ...(l.activatedAt ? { activatedAt: l.activatedAt } : {}),
    ...(l.lastSeenAt ? { lastSeenAt: l.lastSeenAt } : {}),
    ...(l.expiresAt ? { expiresAt: l.expiresAt } : {}),
  });

  /** A license in the principal's scope, else 404. */
  const scopedLicense = async (req: FastifyRequest, p: Principal, id: string) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(id)) return fail(404, 'not_found', 'not found');
    const license = await viaRelay(() => ctx.relay.get(id));
    await requireTenant(ctx, req, p.user, license.tenant);
    return license;
  };

  app.get<{ Querystring: { tenantId?: string } }>('/api/licenses', async (req) => {
    const p = await authorize(ctx, req, 'license.read');
    const names = await tenantNames();
    const tenantId = typeof req.query.tenantId === 'string' ? req.query.tenantId : undefined;
    let licenses: LicenseRecord[];
    if (tenantId) {
      await requireTenant(ctx, req, p.user, tenantId);
      licenses = await viaRelay(() => ctx.relay.list(tenantId));
    } else if (ROLE_SCOPE[p.user.role] === 'all') {
      licenses = await viaRelay(() => ctx.relay.list());
    } else {
      licenses = [];
      for (const t of await reachableTenants(ctx, p.user))
        licenses.push(...(await viaRelay(() => ctx.relay.list(t.id))));
    }
    return { licenses: licenses.map((l) => licenseRow(l, p, names)) };
  });

  app.get<{ Params: { id: string } }>('/api/licenses/:id', async (req) => {
    const p = await authorize(ctx, req, 'license.read');
    const license = await scopedLicense(req, p, req.params.id);
    return { license: licenseRow(license, p, await tenantNames()) };
  });

  app.post('/api/licenses', async (req) => {
    const body = parse(createLicenseBody, req.body);
    const p = await authorize(ctx, req, 'license.create');
    const tenant = await requireTenant(ctx, req, p.user, body.tenantId);
    if (tenant.kind !== 'customer') return fail(400, 'bad_request', 'licenses are for customers');
    const created = await viaRelay(() =>
      ctx.relay.create({
        tenant: tenant.id,
        product: body.product,
        entitlements: body.entitlements,
        ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
      }),
    );
    await audit(req, p, 'license.created', {
      tenant: tenant.id,
      target: { type: 'license', id: created.license.id },
      data: { product: body.product },
    });
    return {
      license: licenseRow(created.license, p, await tenantNames()),
      licenseKey: created.licenseKey,
    };
  });

  app.post<{ Params: { id: string } }>('/api/licenses/:id/lock', async (req) => {
    const body = parse(lockBody, req.body);
    const p = await authorize(ctx, req, 'license.lock');
    const license = await scopedLicense(req, p, req.params.id);
    const locked = await viaRelay(() => ctx.relay.lock(license.id, body.reason));
    await audit(req, p, 'license.locked', {
      tenant: license.tenant,
      target: { type: 'license', id: license.id },
      data: { reason: body.reason },
    });
    void licenseLockChanged(ctx, locked, 'locked');
    return licenseRow(locked, p, await tenantNames());
  });

  app.post<{ Params: { id: string } }>('/api/licenses/:id/unlock', async (req) => {
    const p = await authorize(ctx, req, 'license.lock');
    const license = await scopedLicense(req, p, req.params.id);
    const unlocked = await viaRelay(() => ctx.relay.unlock(license.id));
    await audit(req, p, 'license.unlocked', {
      tenant: license.tenant,
      target: { type: 'license', id: license.id },
    });
    void licenseLockChanged(ctx, unlocked, 'unlocked');
    return licenseRow(unlocked, p, await tenantNames());
  });

  app.post<{ Params: { id: string } }>('/api/licenses/:id/rebind', async (req) => {
    const p = await authorize(ctx, req, 'license.rebind');
    const license = await scopedLicense(req, p, req.params.id);
    const result = await viaRelay(() => ctx.relay.rebind(license.id));
    await audit(req, p, 'license.rebind.issued', {
      tenant: license.tenant,
      target: { type: 'license', id: license.id },
    });
    return result;
  });

  // ------------------------------------------------------------ credentials (values only go in)

  app.get<{ Params: { id: string } }>('/api/licenses/:id/connections', async (req) => {
    const p = await authorize(ctx, req, 'credentials.read');
    const license = await scopedLicense(req, p, req.params.id);
    const connections = await viaRelay(() => ctx.relay.connections(license.id));
    const out: ConnectionRow[] = [];
    for (const c of connections) {
      const by = c.setBy === 'device' ? undefined : await userById(ctx, c.setBy);
      out.push({
        connection: c.connection,
        kind: c.kind,
        fieldNames: c.fieldNames,
        setAt: c.setAt,
        setBy: c.setBy === 'device' ? 'device' : (by?.name ?? 'portal user'),
        hookUrl: c.hookUrl ?? null,
      });
    }
    return { connections: out };
  });

  app.put<{ Params: { id: string; connection: string } }>(
    '/api/licenses/:id/connections/:connection/credentials',
    async (req, reply) => {
      const body = parse(credentialsBody, req.body);
      const p = await authorize(ctx, req, 'credentials.write');
      if (!CONNECTION_PATTERN.test(req.params.connection))
        return fail(400, 'bad_request', 'invalid connection name');
      const license = await scopedLicense(req, p, req.params.id);
      if (license.status !== 'active') {
        await record(ctx, req, {
          tenant: license.tenant,
          actor: { type: 'user', id: p.user.id },
          action: 'credentials.set',
          outcome: 'denied',
          target: { type: 'license', id: license.id },
          reason: 'license not activated',
        });
        return fail(
          409,
          'license_not_active',
          'credentials can be stored once the license is activated',
        );
      }
      await viaRelay(() =>
        ctx.relay.putCredentials(license.id, req.params.connection, {
          tenant: license.tenant,
          kind: body.kind,
          fields: body.fields,
          actor: { id: p.user.id, name: p.user.name },
        }),
      );
      await audit(req, p, 'credentials.set', {
        tenant: license.tenant,
        target: { type: 'license', id: license.id },
        data: {
          connection: req.params.connection,
          kind: body.kind,
          fields: Object.keys(body.fields),
        },
      });
      return reply.code(204).send();
    },
  );

  // ------------------------------------------------------------ audit log and alerts

  /**
   * The tenants an audit query covers. A chosen tenant must be reachable (`requireTenant`: 404
   * otherwise). "All tenants" is the rule of the license and user lists: a role whose scope is
   * `all` (the Fluxel administrator) sees every tenant, so no tenant filter; anyone else the
   * tenants `reachableTenants` gives them (a key user: their own; a partner: its assigned
   * customers). `people` bounds whose names and e-mails the rows show (the same rule).
   */
  const auditScope = async (req: FastifyRequest, p: Principal, tenantId: string | undefined) => {
    const all = ROLE_SCOPE[p.user.role] === 'all';
    const visible = all ? [] : (await reachableTenants(ctx, p.user)).map((t) => t.id);
    const people: readonly string[] | 'all' = all ? 'all' : visible;
    if (tenantId) return { tenant: (await requireTenant(ctx, req, p.user, tenantId)).id, people };
    return all ? { allTenants: true, people } : { tenants: visible, people };
  };

  const runAuditQuery = (
    scope: Awaited<ReturnType<typeof auditScope>>,
    q: ReturnType<typeof auditQuery.parse>,
    page: { limit: number; before?: number; count: boolean },
  ) =>
    auditQueryFn({
      ...scope,
      ...(q.actor ? { actor: q.actor } : {}),
      ...(q.action ? { actionPrefix: q.action } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
      ...(q.from ? { from: q.from } : {}),
      ...(q.to ? { to: q.to } : {}),
      ...(page.before ? { beforeSeq: page.before } : {}),
      limit: page.limit,
      count: page.count,
    });

  app.get('/api/audit', async (req) => {
    const p = await authorize(ctx, req, 'audit.read');
    const q = parse(auditQuery, req.query);
    // The count belongs to the first page; the following pages only continue it.
    return runAuditQuery(await auditScope(req, p, q.tenantId), q, {
      limit: Math.min(q.limit ?? 100, 500),
      ...(q.before ? { before: q.before } : {}),
      count: !q.before,
    });
  });

  app.get('/api/audit.csv', async (req, reply) => {
    const p = await authorize(ctx, req, 'audit.read');
    // The same filters and tenant scope as the page, all pages (at most 50 × 500 rows).
    const q = parse(auditQuery, req.query);
    const scope = await auditScope(req, p, q.tenantId);
    const rows: AuditViewRow[] = [];
    let before: number | undefined = q.before;
    for (let i = 0; i < 50; i++) {
      const page = await runAuditQuery(scope, q, {
        limit: 500,
        ...(before ? { before } : {}),
        count: false,
      });
      rows.push(...page.events);
      if (!page.nextBefore) break;
      before = page.nextBefore;
    }
    await audit(req, p, 'audit.exported', { data: { rows: rows.length } });
    const cell = (v: unknown) => {
      let s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
      // Spreadsheet formula injection: a leading = + - @ is neutralised.
      if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
      return `"${s.replace(/"/g, '""')}"`;
    };
    const lines = [
      'seq,time,tenant,action,outcome,actor_type,actor_id,actor_ip,target_type,target_id,details,actor_name,actor_email',
    ];
    for (const e of rows)
      lines.push(
        [
          e.seq,
          e.time,
          e.tenant,
          e.action,
          e.outcome,
          e.actor.type,
          e.actor.id,
          e.actor.ip,
          e.target?.type,
          e.target?.id,
          e.details,
          e.actor.name,
          e.actor.email,
        ]
          .map(cell)
          .join(','),
      );
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="fluxel-audit.csv"')
      .send(`${lines.join('\r\n')}\r\n`);
  });

  // The chain spans every tenant's events (and its size tells how many there are), so only a
  // role that sees all tenants may verify it.
  app.post('/api/audit/verify', async (req) => {
    const p = await authorize(ctx, req, 'audit.read');
    if (ROLE_SCOPE[p.user.role] !== 'all')
      return fail(403, 'forbidden', 'only administrators verify the whole audit chain');
    const result = await verifyPortalAudit(ctx.audit);
    await record(ctx, req, {
      tenant: p.user.tenantId,
      actor: { type: 'user', id: p.user.id },
      action: 'audit.verified',
      outcome: result.ok ? 'success' : 'failure',
      data: {
        events: result.events,
        findings: result.findingsTotal,
        ...(result.findings[0]?.seq !== undefined ? { firstBadSeq: result.findings[0].seq } : {}),
      },
    });
    return result;
  });

  app.get<{ Querystring: { tenantId?: string } }>('/api/alerts', async (req) => {
    const p = await authorize(ctx, req, 'alerts.read');
    const tenants = await reachableTenants(ctx, p.user);
    const alerts: AuditRow[] = [];
    for (const t of tenants) {
      const page = await auditQueryFn({ tenant: t.id, action: 'alert.*', limit: 200 });
      alerts.push(...page.events);
    }
    alerts.sort((a, b) => (a.time < b.time ? 1 : -1));
    return { alerts: alerts.slice(0, 500) };
  });
}
