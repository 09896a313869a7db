/**
 * The alerts inbox in `portal_alerts` (migration 012). Every change is one statement whose
 * `WHERE` decides it on the newest row version: a repetition counts up on the partial unique
 * index over unresolved alerts (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`), a transition
 * happens only from the state it starts at (`UPDATE … WHERE state = … RETURNING`), so of two
 * acknowledgements at once exactly one changes the row and the other sees nothing returned.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../server/db.ts';
import { ALERT_SEVERITIES, type AlertSeverity, type AlertState } from './contract.ts';

/** What an alert says and is about: the same for a new occurrence and the stored alert. */
interface AlertSubject {
  readonly source: 'portal' | 'relay';
  readonly kind: string;
  readonly severity: AlertSeverity;
  readonly tenantId: string;
  readonly subjectType: string;
  readonly subjectId: string;
  /** What the subject is called where that is no personal data (a license's product). */
  readonly subjectLabel?: string;
  readonly details: Record<string, unknown>;
}

export interface AlertRecord extends AlertSubject {
  readonly id: string;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly state: AlertState;
  readonly acknowledgedBy?: string;
  readonly acknowledgedAt?: number;
  readonly resolvedBy?: string;
  readonly resolvedAt?: number;
}

/** One occurrence to record (a repetition of an unresolved alert counts it up). */
export interface AlertInput extends AlertSubject {
  readonly time: number;
  readonly eventId: string;
}

const optionalNumber = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
const optionalString = (v: unknown) => (v === null || v === undefined ? undefined : String(v));

function toAlert(r: Record<string, unknown>): AlertRecord {
  const details = typeof r.details === 'string' ? JSON.parse(r.details) : r.details;
  const acknowledgedBy = optionalString(r.acknowledged_by);
  const acknowledgedAt = optionalNumber(r.acknowledged_at);
  const resolvedBy = optionalString(r.resolved_by);
  const resolvedAt = optionalNumber(r.resolved_at);
  const subjectLabel = optionalString(r.subject_label);
  return {
    id: String(r.id),
    source: r.source === 'relay' ? 'relay' : 'portal',
    kind: String(r.kind),
    severity: (ALERT_SEVERITIES as readonly string[]).includes(String(r.severity))
      ? (r.severity as AlertSeverity)
      : 'high',
    tenantId: String(r.tenant_id),
    subjectType: String(r.subject_type),
    subjectId: String(r.subject_id),
    ...(subjectLabel !== undefined ? { subjectLabel } : {}),
    details: details && typeof details === 'object' ? (details as Record<string, unknown>) : {},
    count: Number(r.count),
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    state: r.state as AlertState,
    ...(acknowledgedBy !== undefined ? { acknowledgedBy } : {}),
    ...(acknowledgedAt !== undefined ? { acknowledgedAt } : {}),
    ...(resolvedBy !== undefined ? { resolvedBy } : {}),
    ...(resolvedAt !== undefined ? { resolvedAt } : {}),
  };
}

/** The higher of two severities, in SQL (`a` the stored row, `EXCLUDED` the new alert). */
const SEVERITY_RANK = `ARRAY['${ALERT_SEVERITIES.join("','")}']`;
const MAX_SEVERITY = `CASE WHEN array_position(${SEVERITY_RANK}, EXCLUDED.severity)
  > array_position(${SEVERITY_RANK}, a.severity) THEN EXCLUDED.severity ELSE a.severity END`;

/**
 * Opens an alert, or counts a repetition into the unresolved one of the same source, tenant,
 * kind and subject (atomically, on the partial unique index `portal_alerts_unresolved`). The
 * same alert event delivered twice (a retried hook, a replayed webhook) counts once:
 * undefined then.
 */
