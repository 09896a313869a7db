/**
 * `portal_tenants` and `portal_partner_customers`: the only SQL for them. (Created on the adv
 * branch with the functions the adv and privacy features need; the lead merges it with the
 * tenants feature's version.)
 */
import type { Database } from '../../server/db.ts';

// --- for adv ---

/** Customer and partner tenants (not the operator), by name. */
export async function customerAndPartnerTenants(
  db: Database,
): Promise<{ id: string; name: string; kind: string }[]> {
  const { rows } = await db.query(
    "SELECT id, name, kind FROM portal_tenants WHERE kind <> 'operator' ORDER BY name",
  );
  return rows.map((t) => ({ id: String(t.id), name: String(t.name), kind: String(t.kind) }));
}

// --- for privacy ---

/** Every tenant's id. */
export async function allTenantIds(db: Database): Promise<string[]> {
  const { rows } = await db.query('SELECT id FROM portal_tenants ORDER BY id');
  return rows.map((r) => String(r.id));
}
