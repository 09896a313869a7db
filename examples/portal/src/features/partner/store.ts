/**
 * The only SQL of the partner tables: API clients and their access tokens
 * (`portal_partner_clients`, `portal_partner_tokens`), webhook subscriptions, deliveries and
 * events (`portal_partner_subscriptions`, `…_deliveries`, `…_events`). Rows leave as the
 * contract's shapes (or a record the hub needs); rules live in the service and the hub.
 */
import type { Database } from '../../server/db.ts';
import {
  type ApiClientRow,
  type DeliveryRow,
  type DeliveryStatus,
  PARTNER_SCOPES,
  type PartnerEvent,
  type PartnerEventType,
  type PartnerScope,
  type SubscriptionRow,
} from './contract.ts';
import { deliveryError, sanitizeData } from './model.ts';

type Db = Pick<Database, 'query'>;

const iso = (v: unknown) => (v == null ? undefined : new Date(Number(v)).toISOString());

// ---------------------------------------------------------------- API clients and tokens

export const toScopes = (value: unknown): PartnerScope[] =>
  String(value ?? '')
    .split(' ')
    .filter((s): s is PartnerScope => (PARTNER_SCOPES as readonly string[]).includes(s));

function clientRow(r: Record<string, unknown>): ApiClientRow {
  const lastUsedAt = iso(r.last_used_at);
  const revokedAt = iso(r.revoked_at);
  return {
    clientId: String(r.id),
    tenantId: String(r.tenant_id),
    name: String(r.name),
    scopes: toScopes(r.scopes),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    ...(lastUsedAt ? { lastUsedAt } : {}),
    ...(revokedAt ? { revokedAt } : {}),
  };
}

export async function insertClient(
  db: Db,
  c: {
    id: string;
    tenantId: string;
    name: string;
    secretHash: string;
    scopes: readonly PartnerScope[];
    createdBy: string;
    createdAt: number;
  },
): Promise<ApiClientRow> {
  const { rows } = await db.query(
    `INSERT INTO portal_partner_clients (id, tenant_id, name, secret_hash, scopes, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [
      c.id,
      c.tenantId,
      c.name,
      c.secretHash,
      [...new Set(c.scopes)].join(' '),
      c.createdBy,
      c.createdAt,
    ],
  );
  return clientRow(rows[0] as Record<string, unknown>);
}

export async function clientById(db: Db, id: string): Promise<ApiClientRow | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_partner_clients WHERE id = $1', [id]);
  return rows[0] ? clientRow(rows[0]) : undefined;
}

/** The clients of `tenantId` (every tenant's when undefined), newest first. */
export async function listClients(db: Db, tenantId: string | undefined): Promise<ApiClientRow[]> {
  const { rows } = await db.query(
    `SELECT * FROM portal_partner_clients WHERE ($1::text IS NULL OR tenant_id = $1)
     ORDER BY created_at DESC LIMIT 500`,
    [tenantId ?? null],
  );
  return rows.map(clientRow);
}

/** A client that is not revoked, with its secret's hash (for authentication). */
export async function activeClientSecret(
  db: Db,
  clientId: string,
): Promise<{ tenantId: string; scopes: PartnerScope[]; secretHash: string } | undefined> {
  const { rows } = await db.query(
    'SELECT * FROM portal_partner_clients WHERE id = $1 AND revoked_at IS NULL',
    [clientId],
  );
  const r = rows[0];
  return r
    ? {
        tenantId: String(r.tenant_id),
        scopes: toScopes(r.scopes),
        secretHash: String(r.secret_hash),
      }
    : undefined;
}

/** Stores a token (and drops expired ones); the client counts as used now. */
export async function insertToken(
  db: Db,
  t: { hash: string; clientId: string; scopes: readonly PartnerScope[]; expiresAt: number },
  now: number,
): Promise<void> {
  await db.query('DELETE FROM portal_partner_tokens WHERE expires_at < $1', [now]);
  await db.query(
    'INSERT INTO portal_partner_tokens (token_hash, client_id, scopes, expires_at) VALUES ($1, $2, $3, $4)',
    [t.hash, t.clientId, t.scopes.join(' '), t.expiresAt],
  );
  await db.query('UPDATE portal_partner_clients SET last_used_at = $2 WHERE id = $1', [
    t.clientId,
    now,
  ]);
}

/** The client and granted scopes of a live token (by its hash) of a client not revoked. */
export async function tokenClient(
  db: Db,
  hash: string,
  now: number,
): Promise<{ clientId: string; tenantId: string; scopes: PartnerScope[] } | undefined> {
  const { rows } = await db.query(
    `SELECT t.scopes, t.client_id, c.tenant_id FROM portal_partner_tokens t
     JOIN portal_partner_clients c ON c.id = t.client_id
     WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL`,
    [hash, now],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    clientId: String(r.client_id),
    tenantId: String(r.tenant_id),
    scopes: toScopes(r.scopes),
  };
}

/**
 * Revokes a client and ends its tokens. `true` only for the one call that revoked it (compare
 * and set on `revoked_at`), so concurrent revocations audit it once.
 */
export async function revokeClient(db: Db, clientId: string, now: number): Promise<boolean> {
  const { rows } = await db.query(
    'UPDATE portal_partner_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
    [clientId, now],
  );
  await db.query('DELETE FROM portal_partner_tokens WHERE client_id = $1', [clientId]);
  return rows.length > 0;
}

/** Replaces a client's secret (by hash); its tokens end. */
export async function replaceClientSecret(
  db: Db,
  clientId: string,
  secretHash: string,
): Promise<void> {
  await db.query('UPDATE portal_partner_clients SET secret_hash = $2 WHERE id = $1', [
    clientId,
    secretHash,
  ]);
  await db.query('DELETE FROM portal_partner_tokens WHERE client_id = $1', [clientId]);
}

/**
 * Adds `scopes` to a client's scopes in one statement (the row lock orders concurrent grants,
 * so none overwrites another's: no read-modify-write in the application). Returns the scopes
 * now held, or `undefined` when there is no such client.
 */
export async function addClientScopes(
  db: Db,
  clientId: string,
  scopes: readonly PartnerScope[],
): Promise<PartnerScope[] | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_partner_clients SET scopes = (
       SELECT string_agg(DISTINCT s, ' ' ORDER BY s)
       FROM unnest(string_to_array(portal_partner_clients.scopes || ' ' || $2, ' ')) AS s
       WHERE s <> '')
     WHERE id = $1 RETURNING scopes`,
    [clientId, [...new Set(scopes)].join(' ')],
  );
  return rows[0] ? toScopes(rows[0].scopes) : undefined;
}

