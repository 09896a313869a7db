/**
 * Seal and open of one record: a data key per record (or from a bounded cache), wrapped by
 * the keyring's recipients; a committing per-message key; the header and the encryption
 * context bound as AAD.
 */
import { type MaybePromise, TAG_LENGTH } from './aead.js';
import { allocOutput, randomBytes, wipe } from './bytes.js';
import type { DataKeyCache } from './cache.js';
import { type EncryptionContext, encodeContext } from './context.js';
import { dataKeyForOpen, dataKeyForSeal, type RecoveredKey } from './datakey.js';
import { commitmentMatches, deriveMessageKey } from './derive.js';
import { CryptoError, decryptionFailed } from './errors.js';
import { encodeEntries, encodePrefix, type Header, parseComplete, SALT_LENGTH } from './format.js';
import { checkKeyring, type Keyring } from './keyring.js';
import { DEFAULT_SUITE, type SuiteName, suiteByName } from './suites.js';

/**
 * Options of {@link seal}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DataKeyCache, generateKey, inspect, Keyring, localKek, type SealOptions, seal } from '@fluxel/crypto';
 *
 * const options: SealOptions = {
 *   keyring: new Keyring([localKek({ id: 'local-1', key: generateKey() })]),
 *   context: { tenant: 'acme' },
 *   suite: 'xchacha20-poly1305',
 *   cache: new DataKeyCache({ maxAge: 60_000 }),
 * };
 * assert.equal(inspect(await seal(new Uint8Array(10), options)).suite, 'xchacha20-poly1305');
 * ```
 */
export interface SealOptions {
  /** The KEKs; the data key is wrapped under `keyring.recipients`. */
  readonly keyring: Keyring;
  /** Bound as AAD; the same map must be given to {@link open}. */
  readonly context?: EncryptionContext;
  /** Default `aes-256-gcm`. */
  readonly suite?: SuiteName;
  /** Reuse data keys within the cache's limits. */
  readonly cache?: DataKeyCache;
}

/**
 * Options of {@link open}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, type OpenOptions, open, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const sealed = await seal(Uint8Array.of(1, 2, 3), { keyring, context: { tenant: 'acme' } });
 * const options: OpenOptions = { keyring, context: { tenant: 'acme' } };
 * assert.deepEqual(await open(sealed, options), Uint8Array.of(1, 2, 3));
 * ```
 */
export interface OpenOptions {
  /** Must hold a KEK named in the header. */
  readonly keyring: Keyring;
  /** Must equal the context given at sealing. */
  readonly context?: EncryptionContext;
  /** Remember unwrapped data keys within the cache's limits. */
  readonly cache?: DataKeyCache;
}

/**
 * Largest record {@link seal} accepts (use streams above): 2^31 − 1 bytes.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MAX_RECORD_SIZE } from '@fluxel/crypto';
 *
 * // Above this, seal a stream (sealStream, sealIterable) instead of one record.
 * const useStream = (size: number) => size > MAX_RECORD_SIZE;
 * assert.equal(MAX_RECORD_SIZE, 2 ** 31 - 1);
 * assert.equal(useStream(4 * 2 ** 30), true);
 * ```
 */
export const MAX_RECORD_SIZE = 2 ** 31 - 1;

// The last context encoded, by content: services seal and open record after record under
// the same few context values, and comparing them costs a fraction of encoding them again.
let lastKeys: readonly string[] = [];
let lastValues: readonly unknown[] = [];
let lastEncoding: Uint8Array | undefined;

/**
 * `encodeContext`, remembering the last result (compared key by key and value by value). The
 * returned bytes are shared: read them, never write them.
 */
export function contextBytes(context: EncryptionContext | undefined): Uint8Array {
  if (
    lastEncoding !== undefined &&
    typeof context === 'object' &&
    context !== null &&
    Object.getPrototypeOf(context) === Object.prototype
  ) {
    const keys = Object.keys(context);
    if (keys.length === lastKeys.length) {
      let same = true;
      for (let i = 0; i < keys.length && same; i++) {
        const key = keys[i] as string;
        same = key === lastKeys[i] && context[key] === lastValues[i];
      }
      if (same) return lastEncoding;
    }
  }
  const encoding = encodeContext(context);
  if (context !== undefined) {
    const keys = Object.keys(context);
    lastKeys = keys;
    lastValues = keys.map((key) => context[key]);
    lastEncoding = encoding;
  }
  return encoding;
}

/** Concatenates the authenticated prefix and the context encoding. */
export function aadOf(prefix: Uint8Array, context: Uint8Array): Uint8Array {
  const aad = new Uint8Array(prefix.length + context.length);
  aad.set(prefix);
  aad.set(context, prefix.length);
  return aad;
}