export async function upsertAlert(
  db: Database,
  input: AlertInput,
): Promise<AlertRecord | undefined> {
  const { rows } = await db.query(
    `INSERT INTO portal_alerts AS a (id, source, kind, severity, tenant_id, subject_type,
       subject_id, subject_label, details, count, first_seen, last_seen, last_event_id, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, 1, $10, $10, $11, 'open')
     ON CONFLICT (source, tenant_id, kind, subject_type, subject_id) WHERE state <> 'resolved'
     DO UPDATE SET
       count = a.count + 1,
       last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen),
       severity = ${MAX_SEVERITY},
       details = EXCLUDED.details,
       last_event_id = EXCLUDED.last_event_id,
       subject_label = COALESCE(EXCLUDED.subject_label, a.subject_label)
     WHERE a.last_event_id IS DISTINCT FROM EXCLUDED.last_event_id
     RETURNING *`,
    [
      `alr_${randomBytes(9).toString('base64url')}`,
      input.source,
      input.kind,
      input.severity,
      input.tenantId,
      input.subjectType,
      input.subjectId,
      input.subjectLabel ?? null,
      JSON.stringify(input.details),
      input.time,
      input.eventId,
    ],
  );
  return rows[0] ? toAlert(rows[0]) : undefined;
}

export async function alertById(db: Database, id: string): Promise<AlertRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_alerts WHERE id = $1', [id]);
  return rows[0] ? toAlert(rows[0]) : undefined;
}

/** Tenants: a set, or `all`. */
type Tenants = readonly string[] | 'all';

function tenantSql(tenants: Tenants, params: unknown[]): string {
  if (tenants === 'all') return 'TRUE';
  params.push([...tenants]);
  return `tenant_id = ANY($${params.length}::text[])`;
}

/** The alerts of these tenants: unresolved first, then the most severe, then the newest (≤ 500). */
export async function listAlerts(
  db: Database,
  tenants: Tenants,
  state: 'active' | 'resolved' | 'all',
): Promise<AlertRecord[]> {
  const params: unknown[] = [];
  const where = [tenantSql(tenants, params)];
  if (state === 'active') where.push("state <> 'resolved'");
  if (state === 'resolved') where.push("state = 'resolved'");
  const { rows } = await db.query(
    `SELECT * FROM portal_alerts WHERE ${where.join(' AND ')}
     ORDER BY (state = 'resolved'), array_position(${SEVERITY_RANK}, severity) DESC,
       last_seen DESC, id LIMIT 500`,
    params,
  );
  return rows.map(toAlert);
}

/** How many alerts of these tenants are open (not yet acknowledged), and how many critical. */
export async function countOpen(
  db: Database,
  tenants: Tenants,
): Promise<{ open: number; critical: number }> {
  const params: unknown[] = [];
  const { rows } = await db.query(
    `SELECT count(*)::int AS open, count(*) FILTER (WHERE severity = 'critical')::int AS critical
     FROM portal_alerts WHERE state = 'open' AND ${tenantSql(tenants, params)}`,
    params,
  );
  return { open: Number(rows[0]?.open ?? 0), critical: Number(rows[0]?.critical ?? 0) };
}

/** open → acknowledged; undefined when the alert was not open (any more). */
export async function acknowledgeAlert(
  db: Database,
  id: string,
  userId: string,
  now: number,
): Promise<AlertRecord | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_alerts SET state = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3
     WHERE id = $1 AND state = 'open' RETURNING *`,
    [id, userId, now],
  );
  return rows[0] ? toAlert(rows[0]) : undefined;
}

/** open or acknowledged → resolved; undefined when it was resolved already. */
export async function resolveAlert(
  db: Database,
  id: string,
  userId: string,
  now: number,
): Promise<AlertRecord | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_alerts SET state = 'resolved', resolved_by = $2, resolved_at = $3
     WHERE id = $1 AND state IN ('open', 'acknowledged') RETURNING *`,
    [id, userId, now],
  );
  return rows[0] ? toAlert(rows[0]) : undefined;
}
