/**
 * The AEAD primitives behind the suites, one small function pair per algorithm and backend.
 * AES-256-GCM is always native (node:crypto on Node, Web Crypto elsewhere), never pure-JS AES;
 * XChaCha20-Poly1305 and AES-256-GCM-SIV come from `@noble/ciphers` (no native equivalent on
 * Node 20). Every authentication failure becomes the one `ERR_CRYPTO_DECRYPTION_FAILED`.
 */
import { gcmsiv } from '@noble/ciphers/aes.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { allocOutput } from './bytes.js';
import { decryptionFailed } from './errors.js';
import { type Backend, defaultBackend, nodeCrypto } from './native.js';

/** Tag length of every suite, in bytes. */
export const TAG_LENGTH = 16;

/** An incremental AEAD encryptor: `update` any number of times, then `final` gives the tag. */
export interface Sealer {
  /** Encrypts more plaintext, passing the ciphertext to `emit` (in one or more pieces). */
  update(plaintext: Uint8Array, emit: (ciphertext: Uint8Array) => void): void;
  /** Ends the message and returns its 16-byte tag. */
  final(): Uint8Array;
}

/**
 * A value or a promise of it: sync fast paths skip the promise.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type KekProvider, type MaybePromise, generateKey, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * // A provider may answer synchronously (a local key) or with a promise (a KMS round trip).
 * const local = localKek({ id: 'local-1', key: generateKey() });
 * const remote: KekProvider = {
 *   id: 'remote-1',
 *   wrap: async (dek): Promise<Uint8Array> => local.wrap(dek),
 *   unwrap: async (wrapped): Promise<Uint8Array> => local.unwrap(wrapped),
 * };
 * const unwrapped: MaybePromise<Uint8Array> = remote.unwrap(await remote.wrap(generateKey()));
 * assert.equal((await unwrapped).length, 32);
 * const keyring = new Keyring([remote]);
 * assert.deepEqual(await open(await seal(Uint8Array.of(1, 2), { keyring }), { keyring }), Uint8Array.of(1, 2));
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/** One AEAD algorithm with a 32-byte key and a 16-byte tag. */
export interface Aead {
  /** Nonce length in bytes. */
  readonly nonceLength: number;
  /**
   * Encrypts `plaintext` and writes `ciphertext ‖ tag` into `out` at `offset`
   * (`out` must have `plaintext.length + 16` bytes free there).
   */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): MaybePromise<void>;
  /**
   * An incremental encryptor, where the backend has one (node:crypto): streams feed it their
   * input as it arrives and emit its output buffers as they are, with no copy.
   */
  sealer?(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): Sealer;
  /** Decrypts `ciphertext ‖ tag`; any failure is `ERR_CRYPTO_DECRYPTION_FAILED`. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): MaybePromise<Uint8Array>;
}

// node:crypto returns a fresh buffer per update() and cannot encrypt into a given one, so a
// record is encrypted slice by slice and each slice's ciphertext copied into the output while
// it is still in cache. Every update() costs a few µs of call overhead: 64 KiB slices (16 per
// MiB, below glibc's default mmap threshold) cost ≈ 130 µs less CPU per 1 MiB seal than 16 KiB
// ones (docs/decisions/0016-crypto-node-streams-and-ceilings.md, section 6).
const NODE_SEAL_SLICE = 65536;
// A stream emits the ciphertext buffers as they are (no copy): larger pieces, fewer pushes.
const NODE_STREAM_SLICE = 65536;

function nodeGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const cipher = (nodeCrypto as NonNullable<typeof nodeCrypto>).createCipheriv(
    'aes-256-gcm',
    key,
    nonce,
  );
  cipher.setAAD(aad);
  let at = offset;
  for (let i = 0; i < plaintext.length; i += NODE_SEAL_SLICE) {
    const part = cipher.update(plaintext.subarray(i, i + NODE_SEAL_SLICE));
    out.set(part, at);
    at += part.length;
  }
  cipher.final();
  out.set(cipher.getAuthTag(), at);
}

function nodeGcmSealer(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): Sealer {
  const cipher = (nodeCrypto as NonNullable<typeof nodeCrypto>).createCipheriv(
    'aes-256-gcm',
    key,
    nonce,
  );
  cipher.setAAD(aad);
  return {
    update(plaintext, emit) {
      for (let i = 0; i < plaintext.length; i += NODE_STREAM_SLICE) {
        emit(cipher.update(plaintext.subarray(i, i + NODE_STREAM_SLICE)));
      }
    },
    final() {
      cipher.final();
      return cipher.getAuthTag();
    },
  };
}

function nodeGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (sealed.length < TAG_LENGTH) throw decryptionFailed();
  const end = sealed.length - TAG_LENGTH;
  try {
    const decipher = (nodeCrypto as NonNullable<typeof nodeCrypto>).createDecipheriv(
      'aes-256-gcm',
      key,
      nonce,
    );
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(end));
    const plaintext = decipher.update(sealed.subarray(0, end));
    decipher.final();
    return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length);
  } catch {
    throw decryptionFailed();
  }
}

async function webGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  offset: number,
): Promise<void> {
  const cryptoKey = await crypto.subtle.importKey('raw', key as BufferSource, 'AES-GCM', false, [
    'encrypt',
  ]);
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: aad as BufferSource },
    cryptoKey,
    plaintext as BufferSource,
  );
  out.set(new Uint8Array(sealed), offset);
}

async function webGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  if (sealed.length < TAG_LENGTH) throw decryptionFailed();
  try {
    const cryptoKey = await crypto.subtle.importKey('raw', key as BufferSource, 'AES-GCM', false, [
      'decrypt',
    ]);
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: aad as BufferSource },
      cryptoKey,
      sealed as BufferSource,
    );
    return new Uint8Array(plaintext);
  } catch {
    throw decryptionFailed();
  }
}

/** AES-256-GCM with a 12-byte nonce, on the given backend (default: node:crypto where present). */
export function aes256Gcm(backend: Backend = defaultBackend): Aead {
  return backend === 'node' && nodeCrypto
    ? { nonceLength: 12, seal: nodeGcmSeal, sealer: nodeGcmSealer, open: nodeGcmOpen }
    : { nonceLength: 12, seal: webGcmSeal, open: webGcmOpen };
}

