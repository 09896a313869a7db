/**
 * `@fluxel/license/server`: the license authority and the building blocks it is made of —
 * DPoP verification, replay caches, server nonces, token issuing, license storage.
 *
 * @packageDocumentation
 */

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
} from './authority.js';
export * from './client.js';
export {
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopChallengeError,
  type DpopChallengeOptions,
  dpopChallenge,
  dpopChallengeError,
} from './dpop-challenge.js';
export {
  createDpopVerifier,
  type DpopVerifier,
  type DpopVerifierOptions,
  type DpopVerifyInput,
  type VerifiedProof,
} from './dpop-verify.js';
export { type HeadersLike, headerValue } from './http.js';
export { createNonceSource, type NonceSource, type NonceSourceOptions } from './nonce.js';
export {
  MemoryReplayStore,
  type MemoryReplayStoreOptions,
  type RedisSetNx,
  type ReplayStore,
  redisReplayStore,
} from './replay.js';
export type { SignatureBackend, Verifier, VerifierFactory } from './sig.js';
export {
  type LicenseListFilter,
  type LicensePatch,
  type LicenseRecord,
  type LicenseSeen,
  type LicenseState,
  type LicenseStore,
  MemoryLicenseStore,
} from './store.js';
export {
  createTokenIssuer,
  type TokenIssuer,
  type TokenIssuerOptions,
  type TokenSigningKey,
  type TokenSubject,
} from './token-issuer.js';
