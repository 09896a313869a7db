/**
 * AES-256 key wrapping: AES-KW (RFC 3394) and AES-KWP (RFC 5649). Through node:crypto
 * (`id-aes256-wrap`, `id-aes256-wrap-pad`, synchronous) where the runtime's node:crypto passes
 * a known-answer probe of that cipher (Node does; Bun and Deno have neither cipher); otherwise
 * AES-KW through Web Crypto and AES-KWP through `@noble/ciphers` (Web Crypto has no KWP). Both
 * paths give the same bytes, so a key wrapped on one runtime unwraps on every other. Unwrap
 * failures are `ERR_CRYPTO_DECRYPTION_FAILED`; a runtime with neither path is
 * `ERR_CRYPTO_UNSUPPORTED_RUNTIME`.
 */
import { aeskwp } from '@noble/ciphers/aes.js';
import { equalBytes } from '../../internal/src/base64url.js';
import { nativeCapability, runtimeName } from '../../internal/src/capability.js';
import type { MaybePromise } from './aead.js';
import { concat } from './bytes.js';
import { CryptoError, decryptionFailed } from './errors.js';
import { type Backend, defaultBackend, type NodeCrypto, nodeCrypto } from './native.js';

const KW_IV = /* @__PURE__ */ Uint8Array.of(0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6);
const KWP_IV = /* @__PURE__ */ Uint8Array.of(0xa6, 0x59, 0x59, 0xa6);

function checkKek(kek: Uint8Array): void {
  if (!(kek instanceof Uint8Array) || kek.length !== 32) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'an AES-256 KEK is 32 bytes');
  }
}

function nodeRun(
  node: NodeCrypto,
  algorithm: string,
  iv: Uint8Array,
  kek: Uint8Array,
  input: Uint8Array,
  decrypt: boolean,
) {
  const cipher = decrypt
    ? node.createDecipheriv(algorithm, kek, iv)
    : node.createCipheriv(algorithm, kek, iv);
  return concat(cipher.update(input), cipher.final());
}

const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));

// RFC 3394 section 4.6: a 256-bit key wrapped with a 256-bit KEK. The same KEK and the first 20
// bytes of that key wrapped with AES-KWP (a length that needs padding), as both OpenSSL and
// @noble/ciphers compute it (RFC 5649 publishes vectors for 192-bit KEKs only).
const PROBE_KEK = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const PROBE_KEY = '00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f';
const PROBE_KW = '28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21';
const PROBE_KWP = '2ec848c1a77981da003e3ce3b028c5e46ba5bebc032dce29eb892a57092d5c09';

function probeWrap(
  node: NodeCrypto,
  algorithm: string,
  iv: Uint8Array,
  key: Uint8Array,
  wrapped: string,
) {
  const kek = hex(PROBE_KEK);
  const expected = hex(wrapped);
  return (
    equalBytes(nodeRun(node, algorithm, iv, kek, key, false), expected) &&
    equalBytes(nodeRun(node, algorithm, iv, kek, expected, true), key)
  );
}

/** Known-answer probe of node:crypto's `id-aes256-wrap` (wrap and unwrap). */
export function probeAesKw(node: NodeCrypto): boolean {
  return probeWrap(node, 'id-aes256-wrap', KW_IV, hex(PROBE_KEY), PROBE_KW);
}

/** Known-answer probe of node:crypto's `id-aes256-wrap-pad` (wrap and unwrap). */
export function probeAesKwp(node: NodeCrypto): boolean {
  return probeWrap(node, 'id-aes256-wrap-pad', KWP_IV, hex(PROBE_KEY).subarray(0, 20), PROBE_KWP);
}

/** node:crypto for AES-KW when `backend` is `node` and its probe passed (once, cached). */
function nativeKw(backend: Backend) {
  return backend === 'node' ? nativeCapability(nodeCrypto, 'aes-kw', probeAesKw) : undefined;
}

/** node:crypto for AES-KWP when `backend` is `node` and its probe passed (once, cached). */
function nativeKwp(backend: Backend) {
  return backend === 'node' ? nativeCapability(nodeCrypto, 'aes-kwp', probeAesKwp) : undefined;
}

