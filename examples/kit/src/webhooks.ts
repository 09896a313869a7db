/**
 * Standard Webhooks (https://www.standardwebhooks.com/), both sides: HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the base64 key of the secret (`whsec_` prefix optional, as
 * the spec allows; at least 24 bytes), sent as `webhook-signature: v1,<base64>` (several
 * space-separated values while a secret rotates). Verification compares in constant time
 * against each `v1,<base64>` entry — each exactly one 32-byte MAC in canonical base64, anything
 * else (junk appended, a truncated MAC, other alphabets) does not count — and wants the
 * timestamp within the tolerance of now.
 *
 * The one implementation: the relay verifies inbound third-party webhooks with it, the
 * portal signs partner deliveries and checks sandbox webhooks, the counterpart signs its
 * payment webhooks.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How far from the receiver's clock a timestamp may be (Standard Webhooks: 5 minutes). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The shortest webhook key accepted (bytes, after base64 decoding). */
export const WEBHOOK_SECRET_MIN_BYTES = 24;

const PREFIX = 'whsec_';
const MAC_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type WebhookCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Headers absent or malformed; timestamp outside the tolerance; no matching signature. */
      readonly reason: 'missing' | 'timestamp' | 'signature';
    };

/** The three Standard Webhooks headers of one message. */
export interface WebhookHeaders {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
}

/** A fresh signing secret: `whsec_` + 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** Bytes of canonical base64 (re-encodes to the same text), else undefined. */
function strictBase64(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The HMAC key of a secret (`whsec_<base64>` or bare base64, ≥ 24 bytes), else undefined. */
export function webhookKey(secret: string): Buffer | undefined {
  const raw = strictBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
  return raw && raw.length >= WEBHOOK_SECRET_MIN_BYTES ? raw : undefined;
}

function mac(key: Buffer, id: string, timestamp: string | number, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/**
 * The `webhook-signature` value (`v1,<base64>`) of one message. Throws for a secret no
 * receiver could verify with (the secret itself is never part of the error).
 */
export function signWebhook(
  secret: string,
  id: string,
  timestampS: number,
  body: string | Buffer,
): string {
  const key = webhookKey(secret);
  if (!key)
    throw new Error(
      `a webhook secret is canonical base64 of at least ${WEBHOOK_SECRET_MIN_BYTES} bytes ("whsec_" prefix optional)`,
    );
  return `v1,${mac(key, id, timestampS, body).toString('base64')}`;
}

/** The three Standard Webhooks headers for one message. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampS: number,
  body: string | Buffer,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': signWebhook(secret, id, timestampS, body),
  };
}

/** The webhook headers of a request's headers (the first value of a repeated one). */
export function readWebhookHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): WebhookHeaders {
  const one = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    id: one('webhook-id'),
    timestamp: one('webhook-timestamp'),
    signature: one('webhook-signature'),
  };
}

/** Checks headers and timestamp (independent of the secret). */
export function checkWebhookHeaders(headers: WebhookHeaders, nowMs: number): WebhookCheck {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || id.length > 128 || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'missing' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS)
    return { ok: false, reason: 'timestamp' };
  return { ok: true };
}

/**
 * Whether one of the message's signatures was made with `secret` (headers and timestamp are
 * {@link checkWebhookHeaders}'s business; a receiver with several candidate secrets checks
 * those once and this per secret).
 */
export function webhookSignedWith(
  secret: string,
  headers: WebhookHeaders,
  body: string | Buffer,
): boolean {
  const key = webhookKey(secret);
  if (!key || !headers.id || !headers.timestamp || !headers.signature) return false;
  const expected = mac(key, headers.id, headers.timestamp, body);
  let matched = false;
  for (const part of headers.signature.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    const given = strictBase64(part.slice(comma + 1));
    if (given?.length !== MAC_BYTES) continue;
    // Every entry is compared (no early exit), so the time taken does not tell which matched.
    if (timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}

/** Receiver side in one call: headers, the timestamp window and a `v1` signature by `secret`. */
export function verifyWebhook(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string | Buffer,
  nowMs: number = Date.now(),
): WebhookCheck {
  const read = readWebhookHeaders(headers);
  const check = checkWebhookHeaders(read, nowMs);
  if (!check.ok) return check;
  return webhookSignedWith(secret, read, body) ? { ok: true } : { ok: false, reason: 'signature' };
}
