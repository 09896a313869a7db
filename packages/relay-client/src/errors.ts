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

/**
 * Shared by every `@fluxel` package and re-exported here: `FluxelError`, the base class of
 * their errors; `FluxelErrorOptions`, what every error constructor takes; `isFluxelError`,
 * whether a value is such an error (across copies of the packages).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { FluxelError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new RelayError('ERR_RELAY_TIMEOUT', 'no answer in time');
 * assert.ok(error instanceof FluxelError);
 * assert.equal(error.package, '@fluxel/relay-client');
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type FluxelErrorOptions, RelayError } from '@fluxel/relay-client';
 *
 * const options: FluxelErrorOptions = { cause: new Error('socket hang up') };
 * assert.ok(new RelayError('ERR_RELAY_CONNECTION', 'the request failed', options).cause instanceof Error);
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { isFluxelError, RelayError } from '@fluxel/relay-client';
 *
 * assert.equal(isFluxelError(new RelayError('ERR_RELAY_TIMEOUT', 'no answer in time')), true);
 * assert.equal(isFluxelError(new Error('plain')), false);
 * ```
 */
export { FluxelError, type FluxelErrorOptions, isFluxelError };

/**
 * Every code a {@link RelayError} can carry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RELAY_CLIENT_ERROR_CODES } from '@fluxel/relay-client';
 *
 * assert.ok(RELAY_CLIENT_ERROR_CODES.includes('ERR_RELAY_TIMEOUT'));
 * ```
 */
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

/**
 * A stable error code of `@fluxel/relay-client`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RelayError, type RelayErrorCode } from '@fluxel/relay-client';
 *
 * const code: RelayErrorCode = 'ERR_RELAY_OUTBOX_DUPLICATE_ID';
 * assert.equal(new RelayError(code, 'held by another message').code, code);
 * ```
 */
export type RelayErrorCode = (typeof RELAY_CLIENT_ERROR_CODES)[number];

/**
 * An RFC 9457 problem document, with the relay's extension members.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type ProblemDetails, UpstreamUnavailableError } from '@fluxel/relay-client';
 *
 * const problem: ProblemDetails = { type: 'about:blank', title: 'marketplace unavailable', status: 503, upstream: 'marketplace' };
 * assert.equal(new UpstreamUnavailableError('down', { problem }).problem?.upstream, 'marketplace');
 * ```
 */
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

/**
 * Options of every relay error.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RelayError, type RelayErrorOptions } from '@fluxel/relay-client';
 *
 * const options: RelayErrorOptions = { status: 429, retryable: true, retryAfterMs: 5_000 };
 * assert.equal(new RelayError('ERR_RELAY_RATE_LIMITED', 'slow down', options).retryAfterMs, 5_000);
 * ```
 */
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

/**
 * The error thrown by `@fluxel/relay-client`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, RelayError } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const result = await client.send.safe({ connection: 'Shop 1!', idempotencyKey: crypto.randomUUID(), body: { operation: 'x', payload: 1 } });
 * assert.ok(!result.ok && RelayError.isInstance(result.error));
 * assert.equal(!result.ok && result.error.code, 'ERR_RELAY_REQUEST_VALIDATION');
 * ```
 */
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

/**
 * The relay could not be reached (DNS, refused, reset). Retryable.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RelayConnectionError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new RelayConnectionError('the relay did not answer', { retryAfterMs: 30_000 });
 * assert.equal(error.code, 'ERR_RELAY_CONNECTION');
 * assert.equal(error.retryable, true);
 * assert.ok(RelayError.isInstance(error));
 * ```
 */
export class RelayConnectionError extends RelayError {
  override readonly name = 'RelayConnectionError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_CONNECTION', message, options);
  }
}

/**
 * A phase of the request took too long. Retryable.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RelayTimeoutError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new RelayTimeoutError('the relay did not answer', { retryAfterMs: 30_000 });
 * assert.equal(error.code, 'ERR_RELAY_TIMEOUT');
 * assert.equal(error.retryable, true);
 * assert.ok(RelayError.isInstance(error));
 * ```
 */
