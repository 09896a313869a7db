/**
 * KEK providers: what wraps and unwraps data keys. A provider has an `id` (written in the
 * header, so keep it stable and free of secrets), `wrap` and `unwrap`. Sync results are
 * allowed (a local key answers without a promise); remote ones (KMS, HSM) return promises.
 *
 * A provider must throw `CryptoError`s: `ERR_CRYPTO_DECRYPTION_FAILED` when a wrapped DEK does
 * not authenticate, `ERR_CRYPTO_KEK_UNAVAILABLE` when the key service cannot be reached or
 * refuses, `ERR_CRYPTO_KEY_DESTROYED` when the key is gone for good.
 */
import type { MaybePromise } from './aead.js';
import { aes256Gcm } from './aead.js';
import { randomBytes, utf8 } from './bytes.js';
import { CryptoError, decryptionFailed } from './errors.js';
import { aesKwpUnwrap, aesKwpWrap, aesKwUnwrap, aesKwWrap } from './keywrap.js';
import { type Backend, defaultBackend } from './native.js';

export type { MaybePromise } from './aead.js';

/**
 * A key-encryption key: wraps and unwraps 32-byte data keys.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type KekProvider, generateKey, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * // A provider is an id and two calls. This one forwards to a local key and counts the calls,
 * // where a real one would call a KMS or an HSM.
 * const inner = localKek({ id: 'hsm-slot-1', key: generateKey() });
 * let calls = 0;
 * const hsm: KekProvider = {
 *   id: 'hsm:slot-1',
 *   async wrap(dek) {
 *     calls++;
 *     return inner.wrap(dek);
 *   },
 *   async unwrap(wrapped) {
 *     calls++;
 *     return inner.unwrap(wrapped); // a wrapped key that does not authenticate: ERR_CRYPTO_DECRYPTION_FAILED
 *   },
 * };
 * const keyring = new Keyring([hsm]);
 * assert.deepEqual(await open(await seal(Uint8Array.of(7), { keyring }), { keyring }), Uint8Array.of(7));
 * assert.equal(calls, 2);
 * ```
 */
export interface KekProvider {
  /** Stable identifier written in every header (1–255 UTF-8 bytes). */
  readonly id: string;
  /** Wraps a data key. */
  wrap(dek: Uint8Array): MaybePromise<Uint8Array>;
  /** Unwraps a data key wrapped by this KEK. */
  unwrap(wrapped: Uint8Array): MaybePromise<Uint8Array>;
}

/**
 * How a local KEK wraps data keys.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, type LocalWrapping, localKek } from '@fluxel/crypto';
 *
 * const key = generateKey();
 * const dek = generateKey();
 * // Whatever a KEK wraps new keys with, it unwraps all three forms.
 * for (const wrapping of ['aes-gcm', 'aes-kw', 'aes-kwp'] satisfies LocalWrapping[]) {
 *   const wrapped = await localKek({ id: 'local-1', key, wrapping }).wrap(dek);
 *   assert.deepEqual(await localKek({ id: 'local-1', key }).unwrap(wrapped), dek);
 * }
 * ```
 */
export type LocalWrapping = 'aes-gcm' | 'aes-kw' | 'aes-kwp';

/**
 * Options of {@link localKek}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, type LocalKekOptions, localKek } from '@fluxel/crypto';
 *
 * const options: LocalKekOptions = { id: 'local:2026-11', key: generateKey(), wrapping: 'aes-kw' };
 * const kek = localKek(options);
 * assert.equal(kek.wrapping, 'aes-kw');
 * assert.equal((await kek.wrap(generateKey())).length, 41); // 01 ‖ AES-KW (RFC 3394)
 * ```
 */
export interface LocalKekOptions {
  /** Identifier written in headers, e.g. `"local:2026-11"`. */
  readonly id: string;
  /** The raw 256-bit key (copied). */
  readonly key: Uint8Array;
  /** Wrapping of new data keys; all three are unwrapped whatever this says. Default `aes-gcm`. */
  readonly wrapping?: LocalWrapping;
  /** Force an implementation (tests); default node:crypto where present. */
  readonly backend?: Backend;
}

/**
 * A local KEK, which can also be destroyed in memory.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, generateKey, Keyring, type LocalKek, localKek, seal } from '@fluxel/crypto';
 *
 * const kek: LocalKek = localKek({ id: 'local-1', key: generateKey() });
 * const keyring = new Keyring([kek]);
 * await seal(Uint8Array.of(1), { keyring });
 * kek.destroy(); // overwrites the key in memory
 * await assert.rejects(seal(Uint8Array.of(1), { keyring }), (error) =>
 *   CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_KEY_DESTROYED',
 * );
 * ```
 */
