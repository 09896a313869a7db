/**
 * `@fluxel/acme-lite`: Let's Encrypt without an admin: a small RFC 8555 client for HTTP-01, certificate store, ARI-driven renewal, hot reload and an HTTPS evaluate check.
 *
 * @packageDocumentation
 */
export {
  ACME_LITE_ERROR_CODES,
  AcmeError,
  type AcmeErrorCode,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from './errors.js';
