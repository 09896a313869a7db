/**
 * Partner onboarding and "request more rights": request bodies (strict zod schemas — unknown
 * fields are refused) and answer types. Pure (zod only), so the web app can import the types.
 */
import { z } from 'zod';
import { ROLES, type Role } from '../../shared/permissions.ts';

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(2)
    .max(max)
    // No control characters but tab and line feed (texts end up in e-mails and the audit log).
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

/** `GET /api/onboarding/terms` — what the registration form shows and the applicant accepts. */
export interface OnboardingTerms {
  readonly terms: { version: string; locale: 'de' | 'en'; text: string; sha256: string };
  readonly adv: { version: string; locale: 'de' | 'en'; text: string; sha256: string };
}

export type ApplicationStatus = 'unverified' | 'pending' | 'approved' | 'rejected';

export interface ApplicationRow {
  readonly id: string;
  readonly companyName: string;
  readonly companyAddress: string;
  readonly website?: string;
  readonly contactName: string;
  readonly contactEmail: string;
  readonly status: ApplicationStatus;
  readonly termsVersion: string;
  readonly advVersion: string;
  readonly createdAt: string;
  readonly verifiedAt?: string;
  readonly reviewedAt?: string;
  readonly rejectReason?: string;
  readonly tenantId?: string;
}

export type StepState = 'open' | 'passed' | 'failed';

export interface CertificationState {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly secretsRevealed: boolean;
  readonly webhookUrl?: string;
  readonly steps: readonly {
    readonly id: 'inbound' | 'outbound';
    readonly state: StepState;
    readonly at?: string;
    readonly detail?: string;
  }[];
  readonly certified: boolean;
  readonly certifiedAt?: string;
  readonly productionGrantedAt?: string;
  /** Where the partner's system sends its signed test event (bearer token with `sandbox`). */
  readonly sandboxUrl: string;
  readonly tokenUrl: string;
}

// ------------------------------------------------------------------ rights requests

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
