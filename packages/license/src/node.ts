/**
 * `@fluxel/license/node`: where the agent keeps its device key on a real machine.
 *
 * - {@link KeychainKeyStore}: the OS keychain — Windows Credential Manager, macOS Keychain,
 *   Linux Secret Service — through the optional peer dependency `@napi-rs/keyring`. If no
 *   keychain is usable, opening it fails with `ERR_KEYSTORE_UNAVAILABLE`; there is no silent
 *   fallback.
 * - {@link EncryptedFileKeyStore}: an encrypted file (scrypt + AES-256-GCM, mode 0600), for
 *   machines without a keychain (headless servers), chosen explicitly.
 * - {@link createVerifyPool}: for servers, the signature checks of DPoP proofs on worker
 *   threads (the `verifier` of a `LicenseAuthority`), so they use every core.
 *
 * @packageDocumentation
 */

export type {
  EcPublicJwk,
  OkpPublicJwk,
  PrivateJwk,
  PublicJwk,
  SignatureAlgorithm,
} from './jwk.js';
export type { DeviceKeyStore } from './lib/device.js';
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
  EncryptedFileKeyStore,
  type EncryptedFileKeyStoreOptions,
  KeychainKeyStore,
  type KeychainKeyStoreOptions,
} from './lib/node.js';
export {
  createVerifyPool,
  defaultVerifyThreads,
  type VerifyPool,
  type VerifyPoolOptions,
} from './lib/verify-pool.js';
export type { Verifier, VerifierFactory } from './sig.js';
