/**
 * The one error class of `@fluxel/crypto`. Every failure carries a stable `code` from
 * {@link CryptoErrorCode}; match on the code, never on the message.
 */
import {
  brandErrorClass,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from '../../internal/src/errors.js';

/**
 * Shared by every `@fluxel` package and re-exported here: `FluxelError`, the base class of
 * their errors; `FluxelErrorOptions`, what every error constructor takes; `isFluxelError`,
 * whether a value is such an error (across copies of the packages).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, FluxelError } from '@fluxel/crypto';
 *
 * const error = new CryptoError('ERR_CRYPTO_KEK_UNAVAILABLE', 'the KMS did not answer');
 * assert.ok(error instanceof FluxelError);
 * assert.equal(error.package, '@fluxel/crypto');
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, type FluxelErrorOptions } from '@fluxel/crypto';
 *
 * const options: FluxelErrorOptions = { cause: new Error('socket hang up') };
 * assert.ok(new CryptoError('ERR_CRYPTO_KEK_UNAVAILABLE', 'KMS unreachable', options).cause instanceof Error);
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, isFluxelError } from '@fluxel/crypto/errors';
 *
 * assert.equal(isFluxelError(new CryptoError('ERR_CRYPTO_MALFORMED', 'not a Fluxel ciphertext')), true);
 * assert.equal(isFluxelError(new Error('plain')), false);
 * ```
 */
export { FluxelError, type FluxelErrorOptions, isFluxelError };

/**
 * Every code a {@link CryptoError} can carry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CRYPTO_ERROR_CODES } from '@fluxel/crypto/errors';
 *
 * assert.ok(CRYPTO_ERROR_CODES.includes('ERR_CRYPTO_DECRYPTION_FAILED'));
 * ```
 */
export const CRYPTO_ERROR_CODES = [
  'ERR_CRYPTO_DECRYPTION_FAILED',
  'ERR_CRYPTO_MALFORMED',
  'ERR_CRYPTO_UNSUPPORTED_VERSION',
  'ERR_CRYPTO_UNSUPPORTED_SUITE',
  'ERR_CRYPTO_UNKNOWN_KEK',
  'ERR_CRYPTO_KEK_UNAVAILABLE',
  'ERR_CRYPTO_KEY_DESTROYED',
  'ERR_CRYPTO_INVALID_ARGUMENT',
  'ERR_CRYPTO_UNSUPPORTED_RUNTIME',
] as const;

/**
 * A stable error code of `@fluxel/crypto`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, type CryptoErrorCode } from '@fluxel/crypto/errors';
 *
 * const code: CryptoErrorCode = 'ERR_CRYPTO_KEY_DESTROYED';
 * assert.equal(new CryptoError(code, 'the key of subject acme was destroyed').code, code);
 * ```
 */
export type CryptoErrorCode = (typeof CRYPTO_ERROR_CODES)[number];

/**
 * The error thrown by `@fluxel/crypto`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, generateKey, Keyring, localKek, open } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * try {
 *   await open(new TextEncoder().encode('not a ciphertext'), { keyring });
 * } catch (error) {
 *   // Match on the code, never on the message.
 *   assert.ok(CryptoError.isInstance(error));
 *   assert.equal(error.code, 'ERR_CRYPTO_MALFORMED');
 * }
 * ```
 */
export class CryptoError extends FluxelError<CryptoErrorCode> {
  /** Always the class name, for logs and `toString()`. */
  override readonly name = 'CryptoError';
  /** The package that raised the error. */
  readonly package = '@fluxel/crypto';

  /** True for a {@link CryptoError} from any copy of `@fluxel/crypto` (where `instanceof` may fail). */
  static isInstance(value: unknown): value is CryptoError {
    return isCryptoError(value);
  }
}

const isCryptoError = brandErrorClass(CryptoError, '@fluxel/crypto/error');

/**
 * The one message of every authentication failure: it never says which check failed.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, DECRYPTION_FAILED_MESSAGE, generateKey, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * const sealed = await seal(Uint8Array.of(1), { keyring: new Keyring([localKek({ id: 'k', key: generateKey() })]) });
 * const wrongKey = new Keyring([localKek({ id: 'k', key: generateKey() })]);
 * await assert.rejects(open(sealed, { keyring: wrongKey }), (error) =>
 *   CryptoError.isInstance(error) && error.message === DECRYPTION_FAILED_MESSAGE,
 * );
 * ```
 */
export const DECRYPTION_FAILED_MESSAGE = 'decryption failed';

/**
 * The error of every authentication failure (wrong key, tag, commitment or context): always the
 * same code and message, so a caller learns nothing about which check failed.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { KekProvider } from '@fluxel/crypto';
 * import { decryptionFailed } from '@fluxel/crypto/errors';
 *
 * // A custom KEK provider reports a wrapped key that does not authenticate with this error.
 * const vault: KekProvider = {
 *   id: 'vault:transit-1',
 *   wrap: (dek) => dek.slice(),
 *   unwrap: (wrapped) => {
 *     if (wrapped.length !== 32) throw decryptionFailed();
 *     return wrapped.slice();
 *   },
 * };
 * assert.throws(() => vault.unwrap(new Uint8Array(3)), { code: 'ERR_CRYPTO_DECRYPTION_FAILED', message: 'decryption failed' });
 * ```
 */
export function decryptionFailed(): CryptoError {
  return new CryptoError('ERR_CRYPTO_DECRYPTION_FAILED', DECRYPTION_FAILED_MESSAGE);
}
