/**
 * Partner onboarding: request bodies (strict zod schemas — unknown fields are refused) and
 * answer types. Pure (zod only), so the web app can import it.
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';

/**
 * A person's text (names, reasons): trimmed, 2..max characters, no control characters but tab
 * and line feed (texts end up in e-mails and the audit log).
 */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(2)
    .max(max)
    .refine(
      (v) =>
        [...v].every((c) => {
          const n = c.charCodeAt(0);
          return n === 9 || n === 10 || (n >= 32 && n !== 127);
        }),
      'no control characters',
    );

const email = z.string().trim().toLowerCase().email().max(254);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const version = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/);
const locale = z.enum(['de', 'en']);

/** `POST /api/onboarding/applications` (public, rate-limited). */
export const applicationBody = z.strictObject({
  companyName: text(200),
  companyAddress: text(500),
  website: z
    .string()
    .trim()
    .max(300)
    // eslint-disable-next-line security/detect-unsafe-regex -- star height 1 with a literal delimiter and an optional group: linear time
    .regex(/^https:\/\/[^\s/]+(\/\S*)?$/, 'an https:// address')
    .optional(),
  contactName: text(120),
  contactEmail: email,
  locale: locale.optional(),
  /** The partner terms' version and the SHA-256 of the text shown. */
  termsVersion: version,
  termsSha256: sha256,
  /** The ADV/DPA's current version, the language and the SHA-256 of the text shown. */
  advVersion: version,
  advLocale: locale,
  advSha256: sha256,
  acceptTerms: z.literal(true),
  acceptAdv: z.literal(true),
});
export type ApplicationBody = z.infer<typeof applicationBody>;

export const verifyBody = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });
export const rejectBody = z.strictObject({ reason: text(1000) });
export const webhookUrlBody = z.strictObject({ url: z.string().trim().min(8).max(2000) });
export const grantBody = z.strictObject({
  scopes: z
    .array(z.enum(['licenses:read', 'events:read', 'webhooks:manage']))
    .min(1)
    .max(3),
});
export const applicationsQuery = z.strictObject({
  status: z.enum(['unverified', 'pending', 'approved', 'rejected']).optional(),
});

/** The body a partner's system sends to the sandbox (signed as a Standard Webhook). */
export const sandboxEventBody = z.strictObject({
  type: z.literal('certification.test'),
  timestamp: z.iso.datetime(),
  data: z.record(z.string().max(50), z.union([z.string().max(200), z.number(), z.boolean()])),
});

/** `GET /api/onboarding/terms[?locale=]` (any other locale than `en` is German). */
export const termsQuery = z.object({ locale: z.string().optional() });

const TextVersionSchema = z.object({
  version: z.string(),
  locale: locale,
  text: z.string(),
  sha256: z.string(),
});

/** `GET /api/onboarding/terms` — what the registration form shows and the applicant accepts. */
export const OnboardingTermsSchema = z.object({ terms: TextVersionSchema, adv: TextVersionSchema });
export type OnboardingTerms = z.infer<typeof OnboardingTermsSchema>;

export const APPLICATION_STATUSES = ['unverified', 'pending', 'approved', 'rejected'] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

export const ApplicationRowSchema = z.object({
  id: z.string(),
  companyName: z.string(),
  companyAddress: z.string(),
  website: z.string().optional(),
  contactName: z.string(),
  contactEmail: z.string(),
  status: z.enum(APPLICATION_STATUSES),
  termsVersion: z.string(),
  advVersion: z.string(),
  createdAt: z.string(),
  verifiedAt: z.string().optional(),
  reviewedAt: z.string().optional(),
  rejectReason: z.string().optional(),
  tenantId: z.string().optional(),
});
export type ApplicationRow = z.infer<typeof ApplicationRowSchema>;

export const STEP_STATES = ['open', 'passed', 'failed'] as const;
export type StepState = (typeof STEP_STATES)[number];

/**
 * What a checklist step's last attempt came to, as a stable code the web app translates (the
 * stored `detail` is the developer's text: an HTTP status, a Node error code, a problem code).
 */
export const STEP_CODES = [
  'signature_valid',
  'invalid_signature',
  'stale_timestamp',
  'headers_missing',
  'receiver_accepted',
  'receiver_refused',
  'target_refused',
  'unreachable',
  'timeout',
  'tls_failed',
  'delivery_failed',
] as const;
export type StepCode = (typeof STEP_CODES)[number];

/** The URL checks' refusals (`partner/ssrf.ts`), as stored in a step's detail. */
const TARGET_REFUSED = new Set([
  'not a URL',
  'no credentials in the URL',
  'no fragment',
  'https is required',
  'internal address',
  'ERR_SSRF_BLOCKED',
]);

