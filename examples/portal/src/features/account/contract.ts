/**
 * The own account's routes as data: second-factor enrolment (`/api/enrol/*`: open to a session
 * at stage `enrol`, or `full` after a re-authentication — so `public` here, the service reads
 * the session), and under `/api/me` the profile, password, e-mail, factors, recovery codes and
 * sessions. Also what a signed-in user is (`MeSchema`) and the session answer that carries it.
 * Imported by the web app: zod and src/shared only.
 */
import { z } from 'zod';
import { reauthBody } from '../../shared/api.ts';
import { route } from '../../shared/contract.ts';
import { PERMISSIONS, ROLES } from '../../shared/permissions.ts';

const email = z.string().trim().toLowerCase().email().max(254);
const password = z.string().min(1).max(1024);
const code = z
  .string()
  .trim()
  .regex(/^[0-9A-Za-z-]{6,24}$/);
const locale = z.enum(['de', 'en']);
const factorLabel = z.string().trim().min(1).max(60);
const secondFactorMethod = z.enum(['totp', 'email', 'sms', 'recovery']);

// ---------------------------------------------------------------- answers

export const FactorSchema = z.object({
  id: z.string(),
  type: z.enum(['totp', 'email', 'sms', 'passkey']),
  label: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
});
export type Factor = z.infer<typeof FactorSchema>;

/** The signed-in user as the web app knows them (`GET /api/me`, and in every session answer). */
export const MeSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenant: z.object({ id: z.string(), name: z.string() }),
  locale,
  permissions: z.array(z.enum(PERMISSIONS)),
  factors: z.array(FactorSchema),
  recoveryCodesLeft: z.number(),
  /** Until when a sensitive change needs no new re-authentication (absent: re-auth needed). */
  reauthUntil: z.string().optional(),
  phone: z.string().optional(),
});
export type Me = z.infer<typeof MeSchema>;

