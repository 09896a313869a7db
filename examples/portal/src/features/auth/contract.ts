/**
 * The sign-in's HTTP contract: the session endpoint, password and second factor, passkeys,
 * sign-out, re-authentication, password reset, and accepting an invitation. All `public`: the
 * visitor is not signed in (yet), so each step reads the session it needs itself.
 */
import { z } from 'zod';
import {
  acceptInvitationBody,
  loginBody,
  passkeyOptionsBody,
  passkeyVerifyBody,
  reauthBody,
  resetConfirmBody,
  resetRequestBody,
  secondFactorBody,
  sendCodeBody,
} from '../../shared/api.ts';
import { route } from '../../shared/contract.ts';
import { PERMISSIONS, ROLES } from '../../shared/permissions.ts';

export const FactorSchema = z.object({
  id: z.string(),
  type: z.enum(['totp', 'email', 'sms', 'passkey']),
  label: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
});
export type Factor = z.infer<typeof FactorSchema>;

/** The signed-in (or enrolling) user as the web app sees them. */
export const MeSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenant: z.object({ id: z.string(), name: z.string() }),
  locale: z.enum(['de', 'en']),
  permissions: z.array(z.enum(PERMISSIONS)).readonly(),
  factors: z.array(FactorSchema).readonly(),
  recoveryCodesLeft: z.number(),
  /** Until when a sensitive change needs no new re-authentication (absent: re-auth needed). */
  reauthUntil: z.string().optional(),
  phone: z.string().optional(),
});
export type Me = z.infer<typeof MeSchema>;

/** `GET /api/session`: where the visitor stands (always 200). */
export const SessionInfoSchema = z.object({
  /** `anonymous`: no session; `password`: second factor pending; `enrol`: must set up a factor first; `full`: signed in. */
  stage: z.enum(['anonymous', 'password', 'enrol', 'full']),
  csrfToken: z.string(),
  /** Methods offered for the pending second factor (stage `password`). */
  methods: z
    .array(z.enum(['totp', 'email', 'sms', 'recovery']))
    .readonly()
    .optional(),
  /** Stage `enrol` or `full`. */
  user: MeSchema.optional(),
  /** The dev start's mail viewer exists (only `GET /api/session` of the dev start says so). */
  devMail: z.literal(true).optional(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

export const InvitationInfoSchema = z.object({
  email: z.string(),
  tenantName: z.string(),
  role: z.enum(ROLES),
  expiresAt: z.string(),
});
export type InvitationInfo = z.infer<typeof InvitationInfoSchema>;

/**
 * WebAuthn `PublicKeyCredentialRequestOptionsJSON` as the server makes it; loose, so whatever
 * else the library adds reaches the browser's authenticator unchanged. Exactly optional: the
 * browser library's type has no `undefined` members.
 */
export const PasskeyRequestOptionsSchema = z.looseObject({
  challenge: z.string(),
  timeout: z.number().exactOptional(),
  rpId: z.string().exactOptional(),
  allowCredentials: z
    .array(z.object({ id: z.string(), type: z.literal('public-key') }))
    .exactOptional(),
  userVerification: z.enum(['required', 'preferred', 'discouraged']).exactOptional(),
});

export const authContract = {
  session: route({
    method: 'GET',
    path: '/api/session',
    access: 'public',
    response: SessionInfoSchema,
  }),
  login: route({
    method: 'POST',
    path: '/api/auth/login',
    access: 'public',
    body: loginBody,
    response: SessionInfoSchema,
  }),
  sendCode: route({
    method: 'POST',
    path: '/api/auth/code/send',
    access: 'public',
    body: sendCodeBody,
    response: z.void(),
  }),
  secondFactor: route({
    method: 'POST',
    path: '/api/auth/second-factor',
    access: 'public',
    body: secondFactorBody,
    response: SessionInfoSchema,
  }),
  passkeyOptions: route({
    method: 'POST',
    path: '/api/auth/passkey/options',
    access: 'public',
    body: passkeyOptionsBody,
    response: PasskeyRequestOptionsSchema,
  }),
  passkeyVerify: route({
    method: 'POST',
    path: '/api/auth/passkey/verify',
    access: 'public',
    body: passkeyVerifyBody,
    response: SessionInfoSchema,
  }),
  logout: route({ method: 'POST', path: '/api/auth/logout', access: 'public', response: z.void() }),
  /** `public`: a session that is not fully signed in gets 401 `unauthenticated`, as ever. */
  reauth: route({
    method: 'POST',
    path: '/api/auth/reauth',
    access: 'public',
    body: reauthBody,
    response: z.object({ reauthUntil: z.string() }),
  }),
  resetRequest: route({
    method: 'POST',
    path: '/api/auth/reset/request',
    access: 'public',
    body: resetRequestBody,
    response: z.void(),
  }),
  resetConfirm: route({
    method: 'POST',
    path: '/api/auth/reset/confirm',
    access: 'public',
    body: resetConfirmBody,
    response: z.void(),
  }),
  invitation: route({
    method: 'GET',
    path: '/api/invitations/:token',
    access: 'public',
    response: InvitationInfoSchema,
  }),
  acceptInvitation: route({
    method: 'POST',
    path: '/api/invitations/:token/accept',
    access: 'public',
    body: acceptInvitationBody,
    response: SessionInfoSchema,
  }),
} as const;