export class RelayTimeoutError extends RelayError {
  override readonly name = 'RelayTimeoutError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_TIMEOUT', message, options);
  }
}

/**
 * The relay's certificate was not trusted or did not match the pin. Never retried.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RelayTlsError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new RelayTlsError('refused', { status: 401 });
 * assert.equal(error.code, 'ERR_RELAY_TLS');
 * assert.equal(error.retryable, false);
 * assert.ok(error instanceof RelayError);
 * ```
 */
export class RelayTlsError extends RelayError {
  override readonly name = 'RelayTlsError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_TLS', message, { ...options, retryable: false });
  }
}

/**
 * The third party behind the relay is unavailable (503 from the relay). Retryable.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { UpstreamUnavailableError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new UpstreamUnavailableError('the relay did not answer', { retryAfterMs: 30_000 });
 * assert.equal(error.code, 'ERR_RELAY_UPSTREAM_UNAVAILABLE');
 * assert.equal(error.retryable, true);
 * assert.ok(RelayError.isInstance(error));
 * ```
 */
export class UpstreamUnavailableError extends RelayError {
  override readonly name = 'UpstreamUnavailableError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_UPSTREAM_UNAVAILABLE', message, options);
  }
}

/**
 * What we were about to send does not match the contract. Nothing was sent.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RequestValidationError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new RequestValidationError('refused', { status: 401 });
 * assert.equal(error.code, 'ERR_RELAY_REQUEST_VALIDATION');
 * assert.equal(error.retryable, false);
 * assert.ok(error instanceof RelayError);
 * ```
 */
export class RequestValidationError extends RelayError {
  override readonly name = 'RequestValidationError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_REQUEST_VALIDATION', message, { ...options, retryable: false });
  }
}

/**
 * The relay answered with a body that does not match the contract.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ResponseValidationError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new ResponseValidationError('refused', { status: 401 });
 * assert.equal(error.code, 'ERR_RELAY_RESPONSE_VALIDATION');
 * assert.equal(error.retryable, false);
 * assert.ok(error instanceof RelayError);
 * ```
 */
export class ResponseValidationError extends RelayError {
  override readonly name = 'ResponseValidationError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_RESPONSE_VALIDATION', message, { ...options, retryable: false });
  }
}

/**
 * The relay refused the device proof (DPoP) or the token.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DeviceProofError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new DeviceProofError('refused', { status: 401 });
 * assert.equal(error.code, 'ERR_RELAY_DEVICE_PROOF');
 * assert.equal(error.retryable, false);
 * assert.ok(error instanceof RelayError);
 * ```
 */
export class DeviceProofError extends RelayError {
  override readonly name = 'DeviceProofError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_DEVICE_PROOF', message, { retryable: false, ...options });
  }
}

/**
 * The idempotency key was used before with a different request. Never retried.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { IdempotencyConflictError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new IdempotencyConflictError('refused', { status: 401 });
 * assert.equal(error.code, 'ERR_RELAY_IDEMPOTENCY_CONFLICT');
 * assert.equal(error.retryable, false);
 * assert.ok(error instanceof RelayError);
 * ```
 */
export class IdempotencyConflictError extends RelayError {
  override readonly name = 'IdempotencyConflictError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_IDEMPOTENCY_CONFLICT', message, { ...options, retryable: false });
  }
}

/**
 * The relay answered with a status the contract does not declare for the route.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { UnexpectedStatusError, RelayError } from '@fluxel/relay-client';
 *
 * const error = new UnexpectedStatusError('refused', { status: 401 });
 * assert.equal(error.code, 'ERR_RELAY_UNEXPECTED_STATUS');
 * assert.equal(error.retryable, false);
 * assert.ok(error instanceof RelayError);
 * ```
 */
export class UnexpectedStatusError extends RelayError {
  override readonly name = 'UnexpectedStatusError';
  constructor(message: string, options: RelayErrorOptions = {}) {
    super('ERR_RELAY_UNEXPECTED_STATUS', message, options);
  }
}
