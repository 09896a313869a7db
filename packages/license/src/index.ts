/**
 * `@fluxel/license`: one license, one device. License keys, the activate-once authority,
 * device keys, DPoP-bound requests (RFC 9449) and license tokens.
 *
 * The root entry holds everything that runs on the Web platform; narrower entries exist
 * for each side: `./key`, `./client`, `./token` (offline verification only), `./server`,
 * `./sql`, `./admin` (gRPC), `./node` (OS keychain, encrypted file store).
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
  type AuthorityEvent,
  type AuthorityRequest,
  type IssueLicenseInput,
  LicenseAuthority,
  type LicenseAuthorityOptions,
  type LicenseInfo,
  type LicenseTokens,
  type ListLicensesInput,
  type VerifiedRequest,
} from './lib/authority.js';
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
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopChallengeError,
  type DpopChallengeOptions,
  dpopChallenge,
  dpopChallengeError,
} from './lib/dpop-challenge.js';
export {
  createDpopVerifier,
  type DpopVerifier,
  type DpopVerifierOptions,
  type DpopVerifyInput,
  type VerifiedProof,
} from './lib/dpop-verify.js';
export {
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
  LICENSE_ERROR_CODES,
  LicenseError,
  type LicenseErrorCode,
  type LicenseErrorOptions,
} from './lib/errors.js';
export { type HeadersLike, headerValue, htu } from './lib/http.js';
export {
  DEFAULT_LICENSE_PREFIX,
  type GenerateLicenseKeyOptions,
  generateLicenseKey,
  isLicenseKey,
  type LicenseKey,
  parseLicenseKey,
} from './lib/key.js';
export { createNonceSource, type NonceSource, type NonceSourceOptions } from './lib/nonce.js';
export {
  MemoryReplayStore,
  type MemoryReplayStoreOptions,
  type RedisReplayStore,
  type RedisReplayStoreOptions,
  type RedisSetNx,
  type ReplayAnswer,
  type ReplayStore,
  redisReplayStore,
} from './lib/replay.js';
export {
  type LicenseListFilter,
  type LicensePatch,
  type LicenseRecord,
  type LicenseSeen,
  type LicenseState,
  type LicenseStore,
  MemoryLicenseStore,
} from './lib/store.js';
export {
  createTokenIssuer,
  type TokenIssuer,
  type TokenIssuerOptions,
  type TokenSigningKey,
  type TokenSubject,
} from './lib/token-issuer.js';
export {
  createTokenVerifier,
  type TokenRequirements,
  type TokenVerifier,
  type TokenVerifierOptions,
} from './lib/token-verify.js';
export {
  generateKeyPair,
  type SignatureBackend,
  type Verifier,
  type VerifierFactory,
} from './sig.js';
