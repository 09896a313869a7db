/**
 * Standard Webhooks verification (https://www.standardwebhooks.com/): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the base64 key of the secret (`whsec_` prefix optional, as
 * the spec allows; at least 24 bytes), compared in constant time against each space-separated
 * `v1,<base64>` signature in `webhook-signature` — each exactly one 32-byte MAC in canonical
 * base64, anything else (junk appended, a truncated MAC, other alphabets) does not count; the
 * timestamp must be within the tolerance of now.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/**
 * How long an accepted webhook id is remembered after its timestamp (or its arrival, if
 * later): the tolerance window plus a minute for clocks that differ between relay instances.
 * Past that the same signed message is refused as stale, so replaying it stores nothing.
 */
export const WEBHOOK_SEEN_MS = (WEBHOOK_TOLERANCE_SECONDS + 60) * 1000;

/** The shortest webhook key the relay accepts (bytes, after base64 decoding). */
export const WEBHOOK_SECRET_MIN_BYTES = 24;

const PREFIX = 'whsec_';
const MAC_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type WebhookCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'missing-headers' | 'stale-timestamp' | 'bad-signature';
    };

export interface WebhookHeaders {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
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

/**
 * A webhook secret the relay could never verify with. Domain error: the HTTP layer
 * (`http.ts`) answers it 400 `ERR_WEBHOOK_SECRET_INVALID` with {@link detail} as the problem's
 * detail.
 */
export class WebhookSecretInvalidError extends Error {
  readonly code = 'ERR_WEBHOOK_SECRET_INVALID';
  readonly detail =
    `use canonical base64 of at least ${WEBHOOK_SECRET_MIN_BYTES} random bytes, optionally prefixed "whsec_" (e.g. the secret the third party shows, or "whsec_" + 32 random bytes in base64)`;
  constructor() {
    super('the webhookSecret is not a usable Standard Webhooks secret');
    this.name = 'WebhookSecretInvalidError';
  }
}

/**
 * Refuses a webhook secret the relay could never verify with (checked when credentials are
 * stored, so a weak or mistyped secret fails there and not silently at the first webhook).
 * The secret itself is never part of the error.
 */
export function requireWebhookSecret(secret: string): void {
  if (webhookKey(secret)) return;
  throw new WebhookSecretInvalidError();
}

/** Checks headers and timestamp (independent of the secret). */
export function checkWebhookHeaders(headers: WebhookHeaders, nowMs: number): WebhookCheck {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || id.length > 128 || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'missing-headers' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS)
    return { ok: false, reason: 'stale-timestamp' };
  return { ok: true };
}

/** Whether one of the message's signatures was made with `secret`. */
export function webhookSignedWith(secret: string, headers: WebhookHeaders, body: Buffer): boolean {
  const k = webhookKey(secret);
  if (!k || !headers.id || !headers.timestamp || !headers.signature) return false;
  const expected = createHmac('sha256', k)
    .update(`${headers.id}.${headers.timestamp}.`)
    .update(body)
    .digest();
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
