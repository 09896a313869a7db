/**
 * The fingerprint of a `send` body kept on its idempotency record, to tell a retry (same
 * body) from a reused key (another body). Keyed (HMAC-SHA-256 with a relay secret), so the
 * table does not let whoever reads it confirm a guess of a body; stored as `hmac:<base64url>`.
 *
 * Records written before the key existed hold a bare SHA-256 (`<base64url>`, no prefix). They
 * still match the same body (compared as they were written), so a retry of a send made just
 * before an upgrade is replayed, not refused as a conflict — and never forwarded twice. They
 * age out with the idempotency window.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'hmac:';

/** The fingerprint to store for `body`. */
export function bodyHash(key: Uint8Array, body: Uint8Array): string {
  return PREFIX + createHmac('sha256', key).update(body).digest('base64url');
}

/** Whether `stored` (this module's or a pre-upgrade bare SHA-256) is the fingerprint of `body`. */
export function sameBody(key: Uint8Array, stored: unknown, body: Uint8Array): boolean {
  if (typeof stored !== 'string') return false;
  const expected = stored.startsWith(PREFIX)
    ? bodyHash(key, body)
    : createHash('sha256').update(body).digest('base64url');
  const a = Buffer.from(stored);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
