/**
 * The portal's audit log: `@fluxel/audit` over the portal's own database (SqlStore), Ed25519
 * signed checkpoints, and the alert rules (brute force, password spraying, admin role change)
 * evaluated on every committed event; each alert is also handed to `onAlert` (the alerts
 * inbox). And the viewer's use cases: the tenant scope of a query, the CSV export and the
 * verification of the chain.
 */
import {
  AlertEngine,
  type AuditEvent,
  AuditLog,
  adminRoleChange,
  bruteForce,
  type PrivacyTransform,
  passwordSpraying,
  type SigningKey,
  SqlStore,
  successAfterFailures,
} from '@fluxel/audit';
import type { FastifyRequest } from 'fastify';
import { type Context, type Principal, record, requireTenant } from '../../server/context.ts';
import type { Database } from '../../server/db.ts';
import { fail } from '../../server/http.ts';
import { ROLE_SCOPE } from '../../shared/permissions.ts';
import { reachableTenants } from '../tenants/store.ts';
import type {
  AuditFilters,
  AuditScope,
  AuditVerifyResult,
  AuditViewPage,
  AuditViewRow,
} from './contract.ts';
import { AUDIT_STREAM, AUDIT_TABLE, type AuditStoreQuery, queryAudit } from './store.ts';

export type { AuditStoreQuery } from './store.ts';

export interface PortalAudit {
  readonly log: AuditLog;
  readonly store: SqlStore;
  readonly alerts: AlertEngine;
  query(q: AuditStoreQuery): Promise<AuditViewPage & { events: AuditViewRow[] }>;
  close(): Promise<void>;
}

const LOGIN = { loginActions: ['auth.login', 'auth.second-factor'] };

export async function openPortalAudit(
  db: Database,
  signingKey: SigningKey,
  now: () => number,
  privacy?: PrivacyTransform,
  /** Told about each alert once it is in the log (the alerts inbox); retried by the engine. */
  onAlert?: (alert: AuditEvent) => Promise<void>,
): Promise<PortalAudit> {
  const store = new SqlStore(db, { table: AUDIT_TABLE, stream: AUDIT_STREAM });
  const log = await AuditLog.open({
    store,
    signingKey,
    now,
    checkpointIntervalMs: 0,
    ...(privacy ? { privacy } : {}),
  });
  const alerts = new AlertEngine({
    rules: [
      bruteForce({ ...LOGIN, by: 'account' }),
      bruteForce({ ...LOGIN, by: 'ip', threshold: 20 }),
      passwordSpraying({ ...LOGIN, accounts: 5 }),
      successAfterFailures(LOGIN),
      adminRoleChange({ actions: ['admin.role.granted', 'user.role.changed'] }),
    ],
    ...(onAlert ? { hooks: [onAlert] } : {}),
    // The alert is in the signed log either way; the inbox row is what failed.
    onHookError: (error, alert) =>
      console.error(`portal: alert ${alert.action} did not reach the inbox`, error),
    now,
  });
  const detach = alerts.attach(log);
  return {
    log,
    store,
    alerts,
    query: (q) => queryAudit(db, q),
    async close() {
      detach();
      await alerts.settled();
      await log.close();
    },
  };
}

/**
 * Verifies the whole log as stored (hash chain, checkpoint signatures; an unsigned tail is
 * fine, the log is live). The verifier trusts the key of the log's first checkpoint; it must be
 * the key this portal signs with and the log this portal writes, else a rewritten log signed
 * with another key would pass.
 */
