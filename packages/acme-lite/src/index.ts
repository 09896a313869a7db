/**
 * `@fluxel/acme-lite`: Let's Encrypt without an admin: a small RFC 8555 client for HTTP-01,
 * certificate store, ARI-driven renewal, hot reload and an HTTPS evaluate check.
 *
 * This entry point is Web-platform code (fetch, Web Crypto). The file store, node:http
 * responder, hot reload, evaluate and the renewal manager are in `@fluxel/acme-lite/node`.
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