// ---------------------------------------------------------------- webhook subscriptions

/** A subscription as stored (the hub needs the sealed secret; pages never see it). */
export interface SubscriptionRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly url: string;
  readonly eventTypes: string[];
  readonly active: boolean;
  readonly secretSealed: string;
  readonly createdAt: number;
}

function subscriptionRecord(r: Record<string, unknown>): SubscriptionRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    url: String(r.url),
    eventTypes: String(r.event_types).split(' ').filter(Boolean),
    active: Boolean(r.active),
    secretSealed: String(r.secret_sealed),
    createdAt: Number(r.created_at),
  };
}

/** The page's and the API's view of a subscription (tenant named, no secret). */
export function subscriptionRow(s: SubscriptionRecord, tenantName: string): SubscriptionRow {
  return {
    id: s.id,
    tenantId: s.tenantId,
    tenantName,
    url: s.url,
    eventTypes: s.eventTypes,
    active: s.active,
    createdAt: new Date(s.createdAt).toISOString(),
  };
}

export async function insertSubscription(
  db: Db,
  s: {
    id: string;
    tenantId: string;
    url: string;
    eventTypes: readonly string[];
    secretSealed: string;
    createdBy: string;
    createdAt: number;
  },
): Promise<SubscriptionRecord> {
  const { rows } = await db.query(
    `INSERT INTO portal_partner_subscriptions (id, tenant_id, url, event_types, secret_sealed, active, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, true, $6, $7) RETURNING *`,
    [
      s.id,
      s.tenantId,
      s.url,
      [...new Set(s.eventTypes)].join(' '),
      s.secretSealed,
      s.createdBy,
      s.createdAt,
    ],
  );
  return subscriptionRecord(rows[0] as Record<string, unknown>);
}

export async function subscriptionById(
  db: Db,
  id: string,
): Promise<SubscriptionRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_partner_subscriptions WHERE id = $1', [id]);
  return rows[0] ? subscriptionRecord(rows[0]) : undefined;
}

