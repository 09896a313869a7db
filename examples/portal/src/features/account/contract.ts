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
import { authContract, FactorSchema, MeSchema, SessionInfoSchema } from '../auth/contract.ts';

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

// Who the user is and where the session stands are the sign-in's answers (auth's contract);
// the account's own routes answer with them too.
export {
  type Factor,
  FactorSchema,
  type Me,
  MeSchema,
  type SessionInfo,
  SessionInfoSchema,
} from '../auth/contract.ts';

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

/** Re-authentication before a sensitive change: a route of the sign-in steps (auth's contract). */
export const reauthRoute = authContract.reauth;