type NobleAead = (
  key: Uint8Array,
  nonce: Uint8Array,
  aad?: Uint8Array,
) => {
  encrypt(plaintext: Uint8Array, output?: Uint8Array): Uint8Array;
  decrypt(sealed: Uint8Array): Uint8Array;
};

function noble(make: NobleAead, nonceLength: number): Aead {
  return {
    nonceLength,
    seal(key, nonce, plaintext, aad, out, offset) {
      out.set(make(key, nonce, aad).encrypt(plaintext), offset);
    },
    open(key, nonce, sealed, aad) {
      if (sealed.length < TAG_LENGTH) throw decryptionFailed();
      try {
        return make(key, nonce, aad).decrypt(sealed);
      } catch {
        throw decryptionFailed();
      }
    },
  };
}

/** XChaCha20-Poly1305 with a 24-byte nonce (`@noble/ciphers`). */
export const xchacha20Poly1305: Aead = /* @__PURE__ */ noble(
  xchacha20poly1305 as unknown as NobleAead,
  24,
);

/** AES-256-GCM-SIV (RFC 8452) with a 12-byte nonce (`@noble/ciphers`). */
export const aes256GcmSiv: Aead = /* @__PURE__ */ noble(gcmsiv as unknown as NobleAead, 12);

/** Seals into a fresh `ciphertext ‖ tag` array (a helper for tests and small values). */
export async function sealToArray(
  aead: Aead,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const out = allocOutput(plaintext.length + TAG_LENGTH);
  await aead.seal(key, nonce, plaintext, aad, out, 0);
  return out;
}