/** The subscriptions of `tenantId` (every tenant's when undefined), newest first. */
export async function listSubscriptions(
  db: Db,
  tenantId: string | undefined,
  limit?: number,
): Promise<SubscriptionRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM portal_partner_subscriptions WHERE ($1::text IS NULL OR tenant_id = $1)
     ORDER BY created_at DESC${limit === undefined ? '' : ' LIMIT $2'}`,
    limit === undefined ? [tenantId ?? null] : [tenantId ?? null, limit],
  );
  return rows.map(subscriptionRecord);
}

/**
 * Who receives an event of `tenant`: active subscriptions of the tenant itself and of every
 * partner tenant assigned to it (`portal_partner_customers`).
 */
export async function subscribersOf(
  db: Db,
  tenant: string,
): Promise<{ id: string; eventTypes: string[] }[]> {
  const { rows } = await db.query(
    `SELECT id, event_types FROM portal_partner_subscriptions
     WHERE active AND (tenant_id = $1 OR tenant_id IN
       (SELECT partner_id FROM portal_partner_customers WHERE customer_id = $1))`,
    [tenant],
  );
  return rows.map((r) => ({ id: String(r.id), eventTypes: String(r.event_types).split(' ') }));
}

export interface SubscriptionChange {
  /** The fields that changed, with their new values (for the audit event). */
  readonly changes: { active?: boolean; eventTypes?: string[] };
}

/** Event types in the stored form: distinct, sorted, space-separated. */
const stored = (types: readonly string[]) => [...new Set(types)].sort().join(' ');

// An update is one statement with the row locked, so both fields change together and
// concurrent updates cannot interleave, and a no-op is neither written nor reported (the caller
// audits only a real change). A deletion is a compare-and-delete: of concurrent deletions
// exactly one removes the row.

/**
 * Sets `active` and/or `eventTypes` of subscription `id` (undefined: unchanged). Returns what
 * changed, or `undefined` when nothing did (already so, or the subscription is gone).
 */
export async function updateSubscription(
  db: Db,
  id: string,
  active: boolean | undefined,
  eventTypes: readonly string[] | undefined,
): Promise<SubscriptionChange | undefined> {
  // The old event types compared as a set (stored order may differ from the sorted form).
  const { rows } = await db.query(
    `WITH old AS (
       SELECT id, active,
         (SELECT coalesce(string_agg(t, ' ' ORDER BY t), '')
            FROM unnest(string_to_array(event_types, ' ')) AS t) AS types
       FROM portal_partner_subscriptions WHERE id = $1 FOR UPDATE)
     UPDATE portal_partner_subscriptions s
     SET active = coalesce($2::boolean, old.active), event_types = coalesce($3::text, s.event_types)
     FROM old
     WHERE s.id = old.id
       AND (old.active IS DISTINCT FROM coalesce($2::boolean, old.active)
         OR ($3::text IS NOT NULL AND old.types IS DISTINCT FROM $3::text))
     RETURNING old.active AS was_active, old.types AS was_types, s.active, s.event_types`,
    [id, active ?? null, eventTypes ? stored(eventTypes) : null],
  );
  const r = rows[0];
  if (!r) return undefined;
  const changes: { active?: boolean; eventTypes?: string[] } = {};
  if (Boolean(r.was_active) !== Boolean(r.active)) changes.active = Boolean(r.active);
  if (eventTypes && String(r.was_types) !== stored(eventTypes))
    changes.eventTypes = stored(eventTypes).split(' ');
  return { changes };
}

/**
 * Deletes subscription `id` (of `tenantId` when given); true only for the call that removed it.
 */
export async function deleteSubscription(db: Db, id: string, tenantId?: string): Promise<boolean> {
  const { rows } = await db.query(
    tenantId === undefined
      ? 'DELETE FROM portal_partner_subscriptions WHERE id = $1 RETURNING id'
      : 'DELETE FROM portal_partner_subscriptions WHERE id = $1 AND tenant_id = $2 RETURNING id',
    tenantId === undefined ? [id] : [id, tenantId],
  );
  return rows.length > 0;
}

// ---------------------------------------------------------------- deliveries

export function deliveryRow(r: Record<string, unknown>): DeliveryRow {
  const next = iso(r.next_attempt_at);
  const last = iso(r.last_attempt_at);
  const done = iso(r.delivered_at);
  return {
    id: String(r.id),
    subscriptionId: String(r.subscription_id),
    eventId: String(r.event_id),
    eventType: String(r.event_type ?? ''),
    tenantId: String(r.tenant_id ?? ''),
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    ...(next && (r.status === 'pending' || r.status === 'delivering')
      ? { nextAttemptAt: next }
      : {}),
    ...(last ? { lastAttemptAt: last } : {}),
    ...(r.last_status == null ? {} : { lastStatus: Number(r.last_status) }),
    ...(r.last_error == null
      ? {}
      : {
          lastError: String(r.last_error),
          lastErrorReason: deliveryError(String(r.last_error)),
        }),
    ...(done ? { deliveredAt: done } : {}),
    createdAt: new Date(Number(r.created_at)).toISOString(),
  };
}

/** The delivery log, newest first, filtered by tenant (of the subscription), subscription, status. */
export async function listDeliveries(
  db: Db,
  q: { tenantId?: string; subscriptionId?: string; status?: DeliveryStatus; limit: number },
): Promise<DeliveryRow[]> {
  const params: unknown[] = [q.limit];
  let where = 'TRUE';
  if (q.tenantId !== undefined) {
    params.push(q.tenantId);
    where += ` AND s.tenant_id = $${params.length}`;
  }
  if (q.subscriptionId) {
    params.push(q.subscriptionId);
    where += ` AND d.subscription_id = $${params.length}`;
  }
  if (q.status) {
    params.push(q.status);
    where += ` AND d.status = $${params.length}`;
  }
  const { rows } = await db.query(
    `SELECT d.*, e.type AS event_type, e.tenant_id AS tenant_id
     FROM portal_partner_deliveries d
     JOIN portal_partner_subscriptions s ON s.id = d.subscription_id
     JOIN portal_partner_events e ON e.id = d.event_id
     WHERE ${where} ORDER BY d.created_at DESC, d.id LIMIT $1`,
    params,
  );
  return rows.map(deliveryRow);
}

/** A delivery's id and its subscription's tenant (for the scope check). */
export async function deliveryTenant(
  db: Db,
  id: string,
): Promise<{ id: string; tenantId: string } | undefined> {
  const { rows } = await db.query(
    `SELECT d.id, s.tenant_id FROM portal_partner_deliveries d
     JOIN portal_partner_subscriptions s ON s.id = d.subscription_id WHERE d.id = $1`,
    [id],
  );
  const r = rows[0];
  return r ? { id: String(r.id), tenantId: String(r.tenant_id) } : undefined;
}

/**
 * Queues a delivery of `eventId` to `subscriptionId`, due now. `once`: not when that pair is
 * already queued (fan-out); a ping is always a new delivery.
 */
export async function insertDelivery(
  db: Db,
  d: { id: string; subscriptionId: string; eventId: string | undefined; now: number },
  once: boolean,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_partner_deliveries
       (id, subscription_id, event_id, status, attempts, next_attempt_at, created_at)
     VALUES ($1, $2, $3, 'pending', 0, $4, $4)${once ? ' ON CONFLICT (subscription_id, event_id) DO NOTHING' : ''}`,
    [d.id, d.subscriptionId, d.eventId, d.now],
  );
}

