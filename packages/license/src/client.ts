/**
 * `@fluxel/license/client`: the device side. Create or load the device key, build a DPoP
 * proof for every request, and check license tokens offline.
 *
 * @packageDocumentation
 */

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
export { htu } from './http.js';
export { jwkThumbprint, type PrivateJwk, type SignatureAlgorithm } from './jwk.js';
export {
  DEFAULT_LICENSE_PREFIX,
  type GenerateLicenseKeyOptions,
  generateLicenseKey,
  isLicenseKey,
  type LicenseKey,
  parseLicenseKey,
} from './key.js';
export { generateKeyPair } from './sig.js';
export * from './token.js';
