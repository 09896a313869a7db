/** The tenants feature's API as data: the tenants a signed-in user reaches. */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';

export const TenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['customer', 'partner', 'operator']),
});
export type Tenant = z.infer<typeof TenantSchema>;

export const tenantsContract = {
  /** Scoped: own / assigned (partners) / all (administrators). */
  list: route({
    method: 'GET',
    path: '/api/tenants',
    access: 'tenants.read',
    response: z.object({ tenants: z.array(TenantSchema) }),
  }),
} as const;
