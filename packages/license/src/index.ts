/**
 * `@fluxel/license`: One license, one device: license keys, activate-once authority, device keys in the OS keychain, DPoP-bound requests and offline license tokens.
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
} from './errors.js';
