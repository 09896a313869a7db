/**
 * The fingerprint of a `send` body kept on its idempotency record, to tell a retry (same
 * body) from a reused key (another body). Keyed (HMAC-SHA-256 with a relay secret), so the
 * table does not let whoever reads it confirm a guess of a body.
 *
 * The body is hashed once per request: the fingerprint is the HMAC of the body's SHA-256,
 * the digest the DPoP proof's `cdg` already bound and the license authority checked
 * (`VerifiedProof.bodyDigest`), stored as `hmac-d:<base64url>`. Records of earlier versions
 * still match the same body, compared as they were written — `hmac:<base64url>` (HMAC of the
 * body itself) and a bare SHA-256 (`<base64url>`, no prefix, which is the digest) — so a retry
 * of a send made just before an upgrade is replayed, not refused as a conflict, and never
 * forwarded twice. They age out with the idempotency window.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'hmac-d:';
const BODY_PREFIX = 'hmac:';

/** The SHA-256 of `body`, base64url (as DPoP's `cdg`), for a body no proof hashed. */
export function bodyDigest(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** The fingerprint to store for a body whose SHA-256 is `digest` ({@link bodyDigest}). */
export function bodyHash(key: Uint8Array, digest: string): string {
  return PREFIX + createHmac('sha256', key).update(digest).digest('base64url');
}

/**
 * Whether `stored` (this module's, or an earlier version's) is the fingerprint of the body
 * `body` whose SHA-256 is `digest`.
 */
export function sameBody(
  key: Uint8Array,
  stored: unknown,
  body: Uint8Array,
  digest: string,
): boolean {
  if (typeof stored !== 'string') return false;
  const expected = stored.startsWith(PREFIX)
    ? bodyHash(key, digest)
    : stored.startsWith(BODY_PREFIX)
      ? BODY_PREFIX + createHmac('sha256', key).update(body).digest('base64url')
      : digest;
  const a = Buffer.from(stored);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
