/** The tenants feature's use case: the tenants a principal may see (own / assigned / all). */

import type { Context, Principal } from '../../server/context.ts';
import type { Tenant } from '../../shared/api.ts';
import { reachableTenants } from './store.ts';

export function listTenants(ctx: Context, p: Principal): Promise<Tenant[]> {
  return reachableTenants(ctx.db, p.user);
}
