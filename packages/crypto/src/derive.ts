/**
 * The committing key schedule: per message,
 * `HKDF-Expand-SHA256(PRK = DEK, info = "fluxel/v1" ‖ suite id ‖ salt, 64)` — two HMAC-SHA256 —
 * gives 64 bytes; the first 32 are the message key, the last 32 the commitment stored in the
 * header and compared (in constant time) before decrypting. The DEK is 32 uniformly random
 * bytes, so it is used as the PRK directly (RFC 5869 section 3.3: Extract adds nothing for a
 * uniform key); the 32-byte random salt makes every message key distinct.
 */
import { equalBytes } from './bytes.js';
import { SALT_LENGTH } from './format.js';
import { hkdfExpand } from './hkdf.js';
import type { Suite } from './suites.js';

/** Length of a data key (DEK) in bytes. */
export const DEK_LENGTH = 32;

const INFO_PREFIX = /* @__PURE__ */ new TextEncoder().encode('fluxel/v1');
const info = /* @__PURE__ */ infoBuffer();

function infoBuffer(): Uint8Array {
  const bytes = new Uint8Array(INFO_PREFIX.length + 1 + SALT_LENGTH);
  bytes.set(INFO_PREFIX);
  return bytes;
}

/** A message key and its commitment. */
export interface MessageKey {
  readonly key: Uint8Array;
  readonly commitment: Uint8Array;
}

/** Derives the message key and commitment of a message from its DEK and salt. */
export function deriveMessageKey(dek: Uint8Array, salt: Uint8Array, suite: Suite): MessageKey {
  if (salt.length !== SALT_LENGTH) throw new RangeError('the salt is 32 bytes');
  // The info is public (the suite id and the salt from the header): one buffer, rewritten
  // per call and read synchronously by hkdfExpand, saves an allocation per record.
  info[INFO_PREFIX.length] = suite.id;
  info.set(salt, INFO_PREFIX.length + 1);
  const okm = hkdfExpand('sha256', dek, info, 64);
  return { key: okm.subarray(0, 32), commitment: okm.subarray(32, 64) };
}

/** Whether a derived commitment matches the header's, in constant time. */
export function commitmentMatches(derived: Uint8Array, stored: Uint8Array): boolean {
  return equalBytes(derived, stored);
}
