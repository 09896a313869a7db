/**
 * `@fluxel/license/client`: the device side. Create or load the device key, build a DPoP
 * proof for every request, and check license tokens offline.
 *
 * @packageDocumentation
 */

export {
  ACCESS_TOKEN_TYPE,
  type Jwks,
  LICENSE_TOKEN_TYPE,
  type LicenseTokenClaims,
} from './claims.js';
export { type DeviceKeyStore, loadOrCreateDeviceKey, MemoryKeyStore } from './device.js';
export { checkDeviceDescription, type DeviceDescription } from './device-description.js';
export {
  accessTokenHash,
  bodyDigest,
  createDpopSigner,
  type DpopProofRequest,
  type DpopSigner,
  type DpopSignerOptions,
} from './dpop.js';
export {
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
  LICENSE_ERROR_CODES,
  LicenseError,
  type LicenseErrorCode,
  type LicenseErrorOptions,
} from './errors.js';
export { htu } from './http.js';
export {
  type EcPublicJwk,
  jwkThumbprint,
  type OkpPublicJwk,
  type PrivateJwk,
  type PublicJwk,
  type SignatureAlgorithm,
} from './jwk.js';
export {
  DEFAULT_LICENSE_PREFIX,
  type GenerateLicenseKeyOptions,
  generateLicenseKey,
  isLicenseKey,
  type LicenseKey,
  parseLicenseKey,
} from './key.js';
export { generateKeyPair, type SignatureBackend } from './sig.js';
export {
  createTokenVerifier,
  type TokenRequirements,
  type TokenVerifier,
  type TokenVerifierOptions,
} from './token-verify.js';
