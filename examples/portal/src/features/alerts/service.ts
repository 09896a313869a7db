/**
 * The alerts inbox's use cases: alerts arrive from the portal's own rules (a hook of the audit
 * log's alert engine) and from the relay (its alert hook posting a signed webhook, see
 * `relayAlert`); people list them in words, acknowledge and resolve them — each transition
 * audited (`alert.acknowledged`, `alert.resolved`) and decided on the row (409 when another
 * person was first).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '@fluxel/audit';
import type { FastifyRequest } from 'fastify';
import { type Context, type Principal, record, requireTenant } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { ROLE_SCOPE } from '../../shared/permissions.ts';
import { reachableTenants, tenantById } from '../tenants/store.ts';
import { userById } from '../users/store.ts';
import {
  ALERT_SEVERITIES,
  type AlertRow,
  type AlertSeverity,
  type AlertSubject,
} from './contract.ts';
import {
  type AlertInput,
  type AlertRecord,
  acknowledgeAlert,
  alertById,
  countOpen,
  listAlerts,
  resolveAlert,
  upsertAlert,
} from './store.ts';

/** A relay webhook older (or newer) than this is refused: a captured one cannot be replayed later. */
const RELAY_TOLERANCE_MS = 5 * 60_000;

const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The inbox row of an `alert.<rule>` audit event (as `@fluxel/audit`'s `alertEvent` writes it). */
function alertInput(
  event: AuditEvent,
  source: 'portal' | 'relay',
  subjectLabel?: string,
): AlertInput | undefined {
  if (!event.action.startsWith('alert.') || typeof event.tenant !== 'string') return undefined;
  const data = (event.data ?? {}) as { severity?: unknown; details?: unknown };
  const severity = (ALERT_SEVERITIES as readonly string[]).includes(String(data.severity))
    ? (data.severity as AlertSeverity)
    : 'high';
  const raw = (data.details && typeof data.details === 'object' ? data.details : {}) as Record<
    string,
    unknown
  >;
  // Only the counts: the rule's summary names the raw subject (and, at the relay, an IP).
  const details: Record<string, number> = {};
  for (const key of ['failures', 'accounts', 'windowMs'] as const) {
    // eslint-disable-next-line security/detect-object-injection -- key from the constant list above
    const value = number(raw[key]);
    // eslint-disable-next-line security/detect-object-injection -- key from the constant list above
    if (value !== undefined) details[key] = value;
  }
  const time = Date.parse(event.time);
  return {
    source,
    kind: event.action.slice('alert.'.length).slice(0, 60),
    severity,
    tenantId: event.tenant,
    subjectType: (event.target?.type ?? 'other').slice(0, 40),
    subjectId: (event.target?.id ?? '-').slice(0, 200),
    ...(subjectLabel ? { subjectLabel } : {}),
    details,
    time: Number.isFinite(time) ? time : Date.now(),
    eventId: event.id,
  };
}

/** The portal's own rules: each alert, once in the log, opens or counts up an inbox row. */
export async function raisePortalAlert(ctx: Context, event: AuditEvent): Promise<void> {
  const input = alertInput(event, 'portal');
  if (input) await upsertAlert(ctx.db, input);
}

/**
 * An alert the relay posted (its `alerts.hooks` with `@fluxel/audit`'s `webhookHook`): the
 * `X-Fluxel-Signature` HMAC over `<timestamp>.<body>` under the shared secret, a timestamp
 * within 5 minutes, then the alert — only for tenants the portal knows (the relay may serve
 * others). A license is named by its product, asked from the relay now.
 */
export async function relayAlert(
  ctx: Context,
  secret: string,
  headers: FastifyRequest['headers'],
  body: string,
): Promise<void> {
  const ts = String(headers['x-fluxel-timestamp'] ?? '');
  const signature = String(headers['x-fluxel-signature'] ?? '');
  const expected = `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  if (!/^\d{1,12}$/.test(ts) || a.length !== b.length || !timingSafeEqual(a, b))
    return fail(401, 'unauthenticated', 'wrong or missing signature');
  // The relay signs with its wall clock, so the window is judged by the wall clock too.
  if (Math.abs(Date.now() - Number(ts) * 1000) > RELAY_TOLERANCE_MS)
    return fail(401, 'unauthenticated', 'the signature has expired');
  let event: AuditEvent;
  try {
    event = JSON.parse(body) as AuditEvent;
  } catch {
    return fail(400, 'bad_request', 'the alert is not JSON');
  }
  if (
    typeof event?.id !== 'string' ||
    typeof event.action !== 'string' ||
    typeof event.tenant !== 'string' ||
    typeof event.time !== 'string'
  )
    return fail(400, 'bad_request', 'not an alert event');
  if (!(await tenantById(ctx.db, event.tenant))) return;
  let product: string | undefined;
  if (event.target?.type === 'license')
    product = await ctx.relay.get(event.target.id).then(
      (l) => l.product,
      () => undefined,
    );
  const input = alertInput(event, 'relay', product);
  if (input) await upsertAlert(ctx.db, input);
}

/** The tenants a principal's inbox covers. */
async function scopeOf(ctx: Context, p: Principal): Promise<readonly string[] | 'all'> {
  if (ROLE_SCOPE[p.user.role] === 'all') return 'all';
  return (await reachableTenants(ctx.db, p.user)).map((t) => t.id);
}

async function person(ctx: Context, userId: string | undefined) {
  if (!userId) return undefined;
  const u = await userById(ctx.db, userId);
  return u ? { name: u.name, email: u.email } : undefined;
}

/** Who or what the alert is about, in words (looked up now: names change, erasure erases). */
async function subjectOf(ctx: Context, a: AlertRecord): Promise<AlertSubject> {
  const user = async (userId: string): Promise<AlertSubject> => {
    const found = userId.startsWith('unknown:') ? undefined : await person(ctx, userId);
    return found ? { kind: 'user', ...found } : { kind: 'unknown-account' };
  };
  switch (a.subjectType) {
    case 'account':
      // The login rules group by `<tenant>/<actor id>`.
      return user(a.subjectId.slice(a.subjectId.indexOf('/') + 1));
    case 'user':
    case 'actor':
      return user(a.subjectId);
    case 'ip':
      return { kind: 'ip', pseudonym: a.subjectId };
    case 'license':
      return {
        kind: 'license',
        ...(a.subjectLabel ? { product: a.subjectLabel } : {}),
        licenseRef: a.subjectId.slice(-6),
      };
    default:
      return { kind: 'other' };
  }
}

async function toRow(ctx: Context, a: AlertRecord, names: Map<string, string>): Promise<AlertRow> {
  const acknowledgedBy = await person(ctx, a.acknowledgedBy);
  const resolvedBy = await person(ctx, a.resolvedBy);
  return {
    id: a.id,
    source: a.source,
    kind: a.kind,
    severity: a.severity,
    state: a.state,
    tenantId: a.tenantId,
    tenantName: names.get(a.tenantId) ?? a.tenantId,
    subject: await subjectOf(ctx, a),
    count: a.count,
    firstSeen: new Date(a.firstSeen).toISOString(),
    lastSeen: new Date(a.lastSeen).toISOString(),
    details: {
      ...(typeof a.details.failures === 'number' ? { failures: a.details.failures } : {}),
      ...(typeof a.details.accounts === 'number' ? { accounts: a.details.accounts } : {}),
      ...(typeof a.details.windowMs === 'number' ? { windowMs: a.details.windowMs } : {}),
    },
    ...(a.acknowledgedAt !== undefined
      ? {
          acknowledged: {
            at: new Date(a.acknowledgedAt).toISOString(),
            ...(acknowledgedBy ? { by: acknowledgedBy } : {}),
          },
        }
      : {}),
    ...(a.resolvedAt !== undefined
      ? {
          resolved: {
            at: new Date(a.resolvedAt).toISOString(),
            ...(resolvedBy ? { by: resolvedBy } : {}),
          },
        }
      : {}),
  };
}

async function tenantNames(ctx: Context, p: Principal): Promise<Map<string, string>> {
  return new Map((await reachableTenants(ctx.db, p.user)).map((t) => [t.id, t.name]));
}

/** The inbox of the tenants the principal reaches. */
export async function inbox(
  ctx: Context,
  p: Principal,
  state: 'active' | 'resolved' | 'all',
): Promise<{ alerts: AlertRow[] }> {
  const records = await listAlerts(ctx.db, await scopeOf(ctx, p), state);
  const names = await tenantNames(ctx, p);
  return { alerts: await Promise.all(records.map((a) => toRow(ctx, a, names))) };
}

/** For the navigation and the dashboard: open alerts (not yet acknowledged). */
export async function summary(
  ctx: Context,
  p: Principal,
): Promise<{ open: number; critical: number }> {
  return countOpen(ctx.db, await scopeOf(ctx, p));
}

/** An alert in the principal's scope; else 404, exactly like one that does not exist. */
async function scopedAlert(ctx: Context, req: FastifyRequest, p: Principal, id: string) {
  const alert = /^alr_[A-Za-z0-9_-]{1,40}$/.test(id) ? await alertById(ctx.db, id) : undefined;
  if (!alert) return fail(404, 'not_found', 'not found');
  await requireTenant(ctx, req, p.user, alert.tenantId);
  return alert;
}

async function transition(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  to: 'acknowledged' | 'resolved',
): Promise<{ alert: AlertRow }> {
  const alert = await scopedAlert(ctx, req, p, id);
  const change = to === 'acknowledged' ? acknowledgeAlert : resolveAlert;
  const changed = await change(ctx.db, alert.id, p.user.id, ctx.now());
  if (!changed)
    return fail(
      409,
      'conflict',
      `the alert is ${to === 'acknowledged' ? 'no longer open' : 'resolved already'}`,
      {
        detail: 'someone else changed it meanwhile; reload the list',
      },
    );
  await record(ctx, req, {
    tenant: changed.tenantId,
    actor: { type: 'user', id: p.user.id },
    action: `alert.${to}`,
    outcome: 'success',
    target: { type: 'alert', id: changed.id },
    data: { kind: changed.kind, severity: changed.severity, count: changed.count },
  });
  return { alert: await toRow(ctx, changed, await tenantNames(ctx, p)) };
}

export const acknowledge = (ctx: Context, req: FastifyRequest, p: Principal, id: string) =>
  transition(ctx, req, p, id, 'acknowledged');

export const resolve = (ctx: Context, req: FastifyRequest, p: Principal, id: string) =>
  transition(ctx, req, p, id, 'resolved');
