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

/** Every code a {@link AuditError} can carry. */
export const AUDIT_ERROR_CODES = [
  'ERR_AUDIT_INVALID_EVENT',
  'ERR_AUDIT_LOG_CLOSED',
  'ERR_AUDIT_STORAGE',
  'ERR_AUDIT_VERIFICATION_FAILED',
  'ERR_AUDIT_SINK_FAILED',
  'ERR_AUDIT_INVALID_ARGUMENT',
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
