/**
 * The partner machine API's contract: what partners' systems send and get with an OAuth2
 * access token (client credentials, `POST /oauth/token`) under `/partner-api/v1/…`, the
 * onboarding sandbox included. Not under `/api`: no session, no CSRF; scopes per route, a
 * fixed-window rate limit per client. Errors are problem+json with a stable `code` (the
 * portal's, plus PARTNER_API_ERROR_CODES) and, for refused fields, a stable `reason`.
 */
import { z } from 'zod';
import {
  createSubscriptionBody,
  PartnerEventSchema,
  SubscriptionSchema,
} from '../partner/contract.ts';

export { eventsQuery } from '../partner/contract.ts';

// ---------------------------------------------------------------- token endpoint (RFC 6749 §4.4)

/** Form fields of `POST /oauth/token` (lenient: RFC 6749 answers its own errors, not problems). */
export const tokenBody = z.object({
  grant_type: z.string().max(100).optional(),
  scope: z.string().max(500).optional(),
  client_id: z.string().max(200).optional(),
  client_secret: z.string().max(500).optional(),
});

export const TokenResponseSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  scope: z.string(),
});

/** RFC 6749 §5.2: the token endpoint's error answer. */
export const TokenErrorSchema = z.object({
  error: z.enum([
    'invalid_request',
    'invalid_client',
    'unsupported_grant_type',
    'invalid_scope',
    'slow_down',
  ]),
  error_description: z.string(),
});
export type TokenError = z.infer<typeof TokenErrorSchema>['error'];

// ---------------------------------------------------------------- /partner-api/v1

export const licensesQuery = z.strictObject({
  tenantId: z.string().min(1).max(100).optional(),
});

/** A license as partners see it: no key, no device binding, no lock reason. */
export const PartnerLicenseSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  product: z.string(),
  entitlements: z.array(z.string()),
  status: z.string(),
  activated: z.boolean(),
  createdAt: z.string(),
  activatedAt: z.string().optional(),
  lastSeenAt: z.string().optional(),
  expiresAt: z.string().optional(),
});
export type PartnerLicense = z.infer<typeof PartnerLicenseSchema>;

export const LicensesResponseSchema = z.object({ licenses: z.array(PartnerLicenseSchema) });
export const EventsResponseSchema = z.object({ events: z.array(PartnerEventSchema) });
export const WebhooksResponseSchema = z.object({ webhooks: z.array(SubscriptionSchema) });

/** `POST /partner-api/v1/webhooks`: a subscription of the client's own tenant. */
export const createWebhookBody = createSubscriptionBody.omit({ tenantId: true });
/** 201: the subscription and its signing secret (shown this once). */
export const WebhookCreatedSchema = z.object({ webhook: SubscriptionSchema, secret: z.string() });

// ---------------------------------------------------------------- onboarding sandbox

/** The body a partner's system sends to the sandbox (signed as a Standard Webhook). */
export const sandboxEventBody = z.strictObject({
  type: z.literal('certification.test'),
  timestamp: z.iso.datetime(),
  data: z.record(z.string().max(50), z.union([z.string().max(200), z.number(), z.boolean()])),
});

export const SandboxResultSchema = z.object({
  received: z.literal(true),
  step: z.literal('passed'),
  certified: z.boolean(),
});