/** AES-KW (RFC 3394) wrap of `key` (16 bytes or more, a multiple of 8) under a 32-byte KEK. */
export function aesKwWrap(
  kek: Uint8Array,
  key: Uint8Array,
  backend: Backend = defaultBackend,
): MaybePromise<Uint8Array> {
  checkKek(kek);
  if (key.length < 16 || key.length % 8 !== 0) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'AES-KW wraps 16+ bytes, a multiple of 8');
  }
  const node = nativeKw(backend);
  if (node) return nodeRun(node, 'id-aes256-wrap', KW_IV, kek, key, false);
  return webKw(kek, key, false);
}

/** AES-KW (RFC 3394) unwrap; an integrity failure is `ERR_CRYPTO_DECRYPTION_FAILED`. */
export function aesKwUnwrap(
  kek: Uint8Array,
  wrapped: Uint8Array,
  backend: Backend = defaultBackend,
): MaybePromise<Uint8Array> {
  checkKek(kek);
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) throw decryptionFailed();
  const node = nativeKw(backend);
  if (node) {
    try {
      return nodeRun(node, 'id-aes256-wrap', KW_IV, kek, wrapped, true);
    } catch {
      throw decryptionFailed();
    }
  }
  return webKw(kek, wrapped, true);
}

/** AES-KW is in neither node:crypto nor Web Crypto here. */
function kwUnsupported(cause?: unknown): CryptoError {
  return new CryptoError(
    'ERR_CRYPTO_UNSUPPORTED_RUNTIME',
    `AES-KW is not available on ${runtimeName()}: node:crypto has no id-aes256-wrap and Web Crypto has no AES-KW (crypto.subtle needs a secure context); wrap new data keys with 'aes-gcm' or 'aes-kwp'`,
    cause === undefined ? undefined : { cause },
  );
}

async function webKw(kek: Uint8Array, input: Uint8Array, unwrap: boolean): Promise<Uint8Array> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) throw kwUnsupported();
  let wrappingKey: CryptoKey;
  try {
    wrappingKey = await subtle.importKey('raw', kek as BufferSource, 'AES-KW', false, [
      'wrapKey',
      'unwrapKey',
    ]);
  } catch (cause) {
    throw kwUnsupported(cause);
  }
  // Web Crypto wraps keys, not bytes: the bytes travel as an extractable HMAC key.
  const asKey = { name: 'HMAC', hash: 'SHA-256', length: input.length * 8 };
  if (!unwrap) {
    const key = await subtle.importKey('raw', input as BufferSource, asKey, true, ['sign']);
    return new Uint8Array(await subtle.wrapKey('raw', key, wrappingKey, 'AES-KW'));
  }
  try {
    const key = await subtle.unwrapKey(
      'raw',
      input as BufferSource,
      wrappingKey,
      'AES-KW',
      { name: 'HMAC', hash: 'SHA-256', length: (input.length - 8) * 8 },
      true,
      ['sign'],
    );
    return new Uint8Array(await subtle.exportKey('raw', key));
  } catch {
    throw decryptionFailed();
  }
}

/** AES-KWP (RFC 5649) wrap of `key` (1 byte or more) under a 32-byte KEK. */
export function aesKwpWrap(
  kek: Uint8Array,
  key: Uint8Array,
  backend: Backend = defaultBackend,
): Uint8Array {
  checkKek(kek);
  if (key.length < 1) throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'nothing to wrap');
  const node = nativeKwp(backend);
  if (node) return nodeRun(node, 'id-aes256-wrap-pad', KWP_IV, kek, key, false);
  return aeskwp(kek).encrypt(key);
}

/** AES-KWP (RFC 5649) unwrap; an integrity failure is `ERR_CRYPTO_DECRYPTION_FAILED`. */
export function aesKwpUnwrap(
  kek: Uint8Array,
  wrapped: Uint8Array,
  backend: Backend = defaultBackend,
): Uint8Array {
  checkKek(kek);
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) throw decryptionFailed();
  const node = nativeKwp(backend);
  try {
    if (node) return nodeRun(node, 'id-aes256-wrap-pad', KWP_IV, kek, wrapped, true);
    return aeskwp(kek).decrypt(wrapped);
  } catch {
    throw decryptionFailed();
  }
}
