/**
 * The partner page's contract (`/api/partner/…`, session + CSRF, permission `partner.manage`):
 * API clients (OAuth2 client credentials), webhook subscriptions, the delivery log and recent
 * events. Request bodies are strict zod schemas; responses are zod schemas too, so the server's
 * answers and the web app's reading of them are one definition. Imported by the web app: zod
 * and src/shared only.
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';

// ---------------------------------------------------------------- vocabulary

export const PARTNER_EVENT_TYPES = [
  'license.activated',
  'license.locked',
  'license.unlocked',
  'order.status.forwarded',
  'mailbox.event.received',
  'test.ping',
] as const;
export type PartnerEventType = (typeof PARTNER_EVENT_TYPES)[number];

/** Event types a subscription may choose (`test.ping` goes to a subscription on request). */
export const SUBSCRIBABLE_TYPES: readonly PartnerEventType[] = PARTNER_EVENT_TYPES.filter(
  (t) => t !== 'test.ping',
);

export const PARTNER_SCOPES = [
  'licenses:read',
  'events:read',
  'webhooks:manage',
  'sandbox',
] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];

/** The certification sandbox only (`POST /partner-api/v1/sandbox/events`). */
export const SANDBOX_SCOPES: readonly PartnerScope[] = ['sandbox'];
/**
 * Scopes that reach real data. An onboarded partner tenant gets them only from an
 * administrator, and only once it is certified (see the onboarding feature).
 */
export const PRODUCTION_SCOPES: readonly PartnerScope[] = PARTNER_SCOPES.filter(
  (s) => !SANDBOX_SCOPES.includes(s),
);

export const DELIVERY_STATUSES = ['pending', 'delivering', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Why a delivery attempt failed, as stable codes the web app translates (`deliveryError`). */
export const DELIVERY_ERRORS = [
  'gone',
  'inactive',
  'internal_address',
  'target_refused',
  'http_status',
  'connection_refused',
  'timeout',
  'unreachable',
  'failed',
] as const;
export type DeliveryError = (typeof DELIVERY_ERRORS)[number];

// ---------------------------------------------------------------- responses

const time = z.string();

export const TenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['customer', 'partner', 'operator']),
});

export const StreamStatsSchema = z.object({
  published: z.number(),
  dropped: z.number(),
  failures: z.number(),
  queued: z.number(),
});

/** `GET /api/partner/meta`: what the page offers, and where partners' machines connect. */
export const PartnerMetaSchema = z.object({
  scopes: z.array(z.enum(PARTNER_SCOPES)),
  eventTypes: z.array(z.enum(PARTNER_EVENT_TYPES)),
  tenants: z.array(TenantSchema),
  tokenUrl: z.string(),
  apiBase: z.string(),
  streams: z.record(z.string(), StreamStatsSchema),
});
export type PartnerMeta = z.infer<typeof PartnerMetaSchema>;

export const ApiClientSchema = z.object({
  clientId: z.string(),
  tenantId: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(PARTNER_SCOPES)),
  createdAt: time,
  lastUsedAt: time.optional(),
  revokedAt: time.optional(),
});
export type ApiClientRow = z.infer<typeof ApiClientSchema>;

export const SubscriptionSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  tenantName: z.string(),
  url: z.string(),
  eventTypes: z.array(z.string()),
  active: z.boolean(),
  createdAt: time,
});
export type SubscriptionRow = z.infer<typeof SubscriptionSchema>;

export const DeliverySchema = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  tenantId: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number(),
  nextAttemptAt: time.optional(),
  lastAttemptAt: time.optional(),
  lastStatus: z.number().optional(),
  /** The technical reason of the last failed attempt (English, for API clients and logs). */
  lastError: z.string().optional(),
  /** The same as a stable code the web app translates. */
  lastErrorReason: z.enum(DELIVERY_ERRORS).optional(),
  deliveredAt: time.optional(),
  createdAt: time,
});
export type DeliveryRow = z.infer<typeof DeliverySchema>;

