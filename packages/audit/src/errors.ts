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

/**
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, FluxelError } from '@fluxel/audit';
 *
 * const error = new AuditError('ERR_AUDIT_LOG_CLOSED', 'the log is closed; open a new one');
 * assert.ok(error instanceof FluxelError);
 * assert.equal(error.package, '@fluxel/audit');
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, type FluxelErrorOptions } from '@fluxel/audit';
 *
 * const options: FluxelErrorOptions = { cause: new Error('disk full') };
 * assert.ok(new AuditError('ERR_AUDIT_STORAGE', 'the store failed', options).cause instanceof Error);
 * ```
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, isFluxelError } from '@fluxel/audit';
 *
 * assert.equal(isFluxelError(new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'bad option')), true);
 * assert.equal(isFluxelError(new Error('plain')), false);
 * ```
 */
export { FluxelError, type FluxelErrorOptions, isFluxelError };

/**
 * Every code a {@link AuditError} can carry:
 * - `ERR_AUDIT_INVALID_EVENT`: the event breaks a rule of the event model or cannot be encoded;
 * - `ERR_AUDIT_LOG_CLOSED`: append or flush after `close()`;
 * - `ERR_AUDIT_STORAGE`: the store failed, or refused to open a log it cannot continue safely;
 * - `ERR_AUDIT_VERIFICATION_FAILED`: a verification that was required to pass found problems;
 * - `ERR_AUDIT_SINK_FAILED`: a sink's peer rejected a delivery;
 * - `ERR_AUDIT_INVALID_ARGUMENT`: a bad option or argument;
 * - `ERR_AUDIT_INVALID_KEY`: a signing, verification or pseudonymisation key is malformed;
 * - `ERR_AUDIT_DECRYPTION_FAILED`: an encrypted field did not decrypt (says nothing more);
 * - `ERR_AUDIT_KEY_ERASED`: the subject's key was deleted (crypto-shredded).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AUDIT_ERROR_CODES } from '@fluxel/audit/errors';
 *
 * assert.ok(AUDIT_ERROR_CODES.includes('ERR_AUDIT_KEY_ERASED'));
 * ```
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

/**
 * A stable error code of `@fluxel/audit`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type AuditErrorCode, generateSigningKey, isFluxelError, MemoryStore } from '@fluxel/audit';
 *
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * let code: AuditErrorCode | undefined;
 * try {
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'Login', outcome: 'success' });
 * } catch (error) {
 *   if (isFluxelError(error)) code = error.code as AuditErrorCode;
 * }
 * await log.close();
 * assert.equal(code, 'ERR_AUDIT_INVALID_EVENT');
 * ```
 */
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[number];

/**
 * The error thrown by `@fluxel/audit`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * await log.close();
 * await assert.rejects(
 *   async () =>
 *     log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' }),
 *   (error) => AuditError.isInstance(error) && error.code === 'ERR_AUDIT_LOG_CLOSED',
 * );
 * ```
 */
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