/**
 * Encrypts one record. The result is the binary format (see the README); `toText` gives the
 * base64url text form. Bad arguments are `ERR_CRYPTO_INVALID_ARGUMENT`; KEK failures pass through.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const sealed = await seal(new TextEncoder().encode('api-key-123'), {
 *   keyring,
 *   context: { tenant: 'acme', record: '42' },
 * });
 * assert.equal(inspect(sealed).suite, 'aes-256-gcm');
 * assert.deepEqual(inspect(sealed).kekIds, ['local-1']);
 * ```
 */
export async function seal(plaintext: Uint8Array, options: SealOptions): Promise<Uint8Array> {
  if (!(plaintext instanceof Uint8Array)) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'the plaintext is a Uint8Array');
  }
  if (plaintext.length > MAX_RECORD_SIZE) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'record too large: use sealStream');
  }
  const keyring = checkKeyring(options?.keyring);
  const suite = suiteByName(options.suite ?? DEFAULT_SUITE);
  const context = contextBytes(options.context);
  const pending = dataKeyForSeal(keyring, plaintext.length, options.cache);
  const dataKey = pending instanceof Promise ? await pending : pending;
  const random = randomBytes(SALT_LENGTH + suite.aead.nonceLength);
  const salt = random.subarray(0, SALT_LENGTH);
  const nonce = random.subarray(SALT_LENGTH);
  const { key, commitment } = deriveMessageKey(dataKey.dek, salt, suite);
  if (!dataKey.cached) wipe(dataKey.dek);
  const prefix = encodePrefix(suite, 0, salt, commitment, nonce);
  const entries = encodeEntries(dataKey.entries);
  const bodyOffset = prefix.length + entries.length;
  const out = allocOutput(bodyOffset + plaintext.length + TAG_LENGTH);
  out.set(prefix, 0);
  out.set(entries, prefix.length);
  const done = suite.aead.seal(key, nonce, plaintext, aadOf(prefix, context), out, bodyOffset);
  if (done instanceof Promise) await done;
  wipe(key);
  return out;
}

/**
 * Recovers the message key of a parsed header, checking the key commitment.
 * A commitment mismatch is `ERR_CRYPTO_DECRYPTION_FAILED`.
 */
export function messageKeyOf(
  header: Header,
  keyring: Keyring,
  cache: DataKeyCache | undefined,
): MaybePromise<Uint8Array> {
  const finish = ({ dek, fromCache, entry, kek }: RecoveredKey): Uint8Array => {
    const { key, commitment } = deriveMessageKey(dek, header.salt, header.suite);
    if (!commitmentMatches(commitment, header.commitment)) {
      wipe(key);
      if (!fromCache) wipe(dek);
      throw decryptionFailed();
    }
    if (!fromCache) {
      cache?.putForOpen(kek, entry.wrapped, dek);
      wipe(dek);
    }
    return key;
  };
  const recovered = dataKeyForOpen(keyring, header.entries, cache);
  return recovered instanceof Promise ? recovered.then(finish) : finish(recovered);
}

/**
 * Decrypts one record. Wrong key, tag, commitment or context: `ERR_CRYPTO_DECRYPTION_FAILED`
 * ("decryption failed", nothing more). Bad structure: `ERR_CRYPTO_MALFORMED`; newer format:
 * `ERR_CRYPTO_UNSUPPORTED_VERSION`; no KEK of the keyring named: `ERR_CRYPTO_UNKNOWN_KEK`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, generateKey, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const context = { tenant: 'acme', record: '42' };
 * const sealed = await seal(new TextEncoder().encode('api-key-123'), { keyring, context });
 * assert.equal(new TextDecoder().decode(await open(sealed, { keyring, context })), 'api-key-123');
 * // Another context (another row) does not open it, and the error says nothing more.
 * await assert.rejects(open(sealed, { keyring, context: { ...context, record: '43' } }), (error) =>
 *   CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_DECRYPTION_FAILED',
 * );
 * ```
 */
export async function open(ciphertext: Uint8Array, options: OpenOptions): Promise<Uint8Array> {
  const keyring = checkKeyring(options?.keyring);
  const context = contextBytes(options.context);
  const header = parseComplete(ciphertext);
  if (header.chunkSize > 0) {
    throw new CryptoError('ERR_CRYPTO_MALFORMED', 'this is a stream: use openStream');
  }
  const body = ciphertext.subarray(header.bodyOffset);
  if (body.length < TAG_LENGTH) throw new CryptoError('ERR_CRYPTO_MALFORMED', 'truncated body');
  const pending = messageKeyOf(header, keyring, options.cache);
  const key = pending instanceof Promise ? await pending : pending;
  try {
    const result = header.suite.aead.open(key, header.nonce, body, aadOf(header.prefix, context));
    return result instanceof Promise ? await result : result;
  } finally {
    wipe(key);
  }
}
