/**
 * The relay's rules around Standard Webhooks (signing and verification are the kit's,
 * `@fluxel-example/kit/webhooks`): how long an accepted id is remembered, and the domain error
 * for a secret stored with credentials that could never verify anything.
 */
import {
  WEBHOOK_SECRET_MIN_BYTES,
  WEBHOOK_TOLERANCE_SECONDS,
  webhookKey,
} from '@fluxel-example/kit/webhooks';

/**
 * How long an accepted webhook id is remembered after its timestamp (or its arrival, if
 * later): the tolerance window plus a minute for clocks that differ between relay instances.
 * Past that the same signed message is refused as stale, so replaying it stores nothing.
 */
export const WEBHOOK_SEEN_MS = (WEBHOOK_TOLERANCE_SECONDS + 60) * 1000;

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
