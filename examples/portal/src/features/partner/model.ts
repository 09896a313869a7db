/**
 * Partner events: what partners receive by webhook, RabbitMQ, NATS and the partner API.
 * Metadata only — ids, states, times. Never credential values, field names, license keys,
 * tokens, IPs or payload contents; `sanitizeData` enforces it for every source.
 */
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
 * administrator, and only once it is certified (see `routes/onboarding.ts`).
 */
export const PRODUCTION_SCOPES: readonly PartnerScope[] = PARTNER_SCOPES.filter(
  (s) => !SANDBOX_SCOPES.includes(s),
);

export type EventData = Readonly<Record<string, string | number | boolean | null>>;

export interface PartnerEventInput {
  readonly type: PartnerEventType;
  readonly tenant: string;
  readonly data?: Record<string, unknown>;
  /** An id from the source (e.g. the relay's event id): the same source id is one event. */
  readonly sourceId?: string;
  /** When it happened (ms); default now. */
  readonly time?: number;
}

/** The wire form (webhook body, AMQP/NATS message, partner API item). */
export interface PartnerEvent {
  readonly id: string;
  readonly type: PartnerEventType;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly tenant: string;
  readonly data: EventData;
}

const ALLOWED_KEYS = new Set([
  'licenseId',
  'product',
  'status',
  'connection',
  'mailboxEventId',
  'orderId',
  'outcome',
  'source',
  'subscriptionId',
]);

/**
 * Keeps known metadata keys with short scalar values; anything else (objects, long strings,
 * unknown keys such as `payload`, `fields`, `secret`) is dropped.
 */
export function sanitizeData(data: Record<string, unknown> | undefined): EventData {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(data ?? {})) {
    if (!ALLOWED_KEYS.has(key)) continue;
    if (typeof value === 'string') out[key] = value.slice(0, 200);
    else if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
    else if (typeof value === 'boolean' || value === null) out[key] = value;
  }
  return out;
}

/** NATS subject token of a tenant id (no dots, wildcards or spaces). */
export function subjectToken(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100) || '_';
}

export function eventRow(r: Record<string, unknown>): PartnerEvent {
  let data: EventData = {};
  try {
    data = sanitizeData(JSON.parse(String(r.data)) as Record<string, unknown>);
  } catch {}
  return {
    id: String(r.id),
    type: String(r.type) as PartnerEventType,
    timestamp: new Date(Number(r.created_at)).toISOString(),
    tenant: String(r.tenant_id),
    data,
  };
}