/**
 * Due again now, unless an attempt holds a lease that has not expired. `'pending'`: queued;
 * `'in_progress'`: an attempt is running; `'not_found'`: no such delivery.
 */
export async function requeueDelivery(
  db: Db,
  id: string,
  now: number,
): Promise<'pending' | 'in_progress' | 'not_found'> {
  const { rows } = await db.query(
    `UPDATE portal_partner_deliveries SET status = 'pending', next_attempt_at = $2, attempt_token = NULL
     WHERE id = $1 AND NOT (status = 'delivering' AND next_attempt_at > $2) RETURNING id`,
    [id, now],
  );
  if (rows.length > 0) return 'pending';
  const { rows: exists } = await db.query('SELECT 1 FROM portal_partner_deliveries WHERE id = $1', [
    id,
  ]);
  return exists.length > 0 ? 'in_progress' : 'not_found';
}

/** Ids of deliveries due at `now` (at most 64, the most overdue first). */
export async function dueDeliveries(db: Db, now: number): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT id FROM portal_partner_deliveries
     WHERE status IN ('pending', 'delivering') AND next_attempt_at <= $1
     ORDER BY next_attempt_at LIMIT 64`,
    [now],
  );
  return rows.map((r) => String(r.id));
}

/**
 * Claims a due delivery for one attempt: leased until `leaseUntil`, marked with `token`.
 * Undefined when another worker has it or it is no longer due.
 */
export async function claimDelivery(
  db: Db,
  id: string,
  c: { now: number; leaseUntil: number; token: string },
): Promise<{ subscriptionId: string; eventId: string; attempts: number } | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_partner_deliveries
     SET status = 'delivering', next_attempt_at = $2, attempts = attempts + 1, last_attempt_at = $3,
       attempt_token = $4
     WHERE id = $1 AND status IN ('pending', 'delivering') AND next_attempt_at <= $3
     RETURNING subscription_id, event_id, attempts`,
    [id, c.leaseUntil, c.now, c.token],
  );
  const r = rows[0];
  return r
    ? {
        subscriptionId: String(r.subscription_id),
        eventId: String(r.event_id),
        attempts: Number(r.attempts),
      }
    : undefined;
}

