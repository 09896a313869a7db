/**
 * `portal_users`: the only SQL for it. (Created on the adv branch with the functions the adv and
 * privacy features need; the lead merges it with the users feature's version.)
 */
import type { Database } from '../../server/db.ts';

// --- for adv ---

/** Active key users and partners of customer and partner tenants: who is asked to accept. */
export async function advRecipients(
  db: Database,
): Promise<{ email: string; name: string; tenantName: string }[]> {
  const { rows } = await db.query(
    `SELECT u.email, u.name, t.name AS tenant_name FROM portal_users u
     JOIN portal_tenants t ON t.id = u.tenant_id
     WHERE u.status = 'active' AND u.role IN ('key-user', 'partner') AND t.kind <> 'operator'`,
  );
  return rows.map((r) => ({
    email: String(r.email),
    name: String(r.name),
    tenantName: String(r.tenant_name),
  }));
}
