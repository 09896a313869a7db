/**
 * The errors of `@fluxel/relay-client`. Every failure is a {@link RelayError} (or one of its
 * subclasses below) with a stable `code`; match on the code, never on the message. Each
 * error says whether trying again can help (`retryable`) and, when the relay said so, after
 * how long (`retryAfterMs`). The `cause` chain is kept.
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
  'ERR_RELAY_TLS',
  'ERR_RELAY_ABORTED',
  'ERR_RELAY_UPSTREAM_UNAVAILABLE',
  'ERR_RELAY_RATE_LIMITED',
  'ERR_RELAY_REQUEST_VALIDATION',
  'ERR_RELAY_RESPONSE_VALIDATION',
  'ERR_RELAY_DEVICE_PROOF',
  'ERR_RELAY_UNAUTHORIZED',
  'ERR_RELAY_NOT_FOUND',
  'ERR_RELAY_IDEMPOTENCY_CONFLICT',
  'ERR_RELAY_UNEXPECTED_STATUS',
  'ERR_RELAY_PROBLEM',
  'ERR_RELAY_OUTBOX_STORAGE',
  'ERR_RELAY_OUTBOX_CLOSED',
  'ERR_RELAY_OUTBOX_DUPLICATE_ID',
  'ERR_RELAY_INVALID_ARGUMENT',
  'ERR_RELAY_TOKEN_STORAGE',
] as const;

/** A stable error code of `@fluxel/relay-client`. */
export type RelayErrorCode = (typeof RELAY_CLIENT_ERROR_CODES)[number];

/** An RFC 9457 problem document, with the relay's extension members. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string | undefined;
  readonly instance?: string | undefined;
  /** Whether the same request may succeed later. */
  readonly retryable?: boolean | undefined;
  /** Seconds to wait before trying again. */
  readonly retryAfter?: number | undefined;
  /** The third party involved, when the failure is theirs (e.g. `marketplace`). */
  readonly upstream?: string | undefined;
  /** The third party's HTTP status. */
  readonly upstreamStatus?: number | undefined;
  /** Correlates with the relay's logs. */
  readonly traceId?: string | undefined;
  /** A machine-readable code from the relay, e.g. `ERR_DPOP_REPLAY`. */
  readonly code?: string | undefined;
}

/** Options of every relay error. */
export interface RelayErrorOptions extends FluxelErrorOptions {
  /** Whether trying again may succeed. Default: by code. */
  readonly retryable?: boolean;
  /** How long to wait before trying again, when known. */
  readonly retryAfterMs?: number;
  /** HTTP status of the relay's response, when there was one. */
  readonly status?: number;
  /** The relay's problem document, when there was one. */
  readonly problem?: ProblemDetails;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<RelayErrorCode> = new Set([
  'ERR_RELAY_CONNECTION',
  'ERR_RELAY_TIMEOUT',
  'ERR_RELAY_UPSTREAM_UNAVAILABLE',
  'ERR_RELAY_RATE_LIMITED',
]);

/** The error thrown by `@fluxel/relay-client`. */
export class RelayError extends FluxelError<RelayErrorCode> {
  /** Always the class name, for logs and `toString()`. */
  override readonly name: string = 'RelayError';
  /** The package that raised the error. */
  readonly package = '@fluxel/relay-client';
  /** Whether the same request may succeed later. */
  readonly retryable: boolean;
  /** How long to wait before trying again, when the relay said so. */
  readonly retryAfterMs: number | undefined;
  /** HTTP status of the relay's response, when there was one. */
  readonly status: number | undefined;
  /** The relay's RFC 9457 problem document, when there was one. */
  readonly problem: ProblemDetails | undefined;

  constructor(code: RelayErrorCode, message: string, options: RelayErrorOptions = {}) {
    super(code, message, options);
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.problem = options.problem;
  }

  /** True for a {@link RelayError} (any subclass) from any copy of `@fluxel/relay-client`. */
  static isInstance(value: unknown): value is RelayError {
    return isRelayError(value);
  }
}

const isRelayError = brandErrorClass(RelayError, '@fluxel/relay-client/error');

/** The relay could not be reached (DNS, refused, reset). Retryable. */
export class RelayConnectionError extends RelayError {
  override readonly name = 'RelayConnectionError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_CONNECTION', message, options);
  }
}

/** A phase of the request took too long. Retryable. */
export class RelayTimeoutError extends RelayError {
  override readonly name = 'RelayTimeoutError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_TIMEOUT', message, options);
  }
}

/** The relay's certificate was not trusted or did not match the pin. Never retried. */
export class RelayTlsError extends RelayError {
  override readonly name = 'RelayTlsError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_TLS', message, { ...options, retryable: false });
  }
}

/** The third party behind the relay is unavailable (503 from the relay). Retryable. */
export class UpstreamUnavailableError extends RelayError {
  override readonly name = 'UpstreamUnavailableError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_UPSTREAM_UNAVAILABLE', message, options);
  }
}

/** What we were about to send does not match the contract. Nothing was sent. */
export class RequestValidationError extends RelayError {
  override readonly name = 'RequestValidationError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_REQUEST_VALIDATION', message, { ...options, retryable: false });
  }
}

/** The relay answered with a body that does not match the contract. */
export class ResponseValidationError extends RelayError {
  override readonly name = 'ResponseValidationError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_RESPONSE_VALIDATION', message, { ...options, retryable: false });
  }
}

/** The relay refused the device proof (DPoP) or the token. */
export class DeviceProofError extends RelayError {
  override readonly name = 'DeviceProofError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_DEVICE_PROOF', message, { retryable: false, ...options });
  }
}

/** The idempotency key was used before with a different request. Never retried. */
export class IdempotencyConflictError extends RelayError {
  override readonly name = 'IdempotencyConflictError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_IDEMPOTENCY_CONFLICT', message, { ...options, retryable: false });
  }
}

/** The relay answered with a status the contract does not declare for the route. */
export class UnexpectedStatusError extends RelayError {
  override readonly name = 'UnexpectedStatusError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_UNEXPECTED_STATUS', message, options);
  }
}
