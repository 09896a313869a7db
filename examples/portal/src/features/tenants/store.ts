/**
 * Tenants (`portal_tenants`) and which customers a partner looks after
 * (`portal_partner_customers`): the only SQL on both.
 */

import type { Database } from '../../server/db.ts';
import type { Tenant } from '../../shared/api.ts';
import { ROLE_SCOPE, type Role } from '../../shared/permissions.ts';

type Sql = Pick<Database, 'query'>;

const toTenant = (r: Record<string, unknown>): Tenant => ({
  id: String(r.id),
  name: String(r.name),
  kind: r.kind as Tenant['kind'],
});

export async function tenantById(db: Sql, id: string): Promise<Tenant | undefined> {
  const { rows } = await db.query('SELECT id, name, kind FROM portal_tenants WHERE id = $1', [id]);
  return rows[0] ? toTenant(rows[0]) : undefined;
}

/** The tenants a user's role reaches: own, assigned (partners) or all (administrators). */
export async function reachableTenants(
  db: Sql,
  user: { readonly role: Role; readonly tenantId: string },
): Promise<Tenant[]> {
  const scope = ROLE_SCOPE[user.role];
  const { rows } =
    scope === 'all'
      ? await db.query('SELECT id, name, kind FROM portal_tenants ORDER BY name')
      : scope === 'assigned'
        ? await db.query(
            `SELECT t.id, t.name, t.kind FROM portal_tenants t
             JOIN portal_partner_customers pc ON pc.customer_id = t.id
             WHERE pc.partner_id = $1 ORDER BY t.name`,
            [user.tenantId],
          )
        : await db.query('SELECT id, name, kind FROM portal_tenants WHERE id = $1', [
            user.tenantId,
          ]);
  return rows.map(toTenant);
}

/** Every tenant (any order). */
export async function allTenants(db: Sql): Promise<Tenant[]> {
  const { rows } = await db.query('SELECT id, name, kind FROM portal_tenants');
  return rows.map(toTenant);
}

/** The customers assigned to partner tenant `partnerId`, by id. */
export async function customersOf(db: Sql, partnerId: string): Promise<string[]> {
  const { rows } = await db.query(
    'SELECT customer_id FROM portal_partner_customers WHERE partner_id = $1 ORDER BY customer_id',
    [partnerId],
  );
  return rows.map((r) => String(r.customer_id));
}

/** Every tenant's display name by id (license rows name their tenant). */
export async function tenantNames(db: Sql): Promise<Map<string, string>> {
  const { rows } = await db.query('SELECT id, name FROM portal_tenants');
  return new Map(rows.map((r) => [String(r.id), String(r.name)]));
}

/** Creates a tenant unless one with this id exists (bootstrap, demo, tests). */
export async function createTenant(db: Sql, tenant: Tenant, now: number): Promise<void> {
  await db.query(
    'INSERT INTO portal_tenants (id, name, kind, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
    [tenant.id, tenant.name, tenant.kind, now],
  );
}

/** Assigns a customer tenant to a partner (idempotent). */
export async function assignPartner(db: Sql, partnerId: string, customerId: string): Promise<void> {
  await db.query(
    'INSERT INTO portal_partner_customers (partner_id, customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [partnerId, customerId],
  );
}

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