/** Records a delivered attempt, if the row still carries the attempt's `token`. */
export async function markDelivered(
  db: Db,
  id: string,
  r: { status: number | undefined; at: number; token: string },
): Promise<void> {
  await db.query(
    `UPDATE portal_partner_deliveries SET status = 'delivered', next_attempt_at = NULL,
       last_status = $2, last_error = NULL, delivered_at = $3, attempt_token = NULL
     WHERE id = $1 AND attempt_token = $4`,
    [id, r.status, r.at, r.token],
  );
}

/**
 * Records a failed attempt, if the row still carries the attempt's `token`: due again at
 * `retryAt`, or failed for good without one.
 */
export async function markFailed(
  db: Db,
  id: string,
  r: { retryAt: number | undefined; status: number | undefined; error: string; token: string },
): Promise<void> {
  await db.query(
    `UPDATE portal_partner_deliveries SET status = $2, next_attempt_at = $3,
       last_status = $4, last_error = $5, attempt_token = NULL
     WHERE id = $1 AND attempt_token = $6`,
    [
      id,
      r.retryAt === undefined ? 'failed' : 'pending',
      r.retryAt ?? null,
      r.status ?? null,
      r.error.slice(0, 300),
      r.token,
    ],
  );
}

// ---------------------------------------------------------------- events

function eventRow(r: Record<string, unknown>): PartnerEvent {
  let data = {};
  try {
    data = sanitizeData(JSON.parse(String(r.data)) as Record<string, unknown>);
  } catch {}
  return {
    id: String(r.id),
    type: String(r.type) as PartnerEventType,
    timestamp: new Date(Number(r.created_at)).toISOString(),
    tenant: String(r.tenant_id),
    data,
  };
}

/** Stores an event; false when its id is already stored (the same source event). */
export async function insertEvent(db: Db, event: PartnerEvent, at: number): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO portal_partner_events (id, type, tenant_id, data, created_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [event.id, event.type, event.tenant, JSON.stringify(event.data), at],
  );
  return rows.length > 0;
}

export async function eventById(db: Db, id: string): Promise<PartnerEvent | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_partner_events WHERE id = $1', [id]);
  return rows[0] ? eventRow(rows[0]) : undefined;
}

/** Events of `tenants`, newest first, optionally of one type and before a time (ms). */
export async function recentEvents(
  db: Db,
  tenants: readonly string[],
  q: { limit: number; before?: number; type?: string },
): Promise<PartnerEvent[]> {
  if (tenants.length === 0) return [];
  const params: unknown[] = [tenants, q.limit];
  let where = 'tenant_id = ANY($1)';
  if (q.type) {
    params.push(q.type);
    where += ` AND type = $${params.length}`;
  }
  if (q.before) {
    params.push(q.before);
    where += ` AND created_at < $${params.length}`;
  }
  const { rows } = await db.query(
    `SELECT * FROM portal_partner_events WHERE ${where} ORDER BY created_at DESC, id LIMIT $2`,
    params,
  );
  return rows.map(eventRow);
}