/** Metadata only: ids, states, times (see `sanitizeData`). */
export const EventDataSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
);
export type EventData = Readonly<z.infer<typeof EventDataSchema>>;

/** The wire form of a partner event (webhook body, AMQP/NATS message, partner API item). */
export const PartnerEventSchema = z.object({
  id: z.string(),
  type: z.enum(PARTNER_EVENT_TYPES),
  /** ISO 8601. */
  timestamp: time,
  tenant: z.string(),
  data: EventDataSchema,
});
export type PartnerEvent = z.infer<typeof PartnerEventSchema>;

// ---------------------------------------------------------------- requests

const tenantId = z.string().min(1).max(100);
const scopeList = z.array(z.enum(PARTNER_SCOPES)).min(1).max(PARTNER_SCOPES.length);
const typeList = z
  .array(z.enum(SUBSCRIBABLE_TYPES as [PartnerEventType, ...PartnerEventType[]]))
  .min(1)
  .max(SUBSCRIBABLE_TYPES.length);

export const createClientBody = z.strictObject({
  tenantId: tenantId.optional(),
  name: z.string().trim().min(1).max(100),
  scopes: scopeList,
});
export const createSubscriptionBody = z.strictObject({
  tenantId: tenantId.optional(),
  url: z.string().trim().min(8).max(2000),
  eventTypes: typeList,
});
export const updateSubscriptionBody = z.strictObject({
  active: z.boolean().optional(),
  eventTypes: typeList.optional(),
});
export const deliveriesQuery = z.strictObject({
  subscriptionId: z.string().min(1).max(100).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export const eventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  before: z.iso.datetime().optional(),
  type: z.enum(PARTNER_EVENT_TYPES).optional(),
});
export type EventsQuery = z.infer<typeof eventsQuery>;

// ---------------------------------------------------------------- routes

const access = 'partner.manage';
export const partnerContract = {
  meta: route({ method: 'GET', path: '/api/partner/meta', access, response: PartnerMetaSchema }),
  clients: route({
    method: 'GET',
    path: '/api/partner/clients',
    access,
    response: z.object({ clients: z.array(ApiClientSchema) }),
  }),
  createClient: route({
    method: 'POST',
    path: '/api/partner/clients',
    access,
    body: createClientBody,
    response: z.object({ client: ApiClientSchema, clientSecret: z.string() }),
  }),
  revokeClient: route({
    method: 'POST',
    path: '/api/partner/clients/:id/revoke',
    access,
    response: z.object({ client: ApiClientSchema }),
  }),
  subscriptions: route({
    method: 'GET',
    path: '/api/partner/subscriptions',
    access,
    response: z.object({ subscriptions: z.array(SubscriptionSchema) }),
  }),
  createSubscription: route({
    method: 'POST',
    path: '/api/partner/subscriptions',
    access,
    body: createSubscriptionBody,
    response: z.object({ subscription: SubscriptionSchema, secret: z.string() }),
  }),
  updateSubscription: route({
    method: 'PATCH',
    path: '/api/partner/subscriptions/:id',
    access,
    body: updateSubscriptionBody,
    response: z.object({ subscription: SubscriptionSchema }),
  }),
  deleteSubscription: route({
    method: 'DELETE',
    path: '/api/partner/subscriptions/:id',
    access,
    response: z.void(),
  }),
  pingSubscription: route({
    method: 'POST',
    path: '/api/partner/subscriptions/:id/ping',
    access,
    response: z.object({ deliveryId: z.string() }),
  }),
  deliveries: route({
    method: 'GET',
    path: '/api/partner/deliveries',
    access,
    query: deliveriesQuery,
    response: z.object({ deliveries: z.array(DeliverySchema) }),
  }),
  redeliver: route({
    method: 'POST',
    path: '/api/partner/deliveries/:id/redeliver',
    access,
    response: z.object({ id: z.string(), status: z.literal('pending') }),
  }),
  events: route({
    method: 'GET',
    path: '/api/partner/events',
    access,
    query: eventsQuery,
    response: z.object({ events: z.array(PartnerEventSchema) }),
  }),
} as const;
