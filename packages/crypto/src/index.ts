/**
 * `@fluxel/crypto`: Envelope encryption for records and streams: per-record data keys, AES-256-GCM / XChaCha20-Poly1305 / AES-GCM-SIV, key commitment, keyrings, KEK rotation and crypto-shredding.
 *
 * @packageDocumentation
 */
export {
  CRYPTO_ERROR_CODES,
  CryptoError,
  type CryptoErrorCode,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from './errors.js';
