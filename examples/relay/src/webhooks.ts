/**
 * Standard Webhooks verification: HMAC-SHA256 over `${id}.${timestamp}.${body}` with the
 * base64 key of a `whsec_` secret, compared in constant time against each `v1,<base64>`
 * signature in `webhook-signature`; the timestamp must be within the tolerance of now.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

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

function key(secret: string): Buffer | undefined {
  if (!secret.startsWith('whsec_')) return undefined;
  const raw = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return raw.length >= 16 ? raw : undefined;
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
  const k = key(secret);
  if (!k || !headers.id || !headers.timestamp || !headers.signature) return false;
  const expected = createHmac('sha256', k)
    .update(`${headers.id}.${headers.timestamp}.`)
    .update(body)
    .digest();
  for (const part of headers.signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  return false;
}
