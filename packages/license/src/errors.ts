/**
 * `@fluxel/license/errors`: the one error class of the package, {@link LicenseError}, and its
 * stable codes. Match on `error.code`, never on the message.
 *
 * @packageDocumentation
 */
export {
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
  LICENSE_ERROR_CODES,
  LicenseError,
  type LicenseErrorCode,
  type LicenseErrorOptions,
} from './lib/errors.js';
