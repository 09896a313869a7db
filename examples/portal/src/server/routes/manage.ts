/**
 * The audit log and alerts. Every route checks a permission from the role table, then scopes by
 * tenant on the server. (Tenants, users and licenses moved to src/features/.)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AuditRow, auditQuery } from '../../shared/api.ts';
import type { AuditViewPage, AuditViewRow } from '../../shared/audit-view.ts';
import { ROLE_SCOPE } from '../../shared/permissions.ts';
import { type AuditStoreQuery, verifyPortalAudit } from '../audit.ts';
import {
  authorize,
  type Context,
  type Principal,
  reachableTenants,
  record,
  requireTenant,
} from '../context.ts';
import { fail, parse } from '../http.ts';

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
