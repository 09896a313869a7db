/**
 * `@fluxel/crypto`: envelope encryption for records and streams — per-record data keys,
 * AES-256-GCM / XChaCha20-Poly1305 / AES-256-GCM-SIV, key commitment, encryption context,
 * keyrings, KEK rotation, data-key caching and crypto-shredding. Runs on the Web platform;
 * uses node:crypto's synchronous bindings on Node where they are faster.
 *
 * @packageDocumentation
 */
export type { MaybePromise } from './aead.js';
export {
  type CachedDataKey,
  DataKeyCache,
  type DataKeyCacheOptions,
  type DataKeyCacheStats,
} from './cache.js';
export { type EncryptionContext, encodeContext } from './context.js';
export {
  MAX_RECORD_SIZE,
  type OpenOptions,
  open,
  type SealOptions,
  seal,
} from './envelope.js';
export {
  CRYPTO_ERROR_CODES,
  CryptoError,
  type CryptoErrorCode,
  DECRYPTION_FAILED_MESSAGE,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from './errors.js';
export { FORMAT_VERSION, type HeaderEntry } from './format.js';
export { type CiphertextInfo, inspect } from './inspect.js';
export {
  generateKey,
  type KekProvider,
  type LocalKek,
  type LocalKekOptions,
  type LocalWrapping,
  localKek,
} from './kek.js';
export { Keyring, type KeyringOptions } from './keyring.js';
export type { Backend } from './native.js';
export {
  type RewrapAllOptions,
  type RewrapOptions,
  type RewrapResult,
  type RewrapRow,
  rewrap,
  rewrapAll,
} from './rewrap.js';
export {
  MemorySubjectKeyStore,
  type StoredSubjectKey,
  type SubjectKeyStore,
  SubjectKeys,
  type SubjectKeysOptions,
} from './shred.js';
export {
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNKS,
  type OpenStreamOptions,
  openStream,
  type SealStreamOptions,
  sealStream,
} from './stream.js';
export { type ByteSource, openIterable, sealIterable } from './stream-iterable.js';
export { DEFAULT_SUITE, SUITES, type SuiteName } from './suites.js';
export { fromText, openText, sealText, TEXT_PREFIX, toText } from './text.js';
