/**
 * The privacy API's contract: request bodies (strict zod) and response schemas. Only zod here,
 * so the web app imports it too.
 */
import { z } from 'zod';
import { file, route } from '../../shared/contract.ts';

export const consentBody = z
  .object({
    purpose: z.string().min(1).max(60),
    version: z.string().min(1).max(40),
    granted: z.boolean(),
  })
  .strict();
export type ConsentBody = z.output<typeof consentBody>;

export const cancelErasureBody = z.object({ token: z.string().min(20).max(100) }).strict();

export const PurposeTextSchema = z.object({ de: z.string(), en: z.string() });
export type PurposeText = z.infer<typeof PurposeTextSchema>;

export const ConsentStateSchema = z.object({
  purpose: z.string(),
  /** The current version of the purpose's text. */
  version: z.string(),
  title: PurposeTextSchema,
  text: PurposeTextSchema,
  granted: z.boolean(),
  /** The version the user last decided on (a consent to an older text no longer counts). */
  decidedVersion: z.string().optional(),
  decidedAt: z.string().optional(),
});
export type ConsentState = z.infer<typeof ConsentStateSchema>;

export const ConsentRecordSchema = z.object({
  purpose: z.string(),
  version: z.string(),
  granted: z.boolean(),
  at: z.string(),
  source: z.enum(['web', 'api', 'admin']),
});
export type ConsentRecord = z.infer<typeof ConsentRecordSchema>;

export const ConsentListSchema = z.object({
  consents: z.array(ConsentStateSchema),
  history: z.array(ConsentRecordSchema),
});
export type ConsentList = z.infer<typeof ConsentListSchema>;

export const ErasureStatusSchema = z.object({
  userId: z.string(),
  state: z.enum(['none', 'scheduled', 'cancelled', 'erasing', 'done']),
  requestedAt: z.string().optional(),
  dueAt: z.string().optional(),
  graceDays: z.number().optional(),
});
export type ErasureStatus = z.infer<typeof ErasureStatusSchema>;

export const ErasureRowSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  tenantId: z.string(),
  requestedAt: z.string(),
  dueAt: z.string(),
  requestedBy: z.enum(['self', 'admin']),
});
export type ErasureRow = z.infer<typeof ErasureRowSchema>;

// ------------------------------------------------------------------ routes

export const privacyContract = {
  consents: route({
    method: 'GET',
    path: '/api/privacy/consents',
    access: 'privacy.self',
    response: ConsentListSchema,
  }),
  decideConsent: route({
    method: 'POST',
    path: '/api/privacy/consents',
    access: 'privacy.self',
    body: consentBody,
    response: ConsentListSchema,
  }),
  /** The person's own data as a zip (re-authentication first). */
  export: route({
    method: 'GET',
    path: '/api/privacy/export',
    access: 'privacy.self',
    response: file(),
  }),
  /** An administrator's export for a user (re-authentication first). */
  exportFor: route({
    method: 'POST',
    path: '/api/privacy/users/:id/export',
    access: 'privacy.manage',
    response: file(),
  }),
  erasure: route({
    method: 'GET',
    path: '/api/privacy/erasure',
    access: 'privacy.self',
    response: ErasureStatusSchema,
  }),
  /** Requests the person's own erasure (re-authentication first); ends the session. */
  requestErasure: route({
    method: 'POST',
    path: '/api/privacy/erasure',
    access: 'privacy.self',
    response: ErasureStatusSchema,
  }),
  /** Cancels by the mailed link: no session needed. */
  cancelByToken: route({
    method: 'POST',
    path: '/api/privacy/erasure/cancel',
    access: 'public',
    body: cancelErasureBody,
    response: z.void(),
  }),
  erasures: route({
    method: 'GET',
    path: '/api/privacy/erasures',
    access: 'privacy.manage',
    response: z.object({ erasures: z.array(ErasureRowSchema) }),
  }),
  scheduleFor: route({
    method: 'POST',
    path: '/api/privacy/users/:id/erasure',
    access: 'privacy.manage',
    response: ErasureStatusSchema,
  }),
  cancelFor: route({
    method: 'POST',
    path: '/api/privacy/users/:id/erasure/cancel',
    access: 'privacy.manage',
    response: ErasureStatusSchema,
  }),
} as const;