export async function verifyPortalAudit(log: AuditLog): Promise<AuditVerifyResult> {
  const store = log.store;
  if (!(store instanceof SqlStore)) throw new Error('the portal audit log is not in its SQL store');
  const report = await store.verify({ live: true });
  const findings: AuditVerifyResult['findings'][number][] = report.findings.map((f) => ({
    code: f.code,
    ...(f.seq !== undefined ? { seq: f.seq } : {}),
    message: f.message,
  }));
  if (report.firstUseKey && report.firstUseKey.kid !== log.keyId)
    findings.unshift({
      code: 'foreign-key',
      message: `the log is signed with key ${report.firstUseKey.kid}, not the portal's key ${log.keyId}`,
    });
  if (report.logId !== undefined && report.logId !== log.id)
    findings.unshift({
      code: 'foreign-log',
      message: `the stored log is ${report.logId}, not the portal's log ${log.id}`,
    });
  return {
    ok: findings.length === 0,
    events: report.events,
    checkpoints: report.checkpoints,
    ...(report.lastSeq !== undefined ? { lastSeq: report.lastSeq } : {}),
    ...(report.firstUseKey ? { keyId: report.firstUseKey.kid } : {}),
    findings: findings.slice(0, 20),
    findingsTotal: findings.length,
  };
}

type Scope = Pick<AuditStoreQuery, 'tenant' | 'tenants' | 'allTenants' | 'people'>;

/**
 * The tenants an audit query covers. A chosen tenant must be reachable (`requireTenant`: 404
 * otherwise). "All tenants" is the rule of the license and user lists: a role whose scope is
 * `all` (the Fluxel administrator) sees every tenant, so no tenant filter; anyone else the
 * tenants `reachableTenants` gives them (a key user: their own; a partner: its assigned
 * customers). `people` bounds whose names and e-mails the rows show (the same rule).
 */
async function auditScope(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  tenantId: string | undefined,
): Promise<Scope> {
  const all = ROLE_SCOPE[p.user.role] === 'all';
  const visible = all ? [] : (await reachableTenants(ctx.db, p.user)).map((t) => t.id);
  const people: readonly string[] | 'all' = all ? 'all' : visible;
  if (tenantId) return { tenant: (await requireTenant(ctx, req, p.user, tenantId)).id, people };
  return all ? { allTenants: true, people } : { tenants: visible, people };
}

/** The tenants the principal's audit covers, by name. */
export async function auditTenants(ctx: Context, p: Principal): Promise<AuditScope> {
  return {
    allTenants: ROLE_SCOPE[p.user.role] === 'all',
    tenants: (await reachableTenants(ctx.db, p.user)).map((t) => ({ id: t.id, name: t.name })),
  };
}

function runQuery(
  db: Database,
  scope: Scope,
  q: AuditFilters,
  page: { limit: number; before?: number; count: boolean },
) {
  return queryAudit(db, {
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
}

/** One page of the viewer; the count belongs to the first page, the following only continue it. */
export async function auditPage(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  q: AuditFilters,
): Promise<AuditViewPage> {
  return runQuery(ctx.db, await auditScope(ctx, req, p, q.tenantId), q, {
    limit: Math.min(q.limit ?? 100, 500),
    ...(q.before ? { before: q.before } : {}),
    count: !q.before,
  });
}

/** A CSV cell; a leading = + - @ is neutralised (spreadsheet formula injection). */
function cell(v: unknown): string {
  let s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** The same filters and tenant scope as the page, all pages (at most 50 × 500 rows); audited. */
export async function auditCsv(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  q: AuditFilters,
): Promise<string> {
  const scope = await auditScope(ctx, req, p, q.tenantId);
  const rows: AuditViewRow[] = [];
  let before: number | undefined = q.before;
  for (let i = 0; i < 50; i++) {
    const page = await runQuery(ctx.db, scope, q, {
      limit: 500,
      ...(before ? { before } : {}),
      count: false,
    });
    rows.push(...page.events);
    if (!page.nextBefore) break;
    before = page.nextBefore;
  }
  await record(ctx, req, {
    tenant: p.user.tenantId,
    actor: { type: 'user', id: p.user.id },
    action: 'audit.exported',
    outcome: 'success',
    data: { rows: rows.length },
  });
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
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The chain spans every tenant's events (and its size tells how many there are), so only a
 * role that sees all tenants may verify it. Audited with its outcome.
 */
export async function verifyAudit(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
): Promise<AuditVerifyResult> {
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
}
