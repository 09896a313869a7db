/**
 * `@fluxel/acme-lite/node`: the Node.js side.
 *
 * - {@link FileCertificateStore}: `letsencrypt/<directory-host-reversed>/orders/<order-id>/`
 *   with `cert.pem`, `key.pem` (0600), `chain.pem`, `meta.json`, atomic writes, a per-domain
 *   lock, the account key, and `current(domain)`.
 * - {@link challengeListener} / {@link startChallengeServer}: HTTP-01 on node:http, mounted in
 *   your server or standalone on a port.
 * - {@link hotReload}: swaps the certificate of a running `https`/`tls` server.
 * - {@link evaluate}: connects over TLS and checks the served chain and certificate.
 * - {@link RenewalManager}: timers, ARI or lifetime fraction, jittered backoff, events.
 * - {@link acmeFetch}: a fetch that trusts a given CA (for Pebble or a private ACME server).
 *
 * Everything of `@fluxel/acme-lite` is re-exported here too. The implementation lives in
 * `src/node/` (`fetch`, `store`, `account`, `challenge-server`, `hot-reload`, `evaluate`,
 * `renewal`); this file is only the list of what is public (the core entry point's exports
 * and the Node.js side, sorted by module).
 *
 * @packageDocumentation
 */

export {
  AcmeClient,
  type AcmeClientOptions,
  type IssuedCertificate,
  type IssueOptions,
} from './client.js';
export {
  ACME_LITE_ERROR_CODES,
  AcmeError,
  type AcmeErrorCode,
  type AcmeErrorOptions,
  type AcmeProblem,
  type AcmeTransportReason,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from './errors.js';
export {
  ACME_CHALLENGE_PREFIX,
  type ChallengeResponse,
  type ChallengeStore,
  isValidToken,
  MemoryChallengeStore,
  respondToChallenge,
} from './http01.js';
export {
  type AcmeKey,
  type ExternalAccountBinding,
  eabJws,
  type FlattenedJws,
  generateAccountKey,
  importAccountKey,
  importKeyPem,
  jwkThumbprint,
  type PrivateJwk,
  type PublicJwk,
  signJws,
} from './jws.js';
export {
  type ObtainOptions,
  type OpenAccountOptions,
  obtainCertificate,
  openAccount,
} from './node/account.js';
export {
  type ChallengeServer,
  challengeListener,
  type RequestListener,
  startChallengeServer,
} from './node/challenge-server.js';
export {
  assertServing,
  type EvaluateOptions,
  type EvaluateResult,
  evaluate,
} from './node/evaluate.js';
export { type AcmeFetchOptions, acmeFetch } from './node/fetch.js';
export {
  type HotReload,
  type HotReloadOptions,
  hotReload,
  secureContextOptions,
} from './node/hot-reload.js';
export {
  type Clock,
  type RenewalEvents,
  RenewalManager,
  type RenewalManagerOptions,
} from './node/renewal.js';
export {
  type CertificateMeta,
  type CertificateReport,
  directoryFolder,
  FileCertificateStore,
  type FileCertificateStoreOptions,
  type StoredAccount,
  type StoredCertificate,
  writeFileAtomic,
} from './node/store.js';
export {
  type AcmeAccount,
  type AcmeAuthorization,
  type AcmeChallenge,
  type AcmeDirectory,
  type AcmeIdentifier,
  type AcmeOrder,
  LETS_ENCRYPT_PRODUCTION,
  LETS_ENCRYPT_STAGING,
  type RenewalInfo,
  toIdentifier,
} from './objects.js';
export {
  type OrderLock,
  type RedisLockClient,
  type RedisOrderLockOptions,
  redisOrderLock,
} from './order-lock.js';
export {
  type RedisChallengeClient,
  type RedisChallengeStoreOptions,
  redisChallengeStore,
} from './redis-challenges.js';
export {
  type Instant,
  parseRetryAfter,
  type RenewalTimeOptions,
  type RenewalWindow,
  type RetryDelayOptions,
  renewalTime,
  retryDelay,
} from './renewal.js';
export {
  type CertificateInfo,
  type CertKey,
  type CertKeyType,
  createCsr,
  exportKeyPem,
  generateCertKey,
  parseCertificate,
  parseCertificatePem,
  splitChain,
} from './x509.js';
