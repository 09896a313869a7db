/**
 * The audit viewer's SQL over the portal's audit table (`portal_audit`, written by
 * `@fluxel/audit`'s SqlStore): the store's filters plus a set of tenants, actors by e-mail or
 * name, action prefixes and a count.
 */

import type { AuditEvent } from '@fluxel/audit';
import { parseRecordLine } from '@fluxel/audit';
import type { Database } from '../../server/db.ts';
import { AUDIT_COUNT_CAP, type AuditViewPage, type AuditViewRow } from './contract.ts';

export const AUDIT_TABLE = 'portal_audit';
export const AUDIT_STREAM = 'portal';

/**
 * A query of the portal's audit log. The tenants it covers are exactly one of `tenant` (one
 * tenant), `tenants` (a set; an empty set matches nothing) or `allTenants` (no tenant filter:
 * only for a role that sees every tenant); a query with none of them is refused, so a forgotten
 * scope can never list everything.
 */
export interface AuditStoreQuery {
  readonly tenant?: string;
  readonly tenants?: readonly string[];
  readonly allTenants?: boolean;
  /** The actor's id, exactly. */
  readonly actorId?: string;
  /**
   * What a person types into the viewer's actor field: the actor's id (exact), or part of a
   * user's e-mail or display name (case-insensitive), among the users `people` allows.
   */
  readonly actor?: string;
  /** An action exactly, or a prefix written `auth.*`. */
  readonly action?: string;
  /** The start of an action (`license` finds `license.created`, …); a trailing `*` is ignored. */
  readonly actionPrefix?: string;
  readonly outcome?: 'success' | 'failure' | 'denied';
  readonly from?: string;
  readonly to?: string;
  readonly beforeSeq?: number;
  readonly limit?: number;
  /**
   * Whose names and e-mails may be shown and matched: the users of these tenants, or `all`.
   * Without it, actors are shown and matched by id only.
   */
  readonly people?: readonly string[] | 'all';
  /** Also count all matching events (up to `AUDIT_COUNT_CAP`). */
  readonly count?: boolean;
}

/** `value` as a literal inside a LIKE pattern (the escape character is a backslash). */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

/** The WHERE clause of a query (on `a`, the audit table), without paging. */
function filterSql(q: AuditStoreQuery, params: unknown[]): string[] {
  const add = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = [`a.stream = ${add(AUDIT_STREAM)}`, "a.kind = 'e'"];
  const scopes = [q.tenant !== undefined, q.tenants !== undefined, q.allTenants === true];
  if (scopes.filter(Boolean).length !== 1)
    throw new Error('an audit query needs exactly one of tenant, tenants, allTenants');
  if (q.tenant !== undefined) where.push(`a.tenant = ${add(q.tenant)}`);
  if (q.tenants !== undefined) where.push(`a.tenant = ANY(${add([...q.tenants])}::text[])`);
  if (q.actorId !== undefined) where.push(`a.actor_id = ${add(q.actorId)}`);
  if (q.actor !== undefined) {
    const id = `a.actor_id = ${add(q.actor)}`;
    const people = peopleSql('p', q.people, add);
    if (people === 'FALSE') where.push(id);
    else {
      const part = add(`%${likeLiteral(q.actor)}%`);
      where.push(`(${id} OR (a.actor_type = 'user' AND a.actor_id IN (
        SELECT p.id FROM portal_users p
        WHERE (lower(p.email) LIKE lower(${part}) ESCAPE '\\' OR lower(p.name) LIKE lower(${part}) ESCAPE '\\')
          AND ${people})))`);
    }
  }
  if (q.action !== undefined) {
    if (q.action.endsWith('.*'))
      where.push(`a.action LIKE ${add(`${likeLiteral(q.action.slice(0, -1))}%`)} ESCAPE '\\'`);
    else where.push(`a.action = ${add(q.action)}`);
  }
  if (q.actionPrefix !== undefined) {
    const prefix = q.actionPrefix.endsWith('*') ? q.actionPrefix.slice(0, -1) : q.actionPrefix;
    where.push(`a.action LIKE ${add(`${likeLiteral(prefix)}%`)} ESCAPE '\\'`);
  }
  if (q.outcome !== undefined) where.push(`a.outcome = ${add(q.outcome)}`);
  if (q.from !== undefined)
    where.push(`a.time >= ${add(new Date(q.from).toISOString())}::timestamptz`);
  if (q.to !== undefined) where.push(`a.time < ${add(new Date(q.to).toISOString())}::timestamptz`);
  return where;
}

