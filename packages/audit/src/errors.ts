/**
 * The one error class of `@fluxel/audit`. Every failure carries a stable `code` from
 * {@link AuditErrorCode}; match on the code, never on the message.
 */
import {
  brandErrorClass,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from '../../internal/src/errors.js';

export { FluxelError, type FluxelErrorOptions, isFluxelError };

/**
 * Every code a {@link AuditError} can carry:
 * - `ERR_AUDIT_INVALID_EVENT`: the event does not match the schema or cannot be encoded;
 * - `ERR_AUDIT_LOG_CLOSED`: append or flush after `close()`;
 * - `ERR_AUDIT_STORAGE`: the store failed, or refused to open a log it cannot continue safely;
 * - `ERR_AUDIT_VERIFICATION_FAILED`: a verification that was required to pass found problems;
 * - `ERR_AUDIT_SINK_FAILED`: a sink's peer rejected a delivery;
 * - `ERR_AUDIT_INVALID_ARGUMENT`: a bad option or argument;
 * - `ERR_AUDIT_INVALID_KEY`: a signing, verification or pseudonymisation key is malformed;
 * - `ERR_AUDIT_DECRYPTION_FAILED`: an encrypted field did not decrypt (says nothing more);
 * - `ERR_AUDIT_KEY_ERASED`: the subject's key was deleted (crypto-shredded).
 */
export const AUDIT_ERROR_CODES = [
  'ERR_AUDIT_INVALID_EVENT',
  'ERR_AUDIT_LOG_CLOSED',
  'ERR_AUDIT_STORAGE',
  'ERR_AUDIT_VERIFICATION_FAILED',
  'ERR_AUDIT_SINK_FAILED',
  'ERR_AUDIT_INVALID_ARGUMENT',
  'ERR_AUDIT_INVALID_KEY',
  'ERR_AUDIT_DECRYPTION_FAILED',
  'ERR_AUDIT_KEY_ERASED',
] as const;

/** A stable error code of `@fluxel/audit`. */
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[number];

/** The error thrown by `@fluxel/audit`. */
export class AuditError extends FluxelError<AuditErrorCode> {
  /** Always the class name, for logs and `toString()`. */
  override readonly name = 'AuditError';
  /** The package that raised the error. */
  readonly package = '@fluxel/audit';

  /** True for a {@link AuditError} from any copy of `@fluxel/audit` (where `instanceof` may fail). */
  static isInstance(value: unknown): value is AuditError {
    return isAuditError(value);
  }
}

const isAuditError = brandErrorClass(AuditError, '@fluxel/audit/error');
