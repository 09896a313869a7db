/**
 * The audit viewer's contract: the filters, the rows (with the acting user's name and e-mail
 * where the viewer may see that user), the count of all matches, the CSV export and the
 * verification of the chain. Shared by the server and the web app (imports only zod and
 * src/shared).
 */
import { z } from 'zod';
import { file, route } from '../../shared/contract.ts';

/** Counting stops here: beyond it the page says "more than 10,000". */
export const AUDIT_COUNT_CAP = 10_000;

/** `GET /api/audit?tenantId&actor&action&outcome&from&to&before&limit` and the CSV export. */
export const auditQuery = z.strictObject({
  tenantId: z.string().min(1).max(100).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  outcome: z.enum(['success', 'failure', 'denied']).optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export type AuditFilters = z.output<typeof auditQuery>;

export const AuditViewRowSchema = z.object({
  seq: z.number(),
  id: z.string(),
  time: z.string(),
  action: z.string(),
  outcome: z.enum(['success', 'failure', 'denied']),
  actor: z.object({
    type: z.string(),
    id: z.string(),
    /** The audit log's keyed pseudonym of the address (see the alerts inbox's IP_POLICY). */
    ip: z.string().optional(),
    /** The user's display name and e-mail, only for users in tenants the viewer may see. */
    name: z.string().optional(),
    email: z.string().optional(),
  }),
  target: z.object({ type: z.string(), id: z.string() }).optional(),
  tenant: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditViewRow = z.infer<typeof AuditViewRowSchema>;

export const AuditViewPageSchema = z.object({
  events: z.array(AuditViewRowSchema),
  nextBefore: z.number().optional(),
  /**
   * All events matching the filters (not just this page), counted up to `AUDIT_COUNT_CAP`;
   * `totalCapped` when there are more. Only on the first page (without `before`).
   */
  total: z.number().optional(),
  totalCapped: z.boolean().optional(),
});
export type AuditViewPage = z.infer<typeof AuditViewPageSchema>;

/** The whole log's hash chain and signatures (administrators). */
export const AuditVerifyResultSchema = z.object({
  ok: z.boolean(),
  events: z.number(),
  checkpoints: z.number(),
  lastSeq: z.number().optional(),
  /** The key the checkpoints are signed with (it must be the portal's own). */
  keyId: z.string().optional(),
  /** The first findings (at most 20), and how many there are. */
  findings: z.array(
    z.object({ code: z.string(), seq: z.number().optional(), message: z.string() }),
  ),
  findingsTotal: z.number(),
});
export type AuditVerifyResult = z.infer<typeof AuditVerifyResultSchema>;

/**
 * The tenants the viewer's audit covers (the choices of the tenant filter, the names of the
 * rows' tenants); `allTenants` when the role sees every tenant (and may verify the chain).
 */
export const AuditScopeSchema = z.object({
  allTenants: z.boolean(),
  tenants: z.array(z.object({ id: z.string(), name: z.string() })),
});
export type AuditScope = z.infer<typeof AuditScopeSchema>;

export const auditContract = {
  scope: route({
    method: 'GET',
    path: '/api/audit/scope',
    access: 'audit.read',
    response: AuditScopeSchema,
  }),
  page: route({
    method: 'GET',
    path: '/api/audit',
    access: 'audit.read',
    query: auditQuery,
    response: AuditViewPageSchema,
  }),
  csv: route({
    method: 'GET',
    path: '/api/audit.csv',
    access: 'audit.read',
    query: auditQuery,
    response: file(),
  }),
  /** The chain spans every tenant's events: only a role that sees all tenants may verify it. */
  verify: route({
    method: 'POST',
    path: '/api/audit/verify',
    access: 'audit.read',
    response: AuditVerifyResultSchema,
  }),
} as const;
