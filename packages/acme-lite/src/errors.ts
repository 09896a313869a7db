/**
 * The one error class of `@fluxel/acme-lite`. Every failure carries a stable `code` from
 * {@link AcmeErrorCode}; match on the code, never on the message.
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
 * import { AcmeError, FluxelError } from '@fluxel/acme-lite';
 *
 * const error = new AcmeError('ERR_ACME_TIMEOUT', 'the order was still pending after 3 minutes');
 * assert.ok(error instanceof FluxelError);
 * assert.equal(error.package, '@fluxel/acme-lite');
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeError, type FluxelErrorOptions } from '@fluxel/acme-lite';
 *
 * const options: FluxelErrorOptions = { cause: new Error('ENOSPC: no space left on device') };
 * assert.ok(new AcmeError('ERR_ACME_STORE', 'could not write cert.pem', options).cause instanceof Error);
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeError, isFluxelError } from '@fluxel/acme-lite';
 *
 * assert.equal(isFluxelError(new AcmeError('ERR_ACME_LOCKED', 'another renewal holds the lock')), true);
 * assert.equal(isFluxelError(new Error('plain')), false);
 * ```
 */
export { FluxelError, type FluxelErrorOptions, isFluxelError };

/**
 * Every code a {@link AcmeError} can carry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ACME_LITE_ERROR_CODES } from '@fluxel/acme-lite';
 *
 * assert.ok(ACME_LITE_ERROR_CODES.includes('ERR_ACME_RATE_LIMITED'));
 * ```
 */
export const ACME_LITE_ERROR_CODES = [
  'ERR_ACME_PROBLEM',
  'ERR_ACME_BAD_NONCE',
  'ERR_ACME_RATE_LIMITED',
  'ERR_ACME_TIMEOUT',
  'ERR_ACME_INVALID_TOKEN',
  'ERR_ACME_STORE',
  'ERR_ACME_LOCKED',
  'ERR_ACME_EVALUATE_FAILED',
  'ERR_ACME_INVALID_ARGUMENT',
  'ERR_ACME_UNREACHABLE',
  'ERR_ACME_UNSUPPORTED_RUNTIME',
] as const;

/**
 * A stable error code of `@fluxel/acme-lite`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AcmeErrorCode, toIdentifier } from '@fluxel/acme-lite';
 *
 * let code: AcmeErrorCode | undefined;
 * try {
 *   toIdentifier('not a name!');
 * } catch (error) {
 *   code = (error as { code: AcmeErrorCode }).code;
 * }
 * assert.equal(code, 'ERR_ACME_INVALID_ARGUMENT');
 * ```
 */
export type AcmeErrorCode = (typeof ACME_LITE_ERROR_CODES)[number];

/**
 * An RFC 7807 / RFC 8555 §6.7 problem document as sent by the CA.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeError, type AcmeProblem } from '@fluxel/acme-lite';
 *
 * const problem: AcmeProblem = {
 *   type: 'urn:ietf:params:acme:error:rateLimited',
 *   detail: 'too many certificates already issued for "example.org"',
 *   status: 429,
 * };
 * const error = new AcmeError('ERR_ACME_RATE_LIMITED', problem.detail ?? 'rate limited', { problem });
 * assert.equal(error.reason, 'rateLimited');
 * ```
 */
export interface AcmeProblem {
  readonly type?: string;
  readonly detail?: string;
  readonly status?: number;
  readonly subproblems?: readonly AcmeProblem[];
  readonly [member: string]: unknown;
}

/**
 * Why a request to the CA got no answer (the `reason` of `ERR_ACME_UNREACHABLE`): the name
 * did not resolve, the connection was refused or reset, nothing answered in time, the TLS
 * handshake failed (untrusted certificate, a certificate for another name, …), or any other
 * network failure.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeError, type AcmeTransportReason } from '@fluxel/acme-lite';
 *
 * const reason: AcmeTransportReason = 'dns';
 * const error = new AcmeError('ERR_ACME_UNREACHABLE', 'acme.example.invalid did not resolve', { reason });
 * assert.equal(error.reason, 'dns');
 * ```
 */
export type AcmeTransportReason = 'dns' | 'refused' | 'reset' | 'timeout' | 'tls' | 'network';

/** The prefix of the error types RFC 8555 §6.7 defines. */
const ACME_ERROR_TYPE_PREFIX = 'urn:ietf:params:acme:error:';

/**
 * Options of an {@link AcmeError}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeError, type AcmeErrorOptions } from '@fluxel/acme-lite';
 *
 * const options: AcmeErrorOptions = { retryAfterMs: 3_600_000, reason: 'rateLimited' };
 * const error = new AcmeError('ERR_ACME_RATE_LIMITED', 'try again in an hour', options);
 * assert.equal(error.retryAfterMs, 3_600_000);
 * ```
 */
export interface AcmeErrorOptions extends FluxelErrorOptions {
  /** The CA's problem document, when the CA sent one. */
  readonly problem?: AcmeProblem;
  /** Which check failed, as a stable word (derived from `problem.type` when not given). */
  readonly reason?: string;
  /** How long the CA asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
}

/**
 * The error thrown by `@fluxel/acme-lite`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeError, toIdentifier } from '@fluxel/acme-lite';
 *
 * try {
 *   toIdentifier('shop..example.org');
 *   assert.fail('expected an AcmeError');
 * } catch (error) {
 *   assert.ok(AcmeError.isInstance(error));
 *   assert.equal(error.code, 'ERR_ACME_INVALID_ARGUMENT');
 * }
 * ```
 */
export class AcmeError extends FluxelError<AcmeErrorCode> {
  /** Always the class name, for logs and `toString()`. */
  override readonly name = 'AcmeError';
  /** The package that raised the error. */
  readonly package = '@fluxel/acme-lite';
  /** The CA's problem document, when the CA sent one. */
  readonly problem?: AcmeProblem;
  /**
   * Which check failed, as a stable word to match on:
   * - for `ERR_ACME_UNREACHABLE`, an {@link AcmeTransportReason} (`dns`, `refused`, `reset`,
   *   `timeout`, `tls`, `network`);
   * - for an error carrying the CA's problem document, its type without the
   *   `urn:ietf:params:acme:error:` prefix (`rateLimited`, `unauthorized`, `connection`,
   *   `externalAccountRequired`, …), or the whole type when it is not an ACME one.
   */
  readonly reason?: string;
  /** How long the CA asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;

  constructor(code: AcmeErrorCode, message: string, options?: AcmeErrorOptions) {
    super(code, message, options);
    if (options?.problem) this.problem = options.problem;
    const reason = options?.reason ?? problemReason(options?.problem);
    if (reason !== undefined) this.reason = reason;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** True for a {@link AcmeError} from any copy of `@fluxel/acme-lite` (where `instanceof` may fail). */
  static isInstance(value: unknown): value is AcmeError {
    return isAcmeError(value);
  }
}

function problemReason(problem: AcmeProblem | undefined): string | undefined {
  const type = problem?.type;
  if (typeof type !== 'string' || type.length === 0) return undefined;
  return type.startsWith(ACME_ERROR_TYPE_PREFIX) && type.length > ACME_ERROR_TYPE_PREFIX.length
    ? type.slice(ACME_ERROR_TYPE_PREFIX.length)
    : type;
}

const isAcmeError = brandErrorClass(AcmeError, '@fluxel/acme-lite/error');
