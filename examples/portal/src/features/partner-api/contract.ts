/**
 * The partner machine API's contract: what partners' systems send and get with an OAuth2
 * access token (client credentials, `POST /oauth/token`) under `/partner-api/v1/…`, the
 * onboarding sandbox included. Not under `/api`: no session, no CSRF; scopes per route, a
 * fixed-window rate limit per client. Errors are problem+json with a stable `code` (the
 * portal's, plus PARTNER_API_ERROR_CODES) and, for refused fields, a stable `reason`.
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';
import {
  createSubscriptionBody,
  eventsQuery,
  PartnerEventSchema,
  type PartnerScope,
  SubscriptionSchema,
} from '../partner/contract.ts';

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

// ---------------------------------------------------------------- routes

// `public` for the portal's session check: these routes take a bearer token instead, checked
// (with the scope below and the client's rate limit) before anything else of the request.
const access = 'public';

export const partnerApiContract = {
  licenses: route({
    method: 'GET',
    path: '/partner-api/v1/licenses',
    access,
    query: licensesQuery,
    response: LicensesResponseSchema,
  }),
  events: route({
    method: 'GET',
    path: '/partner-api/v1/events',
    access,
    query: eventsQuery,
    response: EventsResponseSchema,
  }),
  webhooks: route({
    method: 'GET',
    path: '/partner-api/v1/webhooks',
    access,
    response: WebhooksResponseSchema,
  }),
  createWebhook: route({
    method: 'POST',
    path: '/partner-api/v1/webhooks',
    access,
    body: createWebhookBody,
    response: WebhookCreatedSchema,
  }),
  deleteWebhook: route({
    method: 'DELETE',
    path: '/partner-api/v1/webhooks/:id',
    access,
    response: z.void(),
  }),
} as const;

/** The scope each route's token must hold. */
export const PARTNER_API_SCOPES = {
  licenses: 'licenses:read',
  events: 'events:read',
  webhooks: 'webhooks:manage',
  createWebhook: 'webhooks:manage',
  deleteWebhook: 'webhooks:manage',
} as const satisfies Record<keyof typeof partnerApiContract, PartnerScope>;

/**
 * Step (a) of the onboarding certification: a Standard Webhooks-signed event, token scope
 * `sandbox`. No body schema here: the signature covers the raw bytes, so the body is parsed
 * (with `sandboxEventBody`) only after it is verified.
 */
export const sandboxContract = {
  event: route({
    method: 'POST',
    path: '/partner-api/v1/sandbox/events',
    access,
    response: SandboxResultSchema,
  }),
} as const;
