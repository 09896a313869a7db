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

export { FluxelError, type FluxelErrorOptions, isFluxelError };

/** Every code a {@link CryptoError} can carry. */
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

/** A stable error code of `@fluxel/crypto`. */
export type CryptoErrorCode = (typeof CRYPTO_ERROR_CODES)[number];

/** The error thrown by `@fluxel/crypto`. */
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

/** The one message of every authentication failure: it never says which check failed. */
export const DECRYPTION_FAILED_MESSAGE = 'decryption failed';

/**
 * The error of every authentication failure (wrong key, tag, commitment or context): always the
 * same code and message, so a caller learns nothing about which check failed.
 */
export function decryptionFailed(): CryptoError {
  return new CryptoError('ERR_CRYPTO_DECRYPTION_FAILED', DECRYPTION_FAILED_MESSAGE);
}
