/**
 * HKDF (RFC 5869) with SHA-256 or SHA-512, synchronous: node:crypto on Node (`hkdfSync`, and
 * `createHmac` for a one-block Expand), `@noble/hashes` elsewhere (Web Crypto's HKDF is async
 * only, and a promise per record costs more than the few hash blocks it would save).
 */
import { expand, hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { type Backend, defaultBackend, nodeCrypto } from './native.js';

/** A hash HKDF can run on. */
export type HkdfHash = 'sha256' | 'sha512';

const NOBLE = { sha256, sha512 } as const;
const HASH_LENGTH = { sha256: 32, sha512: 64 } as const;
const EMPTY = new Uint8Array(0);

/** HKDF (Extract then Expand) of `ikm` with `salt` and `info`, `length` bytes. */
export function hkdf(
  hash: HkdfHash,
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
  backend: Backend = defaultBackend,
): Uint8Array {
  if (backend === 'node' && nodeCrypto) {
    return new Uint8Array(nodeCrypto.hkdfSync(hash, ikm, salt, info, length));
  }
  return nobleHkdf(NOBLE[hash], ikm, salt, info, length);
}

/**
 * HKDF-Expand (RFC 5869 section 2.3) of a pseudorandom key `prk` (at least the hash length),
 * `length` bytes: `T(i) = HMAC(prk, T(i-1) ‖ info ‖ i)`.
 */
export function hkdfExpand(
  hash: HkdfHash,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
  backend: Backend = defaultBackend,
): Uint8Array {
  const hashLength = HASH_LENGTH[hash];
  if (backend === 'node' && nodeCrypto && length <= 255 * hashLength) {
    if (prk.length < hashLength) throw new RangeError('HKDF-Expand: prk shorter than the hash');
    const out = new Uint8Array(length);
    let previous: Uint8Array = EMPTY;
    const counter = new Uint8Array(1);
    for (let at = 0, i = 1; at < length; at += hashLength, i++) {
      counter[0] = i;
      const block = nodeCrypto
        .createHmac(hash, prk)
        .update(previous)
        .update(info)
        .update(counter)
        .digest();
      out.set(block.subarray(0, Math.min(hashLength, length - at)), at);
      previous = block;
    }
    return out;
  }
  return expand(NOBLE[hash], prk, info, length);
}
