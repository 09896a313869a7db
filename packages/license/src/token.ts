/**
 * `@fluxel/license/token`: offline verification of license tokens (expiry, entitlements,
 * device binding) with the authority's JWKS. Contains no signing code.
 *
 * @packageDocumentation
 */

export type { EcPublicJwk, OkpPublicJwk, PublicJwk } from './jwk.js';
export {
  ACCESS_TOKEN_TYPE,
  type Jwks,
  LICENSE_TOKEN_TYPE,
  type LicenseTokenClaims,
} from './lib/claims.js';
export {
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
  LICENSE_ERROR_CODES,
  LicenseError,
  type LicenseErrorCode,
  type LicenseErrorOptions,
} from './lib/errors.js';
export {
  createTokenVerifier,
  type TokenRequirements,
  type TokenVerifier,
  type TokenVerifierOptions,
} from './lib/token-verify.js';
export type { SignatureBackend } from './sig.js';
