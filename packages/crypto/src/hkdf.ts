/**
 * HKDF (RFC 5869) with SHA-256 or SHA-512, synchronous: node:crypto on Node (`hkdfSync`; for
 * Expand alone, HMAC written out over the one-shot `crypto.hash` where it exists, else
 * `createHmac`), `@noble/hashes` elsewhere (Web Crypto's HKDF is async only, and a promise per
 * record costs more than the few hash blocks it would save).
 */
import { expand, hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { type Backend, defaultBackend, type NodeCrypto, nodeCrypto } from './native.js';

/** A hash HKDF can run on. */
export type HkdfHash = 'sha256' | 'sha512';

const NOBLE = { sha256, sha512 } as const;
const HASH_LENGTH = { sha256: 32, sha512: 64 } as const;
const BLOCK_LENGTH = { sha256: 64, sha512: 128 } as const;
const EMPTY = new Uint8Array(0);

/**
 * node:crypto's one-shot `hash(algorithm, data, 'latin1')` (Node >= 20.12): the digest as a
 * latin1 string, one character per byte, which costs about half of a `'buffer'` result (no
 * backing store to allocate).
 */
export type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'latin1') => string;

/**
 * The one-shot hash, when the runtime has one that gives the right answer (checked once
 * against the FIPS 180-2 "abc" vector, so a look-alike module falls back to `createHmac`).
 * A `createHmac` object per HMAC costs about four one-shot hashes, and the commitment HKDF of
 * every record is two HMACs.
 */
function findOneShotHash(): OneShotHash | undefined {
  const candidate = (nodeCrypto as { hash?: unknown } | undefined)?.hash;
  if (typeof candidate !== 'function') return undefined;
  try {
    const hash = candidate as OneShotHash;
    const digest = hash('sha256', Uint8Array.of(0x61, 0x62, 0x63), 'latin1');
    return typeof digest === 'string' &&
      digest.length === 32 &&
      digest.charCodeAt(0) === 0xba &&
      digest.charCodeAt(31) === 0xad
      ? hash
      : undefined;
  } catch {
    return undefined;
  }
}

const oneShotHash: OneShotHash | undefined = /* @__PURE__ */ findOneShotHash();

/** Writes the first `n` characters of a latin1 digest as bytes at `at`. */
function putLatin1(digest: string, out: Uint8Array, at: number, n: number): void {
  for (let i = 0; i < n; i++) out[at + i] = digest.charCodeAt(i);
}

// Reused between calls (never across an await), and wiped before each call returns: a fresh
// small Uint8Array costs about a third of a hash here.
let innerScratch = new Uint8Array(0);
const outerScratch = new Uint8Array(128 + 64);

/**
 * HKDF-Expand as HMAC written out (RFC 2104) over a one-shot hash:
 * `HMAC(K, m) = H((K0 ⊕ opad) ‖ H((K0 ⊕ ipad) ‖ m))`, two hash calls per output block and no
 * HMAC object. The padded keys are wiped before returning. @internal (exported for tests)
 */
export function expandOneShot(
  hashFn: OneShotHash,
  hash: HkdfHash,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const block = BLOCK_LENGTH[hash];
  const hashLength = HASH_LENGTH[hash];
  let key = prk;
  if (prk.length > block) {
    key = new Uint8Array(hashLength);
    putLatin1(hashFn(hash, prk, 'latin1'), key, 0, hashLength);
  }
  // inner = (K0 ⊕ ipad) ‖ T(i-1) ‖ info ‖ i; outer = (K0 ⊕ opad) ‖ H(inner)
  const innerLength = block + hashLength + info.length + 1;
  if (innerScratch.length < innerLength) innerScratch = new Uint8Array(innerLength);
  const inner = innerScratch;
  const outer = outerScratch.subarray(0, block + hashLength);
  inner.fill(0x36, 0, block);
  outer.fill(0x5c, 0, block);
  for (let i = 0; i < key.length; i++) {
    inner[i] = 0x36 ^ (key[i] as number);
    outer[i] = 0x5c ^ (key[i] as number);
  }
  const out = new Uint8Array(length);
  let previous = 0;
  try {
    for (let at = 0, i = 1; at < length; at += hashLength, i++) {
      inner.set(info, block + previous);
      const end = block + previous + info.length + 1;
      inner[end - 1] = i;
      putLatin1(hashFn(hash, inner.subarray(0, end), 'latin1'), outer, block, hashLength);
      const t = hashFn(hash, outer, 'latin1');
      putLatin1(t, out, at, Math.min(hashLength, length - at));
      if (at + hashLength >= length) break; // the last block: T(i) is not hashed again
      putLatin1(t, inner, block, hashLength);
      previous = hashLength;
    }
  } finally {
    inner.fill(0, 0, innerLength);
    outer.fill(0);
  }
  if (key !== prk) key.fill(0);
  return out;
}

/** HKDF-Expand with one `createHmac` per output block. @internal (exported for tests) */
export function expandHmac(
  node: NodeCrypto,
  hash: HkdfHash,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const hashLength = HASH_LENGTH[hash];
  const out = new Uint8Array(length);
  let previous: Uint8Array = EMPTY;
  const counter = new Uint8Array(1);
  for (let at = 0, i = 1; at < length; at += hashLength, i++) {
    counter[0] = i;
    const block = node.createHmac(hash, prk).update(previous).update(info).update(counter).digest();
    out.set(block.subarray(0, Math.min(hashLength, length - at)), at);
    previous = block;
  }
  return out;
}

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
    return oneShotHash
      ? expandOneShot(oneShotHash, hash, prk, info, length)
      : expandHmac(nodeCrypto, hash, prk, info, length);
  }
  return expand(NOBLE[hash], prk, info, length);
}
