/**
 * The one error class of `@fluxel/relay-client`. Every failure carries a stable `code` from
 * {@link RelayErrorCode}; match on the code, never on the message.
 */
import {
  brandErrorClass,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from '../../internal/src/errors.js';

export { FluxelError, type FluxelErrorOptions, isFluxelError };

/** Every code a {@link RelayError} can carry. */
export const RELAY_CLIENT_ERROR_CODES = [
  'ERR_RELAY_CONNECTION',
  'ERR_RELAY_TIMEOUT',
  'ERR_RELAY_UPSTREAM_UNAVAILABLE',
  'ERR_RELAY_REQUEST_VALIDATION',
  'ERR_RELAY_RESPONSE_VALIDATION',
  'ERR_RELAY_DEVICE_PROOF',
  'ERR_RELAY_IDEMPOTENCY_CONFLICT',
  'ERR_RELAY_UNEXPECTED_STATUS',
  'ERR_RELAY_PROBLEM',
  'ERR_RELAY_INVALID_ARGUMENT',
] as const;

/** A stable error code of `@fluxel/relay-client`. */
export type RelayErrorCode = (typeof RELAY_CLIENT_ERROR_CODES)[number];

/** The error thrown by `@fluxel/relay-client`. */
export class RelayError extends FluxelError<RelayErrorCode> {
  /** Always the class name, for logs and `toString()`. */
  override readonly name = 'RelayError';
  /** The package that raised the error. */
  readonly package = '@fluxel/relay-client';

  /** True for a {@link RelayError} from any copy of `@fluxel/relay-client` (where `instanceof` may fail). */
  static isInstance(value: unknown): value is RelayError {
    return isRelayError(value);
  }
}

const isRelayError = brandErrorClass(RelayError, '@fluxel/relay-client/error');