export interface LocalKek extends KekProvider {
  /** The wrapping used for new data keys. */
  readonly wrapping: LocalWrapping;
  /** Overwrites the key; every later wrap/unwrap fails with `ERR_CRYPTO_KEY_DESTROYED`. */
  destroy(): void;
}

const ALG_KW = 1;
const ALG_KWP = 2;
const ALG_GCM = 3;

/** Checks a KEK id: 1–255 UTF-8 bytes. */
export function checkKekId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || utf8(id).length > 255) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a KEK id is a string of 1 to 255 bytes');
  }
  return id;
}

/**
 * A KEK held in memory: a raw 256-bit key (for development, tests, or a key file — see the
 * `./node` subpath). Wrapped form: one algorithm byte (01 AES-KW, 02 AES-KWP, 03 AES-GCM) then
 * the RFC 3394 / RFC 5649 output, or `nonce(12) ‖ ciphertext(32) ‖ tag(16)` for AES-GCM with
 * AAD `"fluxel/kek/v1:" ‖ id`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * // In production the key comes from a secret store; here it is fresh.
 * const kek = localKek({ id: 'local:2026-11', key: generateKey() });
 * const keyring = new Keyring([kek]);
 * const sealed = await seal(new TextEncoder().encode('hello'), { keyring });
 * assert.equal(new TextDecoder().decode(await open(sealed, { keyring })), 'hello');
 * ```
 */
export function localKek(options: LocalKekOptions): LocalKek {
  const id = checkKekId(options.id);
  if (!(options.key instanceof Uint8Array) || options.key.length !== 32) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a local KEK is a 32-byte key');
  }
  const wrapping = options.wrapping ?? 'aes-gcm';
  if (wrapping !== 'aes-gcm' && wrapping !== 'aes-kw' && wrapping !== 'aes-kwp') {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `unknown wrapping ${String(wrapping)}`);
  }
  const backend = options.backend ?? defaultBackend;
  const key = options.key.slice();
  const gcm = aes256Gcm(backend);
  const aad = utf8(`fluxel/kek/v1:${id}`);
  let destroyed = false;

  const live = () => {
    if (destroyed) throw new CryptoError('ERR_CRYPTO_KEY_DESTROYED', `KEK ${id} was destroyed`);
  };

  const tagged = (alg: number, body: Uint8Array) => {
    const out = new Uint8Array(1 + body.length);
    out[0] = alg;
    out.set(body, 1);
    return out;
  };

  return {
    id,
    wrapping,
    wrap(dek) {
      live();
      if (wrapping === 'aes-gcm') {
        const out = new Uint8Array(1 + 12 + dek.length + 16);
        out[0] = ALG_GCM;
        const nonce = randomBytes(12);
        out.set(nonce, 1);
        const done = gcm.seal(key, nonce, dek, aad, out, 13);
        return done instanceof Promise ? done.then(() => out) : out;
      }
      if (wrapping === 'aes-kwp') return tagged(ALG_KWP, aesKwpWrap(key, dek, backend));
      const wrapped = aesKwWrap(key, dek, backend);
      return wrapped instanceof Promise
        ? wrapped.then((w) => tagged(ALG_KW, w))
        : tagged(ALG_KW, wrapped);
    },
    unwrap(wrapped) {
      live();
      const body = wrapped.subarray(1);
      switch (wrapped[0]) {
        case ALG_GCM:
          if (body.length < 12 + 16) throw decryptionFailed();
          return gcm.open(key, body.subarray(0, 12), body.subarray(12), aad);
        case ALG_KW:
          return aesKwUnwrap(key, body, backend);
        case ALG_KWP:
          return aesKwpUnwrap(key, body, backend);
        default:
          throw decryptionFailed();
      }
    },
    destroy() {
      key.fill(0);
      destroyed = true;
    },
  };
}

/**
 * A fresh random 256-bit key, e.g. for {@link localKek}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, localKek } from '@fluxel/crypto';
 *
 * const key = generateKey();
 * assert.equal(key.length, 32);
 * assert.notDeepEqual(key, generateKey());
 * assert.equal(localKek({ id: 'dev', key }).id, 'dev');
 * ```
 */
export function generateKey(): Uint8Array {
  return randomBytes(32);
}
