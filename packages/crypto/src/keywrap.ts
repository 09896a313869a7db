/**
 * AES-256 key wrapping: AES-KW (RFC 3394) and AES-KWP (RFC 5649). On Node through node:crypto
 * (`id-aes256-wrap`, `id-aes256-wrap-pad`, synchronous); elsewhere AES-KW through Web Crypto and
 * AES-KWP through `@noble/ciphers` (Web Crypto has no KWP). Unwrap failures are
 * `ERR_CRYPTO_DECRYPTION_FAILED`.
 */
import { aeskwp } from '@noble/ciphers/aes.js';
import type { MaybePromise } from './aead.js';
import { concat } from './bytes.js';
import { CryptoError, decryptionFailed } from './errors.js';
import { type Backend, defaultBackend, nodeCrypto } from './native.js';

const KW_IV = /* @__PURE__ */ Uint8Array.of(0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6);
const KWP_IV = /* @__PURE__ */ Uint8Array.of(0xa6, 0x59, 0x59, 0xa6);

function checkKek(kek: Uint8Array): void {
  if (!(kek instanceof Uint8Array) || kek.length !== 32) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'an AES-256 KEK is 32 bytes');
  }
}

function nodeRun(
  algorithm: string,
  iv: Uint8Array,
  kek: Uint8Array,
  input: Uint8Array,
  decrypt: boolean,
) {
  const node = nodeCrypto as NonNullable<typeof nodeCrypto>;
  const cipher = decrypt
    ? node.createDecipheriv(algorithm, kek, iv)
    : node.createCipheriv(algorithm, kek, iv);
  return concat(cipher.update(input), cipher.final());
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
  if (backend === 'node' && nodeCrypto) return nodeRun('id-aes256-wrap', KW_IV, kek, key, false);
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
  if (backend === 'node' && nodeCrypto) {
    try {
      return nodeRun('id-aes256-wrap', KW_IV, kek, wrapped, true);
    } catch {
      throw decryptionFailed();
    }
  }
  return webKw(kek, wrapped, true);
}

async function webKw(kek: Uint8Array, input: Uint8Array, unwrap: boolean): Promise<Uint8Array> {
  const wrappingKey = await crypto.subtle.importKey('raw', kek as BufferSource, 'AES-KW', false, [
    'wrapKey',
    'unwrapKey',
  ]);
  // Web Crypto wraps keys, not bytes: the bytes travel as an extractable HMAC key.
  const asKey = { name: 'HMAC', hash: 'SHA-256', length: input.length * 8 };
  if (!unwrap) {
    const key = await crypto.subtle.importKey('raw', input as BufferSource, asKey, true, ['sign']);
    return new Uint8Array(await crypto.subtle.wrapKey('raw', key, wrappingKey, 'AES-KW'));
  }
  try {
    const key = await crypto.subtle.unwrapKey(
      'raw',
      input as BufferSource,
      wrappingKey,
      'AES-KW',
      { name: 'HMAC', hash: 'SHA-256', length: (input.length - 8) * 8 },
      true,
      ['sign'],
    );
    return new Uint8Array(await crypto.subtle.exportKey('raw', key));
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
  if (backend === 'node' && nodeCrypto)
    return nodeRun('id-aes256-wrap-pad', KWP_IV, kek, key, false);
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
  try {
    if (backend === 'node' && nodeCrypto) {
      return nodeRun('id-aes256-wrap-pad', KWP_IV, kek, wrapped, true);
    }
    return aeskwp(kek).decrypt(wrapped);
  } catch {
    throw decryptionFailed();
  }
}
