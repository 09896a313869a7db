/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, signed with HMAC-SHA256 under the base64 key
 * of the secret (`whsec_` prefix optional), sent as `webhook-signature: v1,<base64>`.
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** The shortest key the relay accepts (bytes). */
export const WEBHOOK_SECRET_MIN_BYTES = 24;

/** A fresh `whsec_` secret (32 random bytes). */
export function generateWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * The raw HMAC key of a secret: base64, the `whsec_` prefix optional (as Standard Webhooks
 * allows), at least 24 bytes.
 */
export function webhookKey(secret: string): Buffer {
  const text = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  const key = Buffer.from(text, 'base64');
  if (key.toString('base64') !== text) throw new Error('a webhook secret is base64');
  if (key.length < WEBHOOK_SECRET_MIN_BYTES)
    throw new Error(`a webhook secret holds at least ${WEBHOOK_SECRET_MIN_BYTES} bytes`);
  return key;
}

/** The `webhook-signature` value (`v1,<base64>`) of one message. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', webhookKey(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}
