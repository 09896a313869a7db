/**
 * The portal's HTTP API: request bodies as strict zod schemas (unknown fields are rejected),
 * response shapes as types. Shared by the Fastify server and the React app.
 *
 * Conventions:
 * - Every route is under `/api`; JSON in and out; errors are RFC 9457 problem+json
 *   (`{ type, title, status, code, detail?, retryAfter?, fields? }`), `code` is stable (see
 *   ERROR_CODES), and so is each field's `reason` (see FIELD_REASONS).
 * - Every state-changing request (POST/PUT/PATCH/DELETE) must carry the header
 *   `x-csrf-token: <csrfToken>` (from `GET /api/session`) and come from the portal's origin.
 * - The session is a `__Host-fluxel_session` cookie (Secure, HttpOnly, SameSite=Strict).
 * - Times are ISO-8601 strings.
 */
import { z } from 'zod';
// The response types of the session and sign-in routes are their contract's schemas.
import type { Factor, InvitationInfo, Me, SessionInfo } from '../features/auth/contract.ts';
import { type Permission, ROLES, type Role } from './permissions.ts';

export const ERROR_CODES = [
  'bad_request',
  'unauthenticated',
  'second_factor_required',
  'enrolment_required',
  'reauth_required',
  'forbidden',
  'not_found',
  'conflict',
  'csrf',
  'throttled',
  'locked_out',
  'invalid_credentials',
  'invalid_code',
  'weak_password',
  'invitation_invalid',
  'invitation_replaced',
  'email_taken',
  'token_invalid',
  'license_not_active',
  'upstream_unavailable',
  'internal',
  'role_changed',
  'erasure_scheduled',
  'delivery_in_progress',
  'webhook_secret_invalid',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Codes only the partner machine API (`/partner-api/v1/…`, its sandbox included) answers with:
 * machines read them, no person does, so the web app has no texts for them.
 */
export const PARTNER_API_ERROR_CODES = [
  'invalid_token',
  'insufficient_scope',
  'rate_limited',
  'invalid_signature',
  'stale_timestamp',
  'replayed',
] as const;
export type PartnerApiErrorCode = (typeof PARTNER_API_ERROR_CODES)[number];
/** What the server may answer with: the portal's codes, and on the partner API those too. */
export type ProblemCode = ErrorCode | PartnerApiErrorCode;

/**
 * Why one field of a `bad_request` (or `weak_password`) was refused: a closed list, so the web
 * app can say in the reader's language what to do instead of showing a developer's text.
 * `invalid` is the catch-all for a refusal nobody has named yet (the app then names the field).
 */
export const FIELD_REASONS = [
  'required',
  'too_short',
  'too_long',
  'invalid_format',
  'invalid_email',
  'invalid_url',
  'invalid_time',
  'invalid_choice',
  'invalid_type',
  'unknown_field',
  'out_of_range',
  'not_after_start',
  'window_too_long',
  'internal_address',
  'https_required',
  'url_credentials',
  'url_fragment',
  'host_name_only',
  'domain_name_required',
  'not_allowed',
  'not_configured',
  'weak_password_too_short',
  'weak_password_too_long',
  'weak_password_common',
  'weak_password_contains_identity',
  'invalid',
] as const;
export type FieldReason = (typeof FIELD_REASONS)[number];

/** One refused field: `reason` is stable; `message` is English for logs and API clients only. */
export interface FieldProblem {
  readonly path: string;
  readonly reason: FieldReason;
  readonly message: string;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail?: string;
  /** Seconds until a throttled request may be retried. */
  readonly retryAfter?: number;
  /** For `bad_request` and `weak_password`: which fields failed, and why (`reason`). */
  readonly fields?: readonly FieldProblem[];
}

const email = z.string().trim().toLowerCase().email().max(254);
const password = z.string().min(1).max(1024);
const code = z
  .string()
  .trim()
  .regex(/^[0-9A-Za-z-]{6,24}$/);
const locale = z.enum(['de', 'en']);
const id = z.string().min(1).max(100);

export type Locale = z.infer<typeof locale>;
export type FactorType = 'totp' | 'email' | 'sms' | 'passkey';
export type SecondFactorMethod = 'totp' | 'email' | 'sms' | 'recovery';

// ---------------------------------------------------------------- session & sign-in

export type { EnrolDone } from '../features/account/contract.ts';
/** `GET /api/session` — always 200; tells the app where the user stands. */
export type { Factor, Me, SessionInfo };

/** `POST /api/auth/login` → `SessionInfo` (stage `password` or `enrol`); 401 `invalid_credentials`; 429 `throttled`/`locked_out` with `retryAfter`. */
export const loginBody = z.strictObject({ email, password });

/** `POST /api/auth/code/send` — sends an e-mail or SMS code for the pending sign-in (or re-auth) → 204; 429 when asked too often. */
export const sendCodeBody = z.strictObject({ method: z.enum(['email', 'sms']) });

/** `POST /api/auth/second-factor` → `SessionInfo` (stage `full`, new session id); 401 `invalid_code`. */
export const secondFactorBody = z.strictObject({
  method: z.enum(['totp', 'email', 'sms', 'recovery']),
  code,
});

/** `POST /api/auth/passkey/options` → WebAuthn `PublicKeyCredentialRequestOptionsJSON` (passwordless or as second factor). */
export const passkeyOptionsBody = z.strictObject({ email: email.optional() });
/** `POST /api/auth/passkey/verify` → `SessionInfo` (stage `full`). `response` is the browser's `AuthenticationResponseJSON`. */
export const passkeyVerifyBody = z.strictObject({ response: z.record(z.string(), z.unknown()) });

/** `POST /api/auth/logout` → 204 (the session is deleted server-side). */

/** `POST /api/auth/reauth` → `{ reauthUntil }`. Password plus, when the user has factors, a code or a passkey beforehand. */
export const reauthBody = z.strictObject({
  password,
  method: z.enum(['totp', 'email', 'sms', 'recovery']),
  code,
});

// ---------------------------------------------------------------- invitations & reset

/** `GET /api/invitations/:token` → `InvitationInfo`; 404 `invitation_invalid`. */
export type { InvitationInfo };
/** `POST /api/invitations/:token/accept` → `SessionInfo` (stage `enrol`); 400 `weak_password` with `detail`. */
export const acceptInvitationBody = z.strictObject({
  name: z.string().trim().min(1).max(120),
  password,
  locale: locale.optional(),
});

/** `POST /api/invitations` (users.invite) → `{ id, expiresAt }`; the link goes out by e-mail. */
export const inviteBody = z.strictObject({
  email,
  role: z.enum(ROLES),
  /** Administrators may name any tenant; everyone else invites into their own. */
  tenantId: id.optional(),
});

/** `POST /api/auth/reset/request` → 204 always (no account enumeration); e-mails a link when the account exists. */
export const resetRequestBody = z.strictObject({ email });
/** `POST /api/auth/reset/confirm` → 204. Sets the password and ends every session; the user then signs in with password AND second factor. */
export const resetConfirmBody = z.strictObject({ token: z.string().min(20).max(200), password });

// ---------------------------------------------------------------- tenants & users

/** A tenant (src/features/tenants/contract.ts), named here too for the features that show one. */
export type { Tenant } from '../features/tenants/contract.ts';

// Users and invitations: routes and response types in src/features/users/contract.ts.

/** The body of `PATCH /api/users/:id` (users' contract `update`). */
export const updateUserBody = z.strictObject({
  role: z.enum(ROLES).optional(),
  status: z.enum(['active', 'disabled']).optional(),
});

// ---------------------------------------------------------------- licenses & credentials

// Licenses and credentials: routes and response types in src/features/licenses/contract.ts.

/** The body of `POST /api/licenses` (licenses' contract `create`). */
export const createLicenseBody = z.strictObject({
  tenantId: id,
  product: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9-]{1,40}$/),
  entitlements: z
    .array(z.string().regex(/^[a-z][a-z0-9:.-]{0,40}$/))
    .max(20)
    .default([]),
  expiresAt: z.iso.datetime().optional(),
});
/** The body of `POST /api/licenses/:id/lock`. */
export const lockBody = z.strictObject({ reason: z.string().trim().min(1).max(200) });
/** The body of `PUT /api/licenses/:id/connections/:connection/credentials`. */
export const credentialsBody = z.strictObject({
  kind: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9-]{0,40}$/),
  fields: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,40}$/), z.string().min(1).max(4096))
    .refine((v) => Object.keys(v).length >= 1 && Object.keys(v).length <= 20),
});
export const CONNECTION_PATTERN: RegExp = /^[a-z0-9][a-z0-9-]{0,62}$/;
