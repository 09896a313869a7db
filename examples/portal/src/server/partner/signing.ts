/**
 * Standard Webhooks (https://www.standardwebhooks.com/) for partner deliveries: the signed
 * content is `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 under the base64 key of a
 * `whsec_` secret, sent as `webhook-signature: v1,<base64>` (several space-separated values are
 * allowed while a secret rotates). `verifyWebhook` is what a partner runs; the tests use it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
/** How far a receiver should accept the timestamp from its own clock (Standard Webhooks: 5 min). */
export const WEBHOOK_TOLERANCE_S = 300;

/** A new signing secret: `whsec_` + 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('webhook secrets start with whsec_');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length < 24) throw new Error('webhook secret too short');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. */
export function signWebhookPayload(
  secret: string,
  id: string,
  timestampS: number,
  body: string,
): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestampS}.${body}`).digest();
  return `v1,${mac.toString('base64')}`;
}

/** The three Standard Webhooks headers for one message. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampS: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': signWebhookPayload(secret, id, timestampS, body),
  };
}

export type VerifyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing' | 'timestamp' | 'signature' };

/** Receiver side: checks the headers, the timestamp window and any `v1` signature. */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowMs: number = Date.now(),
): VerifyResult {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one('webhook-id');
  const ts = one('webhook-timestamp');
  const sig = one('webhook-signature');
  if (!id || !ts || !sig) return { ok: false, reason: 'missing' };
  const timestamp = Number(ts);
  if (!/^\d{1,12}$/.test(ts) || Math.abs(nowMs / 1000 - timestamp) > WEBHOOK_TOLERANCE_S)
    return { ok: false, reason: 'timestamp' };
  const expected = Buffer.from(signWebhookPayload(secret, id, timestamp, body).slice(3), 'base64');
  for (const part of sig.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'signature' };
}
