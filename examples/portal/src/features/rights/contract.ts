/**
 * "Request more rights": request bodies (strict zod schemas — unknown fields are refused) and
 * answer types. Pure (zod only), so the web app can import it.
 */
import { z } from 'zod';
import { ROLES, type Role } from '../../shared/permissions.ts';
import { text } from '../onboarding/contract.ts';

export const rightsRequestBody = z.strictObject({
  role: z.enum(ROLES),
  reason: text(1000),
});
export const rightsDecisionBody = z.strictObject({ note: text(1000).optional() });
export const rightsRejectBody = z.strictObject({ reason: text(1000) });
export const rightsQuery = z.strictObject({
  status: z.enum(['pending', 'approved', 'rejected', 'withdrawn']).optional(),
});

export interface RightsRequestRow {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly user: { readonly id: string; readonly name: string; readonly email: string };
  readonly currentRole: Role;
  readonly requestedRole: Role;
  readonly reason: string;
  readonly status: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  readonly createdAt: string;
  readonly decidedAt?: string;
  readonly decisionNote?: string;
  /** Whether the signed-in user may decide it (approvers' list only). */
  readonly canDecide?: boolean;
}
