/**
 * The one error class of `@fluxel/license`. Every failure carries a stable `code` from
 * {@link LicenseErrorCode}; match on the code, never on the message.
 */
import {
  brandErrorClass,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from '../../../internal/src/errors.js';

/**
 * Shared by every `@fluxel` package and re-exported here: `FluxelError`, the base class of
 * their errors; `FluxelErrorOptions`, what every error constructor takes; `isFluxelError`,
 * whether a value is such an error (across copies of the packages).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { FluxelError, type FluxelErrorOptions, isFluxelError, LicenseError } from '@fluxel/license';
 *
 * const options: FluxelErrorOptions = { cause: new Error('connection reset') };
 * const error = new LicenseError('ERR_LICENSE_STORAGE', 'the license store is unreachable', options);
 * assert.ok(error instanceof FluxelError);
 * assert.equal(error.package, '@fluxel/license');
 * assert.equal(isFluxelError(error), true);
 * assert.equal(isFluxelError(new Error('plain')), false);
 * ```
 */
export { FluxelError, type FluxelErrorOptions, isFluxelError };

/**
 * Every code a {@link LicenseError} can carry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { LICENSE_ERROR_CODES } from '@fluxel/license/errors';
 *
 * assert.ok(LICENSE_ERROR_CODES.includes('ERR_LICENSE_ACTIVATION_FAILED'));
 * ```
 */
export const LICENSE_ERROR_CODES = [
  // license keys and the authority
  'ERR_LICENSE_INVALID_KEY',
  'ERR_LICENSE_ACTIVATION_FAILED',
  'ERR_LICENSE_NOT_FOUND',
  'ERR_LICENSE_LOCKED',
  'ERR_LICENSE_EXPIRED',
  'ERR_LICENSE_NOT_ACTIVE',
  'ERR_LICENSE_REBIND_FAILED',
  'ERR_LICENSE_CONFLICT',
  // tokens
  'ERR_LICENSE_INVALID_TOKEN',
  'ERR_LICENSE_TOKEN_EXPIRED',
  'ERR_LICENSE_TOKEN_BINDING',
  'ERR_LICENSE_ENTITLEMENT',
  // DPoP proofs
  'ERR_DPOP_MISSING',
  'ERR_DPOP_INVALID_PROOF',
  'ERR_DPOP_REPLAY',
  'ERR_DPOP_NONCE_REQUIRED',
  'ERR_DPOP_STALE',
  'ERR_DPOP_BODY_MISMATCH',
  // device key stores
  'ERR_KEYSTORE_UNAVAILABLE',
  'ERR_KEYSTORE_CORRUPT',
  // storage and input
  'ERR_LICENSE_STORAGE',
  'ERR_LICENSE_INVALID_ARGUMENT',
  'ERR_LICENSE_UNSUPPORTED_RUNTIME',
] as const;

/**
 * A stable error code of `@fluxel/license`.
 *
 * @example
 * ```ts
 * import type { LicenseErrorCode } from '@fluxel/license';
 *
 * function statusOf(code: LicenseErrorCode): number {
 *   return code === 'ERR_LICENSE_INVALID_ARGUMENT' || code === 'ERR_LICENSE_INVALID_KEY' ? 400 : 401;
 * }
 * statusOf('ERR_DPOP_REPLAY'); // 401
 * ```
 */
export type LicenseErrorCode = (typeof LICENSE_ERROR_CODES)[number];

/**
 * Options of a {@link LicenseError}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { LicenseError, type LicenseErrorOptions } from '@fluxel/license';
 *
 * const options: LicenseErrorOptions = { claim: 'htu' };
 * const error = new LicenseError('ERR_DPOP_INVALID_PROOF', 'the DPoP proof is not valid', options);
 * assert.equal(error.claim, 'htu');
 * ```
 */
export interface LicenseErrorOptions extends FluxelErrorOptions {
  /** The claim or header parameter whose check failed (see {@link LicenseError.claim}). */
  readonly claim?: string;
  /** For a retryable refusal: when a retry can succeed, in seconds (see {@link LicenseError.retryAfterSeconds}). */
  readonly retryAfterSeconds?: number;
}

/**
 * The error thrown by `@fluxel/license`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { LicenseError, parseLicenseKey } from '@fluxel/license/key';
 *
 * try {
 *   parseLicenseKey('FLX-1234');
 *   assert.fail('a malformed key is refused');
 * } catch (error) {
 *   assert.ok(LicenseError.isInstance(error));
 *   assert.equal(error.code, 'ERR_LICENSE_INVALID_KEY');
 * }
 * ```
 */
export class LicenseError extends FluxelError<LicenseErrorCode> {
  /** Always the class name, for logs and `toString()`. */
  override readonly name = 'LicenseError';
  /** The package that raised the error. */
  readonly package = '@fluxel/license';
  /**
   * For a refused token or DPoP proof: the claim (or JOSE header parameter) whose check
   * failed, as jose names it — e.g. `exp`, `iat`, `nbf`, `iss`, `typ`, `kid`, `cnf.jkt`, `ent`,
   * `htm`, `htu`, `ath`, `cdg`, `nonce`, `jti`. Absent when no single claim failed (a malformed
   * token, a bad signature). Never a claim's value.
   */
  declare readonly claim?: string;
  /**
   * For a refusal that a retry can overcome (`ERR_LICENSE_STORAGE`): the seconds after which
   * one can succeed, e.g. while a replay cache that lost its entries refuses older proofs.
   * Servers send it as `Retry-After`.
   */
  declare readonly retryAfterSeconds?: number;

  constructor(code: LicenseErrorCode, message: string, options?: LicenseErrorOptions) {
    super(code, message, options);
    if (options?.claim !== undefined) this.claim = options.claim;
    if (options?.retryAfterSeconds !== undefined)
      this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** True for a {@link LicenseError} from any copy of `@fluxel/license` (where `instanceof` may fail). */
  static isInstance(value: unknown): value is LicenseError {
    return isLicenseError(value);
  }
}

const isLicenseError = brandErrorClass(LicenseError, '@fluxel/license/error');
