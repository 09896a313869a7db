/**
 * "Request more rights": request bodies (strict zod schemas — unknown fields are refused) and
 * answer types. Pure (zod only), so the web app can import it.
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';
import { ROLES } from '../../shared/permissions.ts';
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

export const RIGHTS_STATUSES = ['pending', 'approved', 'rejected', 'withdrawn'] as const;

export const RightsRequestRowSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  tenantName: z.string(),
  user: z.object({ id: z.string(), name: z.string(), email: z.string() }),
  currentRole: z.enum(ROLES),
  requestedRole: z.enum(ROLES),
  reason: z.string(),
  status: z.enum(RIGHTS_STATUSES),
  createdAt: z.string(),
  decidedAt: z.string().optional(),
  decisionNote: z.string().optional(),
  /** Whether the signed-in user may decide it (approvers' list only). */
  canDecide: z.boolean().optional(),
});
export type RightsRequestRow = z.infer<typeof RightsRequestRowSchema>;

const RequestAnswer = z.object({ request: RightsRequestRowSchema });
const RequestsAnswer = z.object({ requests: z.array(RightsRequestRowSchema) });

export const rightsContract = {
  /** 201: the new request. */
  request: route({
    method: 'POST',
    path: '/api/rights/requests',
    access: 'rights.request',
    body: rightsRequestBody,
    response: RequestAnswer,
  }),
  mine: route({
    method: 'GET',
    path: '/api/rights/requests/mine',
    access: 'rights.request',
    response: RequestsAnswer,
  }),
  withdraw: route({
    method: 'POST',
    path: '/api/rights/requests/:id/withdraw',
    access: 'rights.request',
    response: RequestAnswer,
  }),
  list: route({
    method: 'GET',
    path: '/api/rights/requests',
    access: 'rights.approve',
    query: rightsQuery,
    response: RequestsAnswer,
  }),
  approve: route({
    method: 'POST',
    path: '/api/rights/requests/:id/approve',
    access: 'rights.approve',
    body: rightsDecisionBody,
    response: RequestAnswer,
  }),
  reject: route({
    method: 'POST',
    path: '/api/rights/requests/:id/reject',
    access: 'rights.approve',
    body: rightsRejectBody,
    response: RequestAnswer,
  }),
} as const;