/** `GET /api/session` (and every sign-in step) — tells the app where the user stands. */
export const SessionInfoSchema = z.object({
  /** `anonymous`: no session; `password`: password ok, second factor pending; `enrol`: must set up a factor first; `full`: signed in. */
  stage: z.enum(['anonymous', 'password', 'enrol', 'full']),
  csrfToken: z.string(),
  /** Methods offered for the pending second factor (stage `password`). */
  methods: z.array(secondFactorMethod).optional(),
  /** Stage `enrol` or `full`. */
  user: MeSchema.optional(),
  /** The dev start's mail viewer exists (only `GET /api/session` of the dev start says so). */
  devMail: z.literal(true).optional(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

export const TotpStartSchema = z.object({
  secret: z.string(),
  otpauthUrl: z.string(),
  /** The otpauth URL as an SVG QR code (markup, no script). */
  qrSvg: z.string(),
});
export type TotpStart = z.infer<typeof TotpStartSchema>;

/** A confirmed factor: the session (`full` after the first one) and, the first time, recovery codes. */
export const EnrolDoneSchema = z.object({
  session: SessionInfoSchema,
  /** Present the first time a factor is enrolled (shown once). */
  recoveryCodes: z.array(z.string()).optional(),
});
export type EnrolDone = z.infer<typeof EnrolDoneSchema>;

const userVerification = z.enum(['discouraged', 'preferred', 'required']);

/**
 * WebAuthn `PublicKeyCredentialCreationOptionsJSON`, what the browser's registration takes
 * (optional fields exactly optional: the browser's type has no `undefined` in them).
 */
export const PasskeyCreationOptionsSchema = z.object({
  rp: z.object({ name: z.string(), id: z.string().exactOptional() }),
  user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
  challenge: z.string(),
  pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.literal('public-key') })),
  timeout: z.number().exactOptional(),
  excludeCredentials: z
    .array(
      z.object({
        id: z.string(),
        type: z.literal('public-key'),
        transports: z
          .array(z.enum(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']))
          .exactOptional(),
      }),
    )
    .exactOptional(),
  authenticatorSelection: z
    .object({
      authenticatorAttachment: z.enum(['platform', 'cross-platform']).exactOptional(),
      requireResidentKey: z.boolean().exactOptional(),
      residentKey: userVerification.exactOptional(),
      userVerification: userVerification.exactOptional(),
    })
    .exactOptional(),
  hints: z.array(z.enum(['hybrid', 'security-key', 'client-device'])).exactOptional(),
  attestation: z.enum(['direct', 'enterprise', 'indirect', 'none']).exactOptional(),
  extensions: z.object({ credProps: z.boolean().exactOptional() }).exactOptional(),
});
export type PasskeyCreationOptions = z.infer<typeof PasskeyCreationOptionsSchema>;

export const SessionRowSchema = z.object({
  id: z.string(),
  current: z.boolean(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  ip: z.string(),
  userAgent: z.string(),
});
export type SessionRow = z.infer<typeof SessionRowSchema>;

// ---------------------------------------------------------------- bodies

export const totpConfirmBody = z.strictObject({ code, label: factorLabel.optional() });
export const emailConfirmBody = z.strictObject({ code });
export const smsStartBody = z.strictObject({
  phone: z
    .string()
    .trim()
    .regex(/^\+[1-9][0-9]{6,14}$/),
});
export const smsConfirmBody = z.strictObject({ code });
/** `response` is the browser's `RegistrationResponseJSON`. */
export const passkeyRegisterBody = z.strictObject({
  response: z.record(z.string(), z.unknown()),
  label: factorLabel.optional(),
});
export const profileBody = z.strictObject({
  name: z.string().trim().min(1).max(120).optional(),
  locale: locale.optional(),
});
export const changePasswordBody = z.strictObject({ password });
export const changeEmailBody = z.strictObject({ email });

// ---------------------------------------------------------------- routes

export const accountContract = {
  /** Starts an authenticator-app set-up (replacing one in progress). */
  totpStart: route({
    method: 'POST',
    path: '/api/enrol/totp/start',
    access: 'public',
    response: TotpStartSchema,
  }),
  totpConfirm: route({
    method: 'POST',
    path: '/api/enrol/totp/confirm',
    access: 'public',
    body: totpConfirmBody,
    response: EnrolDoneSchema,
  }),
  /** Sends a code to the account's address. */
  emailStart: route({
    method: 'POST',
    path: '/api/enrol/email/start',
    access: 'public',
    response: z.void(),
  }),
  emailConfirm: route({
    method: 'POST',
    path: '/api/enrol/email/confirm',
    access: 'public',
    body: emailConfirmBody,
    response: EnrolDoneSchema,
  }),
  /** Only next to a stronger factor (authenticator app or passkey). */
  smsStart: route({
    method: 'POST',
    path: '/api/enrol/sms/start',
    access: 'public',
    body: smsStartBody,
    response: z.void(),
  }),
  smsConfirm: route({
    method: 'POST',
    path: '/api/enrol/sms/confirm',
    access: 'public',
    body: smsConfirmBody,
    response: EnrolDoneSchema,
  }),
  passkeyOptions: route({
    method: 'POST',
    path: '/api/enrol/passkey/options',
    access: 'public',
    response: PasskeyCreationOptionsSchema,
  }),
  passkeyVerify: route({
    method: 'POST',
    path: '/api/enrol/passkey/verify',
    access: 'public',
    body: passkeyRegisterBody,
    response: EnrolDoneSchema,
  }),
  /** Re-auth first; the last (or only strong) factor is refused (409). */
  removeFactor: route({
    method: 'DELETE',
    path: '/api/me/factors/:id',
    access: 'session',
    response: z.void(),
  }),
  /** Re-auth first; the earlier set stops working. */
  recoveryCodes: route({
    method: 'POST',
    path: '/api/me/recovery-codes',
    access: 'session',
    response: z.object({ recoveryCodes: z.array(z.string()) }),
  }),
  me: route({ method: 'GET', path: '/api/me', access: 'session', response: MeSchema }),
  updateProfile: route({
    method: 'PATCH',
    path: '/api/me',
    access: 'session',
    body: profileBody,
    response: MeSchema,
  }),
  /** Re-auth first; the other sessions end. */
  changePassword: route({
    method: 'POST',
    path: '/api/me/password',
    access: 'session',
    body: changePasswordBody,
    response: z.void(),
  }),
  /** Re-auth first; the old address is told. */
  changeEmail: route({
    method: 'POST',
    path: '/api/me/email',
    access: 'session',
    body: changeEmailBody,
    response: z.void(),
  }),
  sessions: route({
    method: 'GET',
    path: '/api/me/sessions',
    access: 'session',
    response: z.object({ sessions: z.array(SessionRowSchema) }),
  }),
  endSession: route({
    method: 'DELETE',
    path: '/api/me/sessions/:id',
    access: 'session',
    response: z.void(),
  }),
} as const;

/**
 * Re-authentication before a sensitive change (served with the sign-in steps,
 * `routes/auth.ts`; a session at stage `full` — the handler reads it — else 401).
 */
export const reauthRoute = route({
  method: 'POST',
  path: '/api/auth/reauth',
  access: 'public',
  body: reauthBody,
  response: z.object({ reauthUntil: z.string() }),
});
