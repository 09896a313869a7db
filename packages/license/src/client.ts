/**
 * `@fluxel/license/client`: the device side. Create or load the device key, build a DPoP
 * proof for every request, and check license tokens offline.
 *
 * @packageDocumentation
 */

export {
  type EcPublicJwk,
  jwkThumbprint,
  type OkpPublicJwk,
  type PrivateJwk,
  type PublicJwk,
  type SignatureAlgorithm,
} from './jwk.js';
export {
  ACCESS_TOKEN_TYPE,
  type Jwks,
  LICENSE_TOKEN_TYPE,
  type LicenseTokenClaims,
} from './lib/claims.js';
export { type DeviceKeyStore, loadOrCreateDeviceKey, MemoryKeyStore } from './lib/device.js';
export { checkDeviceDescription, type DeviceDescription } from './lib/device-description.js';
export {
  accessTokenHash,
  bodyDigest,
  createDpopSigner,
  type DpopProofRequest,
  type DpopSigner,
  type DpopSignerOptions,
} from './lib/dpop.js';
export {
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
  LICENSE_ERROR_CODES,
  LicenseError,
  type LicenseErrorCode,
  type LicenseErrorOptions,
} from './lib/errors.js';
export { htu } from './lib/http.js';
export {
  DEFAULT_LICENSE_PREFIX,
  type GenerateLicenseKeyOptions,
  generateLicenseKey,
  isLicenseKey,
  type LicenseKey,
  parseLicenseKey,
} from './lib/key.js';
export {
  createTokenVerifier,
  type TokenRequirements,
  type TokenVerifier,
  type TokenVerifierOptions,
} from './lib/token-verify.js';
export { generateKeyPair, type SignatureBackend } from './sig.js';