/** The condition on a users row `alias` for `people` (a SQL boolean). */
function peopleSql(
  alias: string,
  people: AuditStoreQuery['people'],
  add: (value: unknown) => string,
): string {
  if (people === 'all') return 'TRUE';
  if (!people || people.length === 0) return 'FALSE';
  return `${alias}.tenant_id = ANY(${add([...people])}::text[])`;
}

/** The viewer's query: one page, newest first, and (when asked) the count of all matches. */
export async function queryAudit(
  db: Database,
  q: AuditStoreQuery,
): Promise<AuditViewPage & { events: AuditViewRow[] }> {
  const params: unknown[] = [];
  const where = filterSql(q, params);
  let total: { total: number; totalCapped: boolean } | undefined;
  if (q.count) {
    const counted = await db.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${AUDIT_TABLE} a WHERE ${where.join(' AND ')} LIMIT ${AUDIT_COUNT_CAP + 1}) m`,
      params,
    );
    const n = Number(counted.rows[0]?.n ?? 0);
    total = { total: Math.min(n, AUDIT_COUNT_CAP), totalCapped: n > AUDIT_COUNT_CAP };
  }
  const pageParams = [...params];
  const add = (value: unknown) => {
    pageParams.push(value);
    return `$${pageParams.length}`;
  };
  const pageWhere = [...where];
  if (q.beforeSeq !== undefined) pageWhere.push(`a.seq < ${add(q.beforeSeq)}`);
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 100), 1), 1000);
  // Names and e-mails only of users the viewer may see; everyone else stays an id.
  const { rows } = await db.query(
    `SELECT a.seq, a.line, u.name AS actor_name, u.email AS actor_email
     FROM ${AUDIT_TABLE} a
     LEFT JOIN portal_users u
       ON a.actor_type = 'user' AND u.id = a.actor_id AND ${peopleSql('u', q.people, add)}
     WHERE ${pageWhere.join(' AND ')}
     ORDER BY a.seq DESC LIMIT ${limit + 1}`,
    pageParams,
  );
  const page = rows.slice(0, limit);
  const events = page.map((row) => {
    const parsed = parseRecordLine(String(row.line));
    if (!parsed?.e) throw new Error(`audit record ${String(row.seq)} is damaged`);
    return toRow(Number(row.seq), parsed.e, row.actor_name, row.actor_email);
  });
  const last = events.at(-1);
  return {
    events,
    ...(rows.length > limit && last ? { nextBefore: last.seq } : {}),
    ...(total ?? {}),
  };
}

function toRow(seq: number, e: AuditEvent, name: unknown, email: unknown): AuditViewRow {
  return {
    seq,
    id: e.id,
    time: e.time,
    action: e.action,
    outcome: e.outcome,
    actor: {
      type: e.actor.type,
      id: e.actor.id,
      ...(e.actor.ip ? { ip: e.actor.ip } : {}),
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof email === 'string' ? { email } : {}),
    },
    ...(e.target ? { target: { type: e.target.type, id: e.target.id } } : {}),
    tenant: e.tenant,
    ...(e.data || e.reason
      ? { details: { ...(e.reason ? { reason: e.reason } : {}), ...(e.data ?? {}) } }
      : {}),
  };
}
