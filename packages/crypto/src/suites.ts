/**
 * The algorithm suites of format version 1. A suite fixes the AEAD, its nonce length and the
 * committing key derivation (HKDF-SHA256 → 32-byte message key ‖ 32-byte commitment).
 */
import { type Aead, aes256Gcm, aes256GcmSiv, xchacha20Poly1305 } from './aead.js';
import { CryptoError } from './errors.js';
import { type Backend, defaultBackend } from './native.js';

/**
 * Names of the suites a ciphertext can use.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, open, type SuiteName, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * // Nonce-misuse resistant, for when the random source is in doubt.
 * const suite: SuiteName = 'aes-256-gcm-siv';
 * const sealed = await seal(Uint8Array.of(1, 2), { keyring, suite });
 * assert.equal(inspect(sealed).suite, suite);
 * assert.deepEqual(await open(sealed, { keyring }), Uint8Array.of(1, 2)); // the header names the suite
 * ```
 */
export type SuiteName = 'aes-256-gcm' | 'xchacha20-poly1305' | 'aes-256-gcm-siv';

/**
 * The suites, in id order (`SUITES[id - 1]`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, SUITES, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * for (const suite of SUITES) {
 *   const sealed = await seal(Uint8Array.of(1), { keyring, suite });
 *   assert.equal(sealed[4], SUITES.indexOf(suite) + 1); // the suite id byte of the header
 *   assert.equal(inspect(sealed).suite, suite);
 * }
 * ```
 */
export const SUITES: readonly SuiteName[] = [
  'aes-256-gcm',
  'xchacha20-poly1305',
  'aes-256-gcm-siv',
];

/**
 * The suite used when none is named.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DEFAULT_SUITE, generateKey, inspect, Keyring, localKek, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * assert.equal(DEFAULT_SUITE, 'aes-256-gcm');
 * assert.equal(inspect(await seal(Uint8Array.of(1), { keyring })).suite, DEFAULT_SUITE);
 * ```
 */
export const DEFAULT_SUITE: SuiteName = 'aes-256-gcm';

/** A suite resolved to its id and AEAD. */
export interface Suite {
  readonly name: SuiteName;
  /** The byte written in the header. */
  readonly id: number;
  readonly aead: Aead;
}

const cache: Record<Backend, (Suite | undefined)[]> = { node: [], web: [] };

function build(name: SuiteName, backend: Backend): Suite {
  const id = SUITES.indexOf(name) + 1;
  const aead =
    name === 'aes-256-gcm'
      ? aes256Gcm(backend)
      : name === 'xchacha20-poly1305'
        ? xchacha20Poly1305
        : aes256GcmSiv;
  return { name, id, aead };
}

/** The suite of a name; anything else is `ERR_CRYPTO_UNSUPPORTED_SUITE`. */
export function suiteByName(name: string, backend: Backend = defaultBackend): Suite {
  if (!(SUITES as readonly string[]).includes(name)) {
    throw new CryptoError('ERR_CRYPTO_UNSUPPORTED_SUITE', `unknown suite ${JSON.stringify(name)}`);
  }
  return suiteById(SUITES.indexOf(name as SuiteName) + 1, backend);
}

/** The suite of a header byte; anything else is `ERR_CRYPTO_UNSUPPORTED_SUITE`. */
export function suiteById(id: number, backend: Backend = defaultBackend): Suite {
  const known = cache[backend][id];
  if (known) return known;
  const name = SUITES[id - 1];
  if (!name) throw new CryptoError('ERR_CRYPTO_UNSUPPORTED_SUITE', `unknown suite id ${id}`);
  const suite = build(name, backend);
  cache[backend][id] = suite;
  return suite;
}
