/**
 * Changing and deleting webhook subscriptions. An update is one statement with the row locked,
 * so both fields change together and concurrent updates cannot interleave, and a no-op is
 * neither written nor reported (the caller audits only a real change). A deletion is a
 * compare-and-delete: of concurrent deletions exactly one removes the row.
 */
import type { Database } from '../../server/db.ts';

export interface SubscriptionChange {
  /** The fields that changed, with their new values (for the audit event). */
  readonly changes: { active?: boolean; eventTypes?: string[] };
}

/** Event types in the stored form: distinct, sorted, space-separated. */
const stored = (types: readonly string[]) => [...new Set(types)].sort().join(' ');

/**
 * Sets `active` and/or `eventTypes` of subscription `id` (undefined: unchanged). Returns what
 * changed, or `undefined` when nothing did (already so, or the subscription is gone).
 */
export async function updateSubscription(
  db: Database,
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
export async function deleteSubscription(
  db: Pick<Database, 'query'>,
  id: string,
  tenantId?: string,
): Promise<boolean> {
  const { rows } = await db.query(
    tenantId === undefined
      ? 'DELETE FROM portal_partner_subscriptions WHERE id = $1 RETURNING id'
      : 'DELETE FROM portal_partner_subscriptions WHERE id = $1 AND tenant_id = $2 RETURNING id',
    tenantId === undefined ? [id] : [id, tenantId],
  );
  return rows.length > 0;
}