/** The code of a step's stored `detail`; `httpStatus` for a receiver's answer. */
export function stepCode(detail: string): { code: StepCode; httpStatus?: number } {
  const http = /^HTTP (\d{3})$/.exec(detail);
  if (http) {
    const status = Number(http[1]);
    return {
      code: status >= 200 && status < 300 ? 'receiver_accepted' : 'receiver_refused',
      httpStatus: status,
    };
  }
  if (detail === 'signature valid') return { code: 'signature_valid' };
  if (detail === 'invalid_signature' || detail === 'stale_timestamp') return { code: detail };
  if (detail === 'bad_request') return { code: 'headers_missing' };
  if (TARGET_REFUSED.has(detail)) return { code: 'target_refused' };
  if (/TIMEOUT/i.test(detail)) return { code: 'timeout' };
  if (
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET)$/.test(
      detail,
    )
  )
    return { code: 'unreachable' };
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(detail)) return { code: 'tls_failed' };
  return { code: 'delivery_failed' };
}

export const CertificationStateSchema = z.object({
  tenantId: z.string(),
  tenantName: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()).readonly(),
  secretsRevealed: z.boolean(),
  webhookUrl: z.string().optional(),
  steps: z.array(
    z.object({
      id: z.enum(['inbound', 'outbound']),
      state: z.enum(STEP_STATES),
      at: z.string().optional(),
      /** The developer's text of the last attempt (logs, support); people see `code`. */
      detail: z.string().optional(),
      code: z.enum(STEP_CODES).optional(),
      httpStatus: z.number().optional(),
    }),
  ),
  certified: z.boolean(),
  certifiedAt: z.string().optional(),
  productionGrantedAt: z.string().optional(),
  /** Where the partner's system sends its signed test event (bearer token with `sandbox`). */
  sandboxUrl: z.string(),
  tokenUrl: z.string(),
});
export type CertificationState = z.infer<typeof CertificationStateSchema>;

/** `POST /api/onboarding/me/credentials` — shown once. */
export const CredentialsSchema = z.object({
  clientId: z.string(),
  clientSecret: z.string(),
  webhookSecret: z.string(),
  tokenUrl: z.string(),
  sandboxUrl: z.string(),
});
export type Credentials = z.infer<typeof CredentialsSchema>;

/** A reviewer's decision: the application as it is now. */
const ApplicationAnswer = z.object({ application: ApplicationRowSchema });

export const onboardingContract = {
  // ------------------------------------------------------------ public: registration
  terms: route({
    method: 'GET',
    path: '/api/onboarding/terms',
    access: 'public',
    query: termsQuery,
    response: OnboardingTermsSchema,
  }),
  /** 202 always the same answer; rate-limited per IP before the body is read. */
  apply: route({
    method: 'POST',
    path: '/api/onboarding/applications',
    access: 'public',
    body: applicationBody,
    response: z.object({ status: z.literal('verification_sent') }),
  }),
  verify: route({
    method: 'POST',
    path: '/api/onboarding/verify',
    access: 'public',
    body: verifyBody,
    response: z.object({ status: z.literal('pending') }),
  }),
  // ------------------------------------------------------------ administrators: review
  applications: route({
    method: 'GET',
    path: '/api/onboarding/applications',
    access: 'onboarding.review',
    query: applicationsQuery,
    response: z.object({ applications: z.array(ApplicationRowSchema) }),
  }),
  reject: route({
    method: 'POST',
    path: '/api/onboarding/applications/:id/reject',
    access: 'onboarding.review',
    body: rejectBody,
    response: ApplicationAnswer,
  }),
  approve: route({
    method: 'POST',
    path: '/api/onboarding/applications/:id/approve',
    access: 'onboarding.review',
    response: z.object({
      application: ApplicationRowSchema,
      tenantId: z.string(),
      clientId: z.string(),
    }),
  }),
  partners: route({
    method: 'GET',
    path: '/api/onboarding/partners',
    access: 'onboarding.review',
    response: z.object({ partners: z.array(CertificationStateSchema) }),
  }),
  grant: route({
    method: 'POST',
    path: '/api/onboarding/partners/:tenantId/grant',
    access: 'onboarding.review',
    body: grantBody,
    response: z.object({ partner: CertificationStateSchema }),
  }),
  // ------------------------------------------------------------ the partner's checklist
  me: route({
    method: 'GET',
    path: '/api/onboarding/me',
    access: 'partner.manage',
    response: CertificationStateSchema,
  }),
  credentials: route({
    method: 'POST',
    path: '/api/onboarding/me/credentials',
    access: 'partner.manage',
    response: CredentialsSchema,
  }),
  webhook: route({
    method: 'PUT',
    path: '/api/onboarding/me/webhook',
    access: 'partner.manage',
    body: webhookUrlBody,
    response: CertificationStateSchema,
  }),
  sendTest: route({
    method: 'POST',
    path: '/api/onboarding/me/checklist/outbound',
    access: 'partner.manage',
    response: CertificationStateSchema,
  }),
} as const;
