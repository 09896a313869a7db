/**
 * Partner events: what partners receive by webhook, RabbitMQ, NATS and the partner API.
 * Metadata only — ids, states, times. Never credential values, field names, license keys,
 * tokens, IPs or payload contents; `sanitizeData` enforces it for every source.
 */
import type { DeliveryError, EventData, PartnerEventType } from './contract.ts';

// The wire form lives in the contract; streams.ts (shared with the kit move) reads it here.
export type { PartnerEvent } from './contract.ts';

export interface PartnerEventInput {
  readonly type: PartnerEventType;
  readonly tenant: string;
  readonly data?: Record<string, unknown>;
  /** An id from the source (e.g. the relay's event id): the same source id is one event. */
  readonly sourceId?: string;
  /** When it happened (ms); default now. */
  readonly time?: number;
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

const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'UND_ERR_SOCKET',
]);

/** The stable code of a stored `last_error` (the texts `attempt` and `describe` write). */
export function deliveryError(lastError: string): DeliveryError {
  if (lastError === 'subscription or event gone') return 'gone';
  if (lastError === 'subscription inactive') return 'inactive';
  if (lastError === 'target refused: internal address') return 'internal_address';
  if (lastError.startsWith('target refused: ')) return 'target_refused';
  if (/^HTTP \d+$/.test(lastError)) return 'http_status';
  if (lastError === 'connection refused') return 'connection_refused';
  if (lastError === 'timeout') return 'timeout';
  if (UNREACHABLE_CODES.has(lastError)) return 'unreachable';
  return 'failed';
}
