/**
 * Getting a data key for sealing (fresh, or from a cache) and recovering it for opening (from
 * the header entries the keyring holds a KEK for).
 */
import type { MaybePromise } from './aead.js';
import { randomBytes } from './bytes.js';
import { type DataKeyCache, providerKey } from './cache.js';
import { DEK_LENGTH } from './derive.js';
import { CryptoError, decryptionFailed } from './errors.js';
import type { HeaderEntry } from './format.js';
import type { KekProvider } from './kek.js';
import type { Keyring } from './keyring.js';

/** A data key and its wrapped forms. */
export interface DataKey {
  readonly dek: Uint8Array;
  readonly entries: readonly HeaderEntry[];
  /** Whether the key came from a cache (then it must not be wiped by the caller). */
  readonly cached: boolean;
}

function partitionOf(keyring: Keyring): string {
  return keyring.recipients.map(providerKey).join(',');
}

function wrapOne(kek: KekProvider, dek: Uint8Array): MaybePromise<Uint8Array> {
  try {
    const result = kek.wrap(dek);
    return result instanceof Promise
      ? result.catch((error: unknown) => {
          throw kekError(error, kek.id);
        })
      : result;
  } catch (error) {
    throw kekError(error, kek.id);
  }
}

function wrapAll(keyring: Keyring, dek: Uint8Array): MaybePromise<HeaderEntry[]> {
  const results = keyring.recipients.map((kek) => wrapOne(kek, dek));
  const toEntries = (wrapped: readonly Uint8Array[]) =>
    wrapped.map((w, i) => {
      if (!(w instanceof Uint8Array)) {
        throw new CryptoError('ERR_CRYPTO_KEK_UNAVAILABLE', 'a KEK returned no wrapped key');
      }
      return { kekId: (keyring.recipients[i] as { id: string }).id, wrapped: w };
    });
  if (results.some((r) => r instanceof Promise)) return Promise.all(results).then(toEntries);
  return toEntries(results as Uint8Array[]);
}

/** A data key for sealing `size` bytes: from the cache when it has a usable one, else fresh. */
export function dataKeyForSeal(
  keyring: Keyring,
  size: number,
  cache: DataKeyCache | undefined,
): MaybePromise<DataKey> {
  const partition = cache ? partitionOf(keyring) : '';
  const hit = cache?.takeForSeal(partition, size);
  if (hit) return { dek: hit.dek, entries: hit.entries, cached: true };
  const dek = randomBytes(DEK_LENGTH);
  const entries = wrapAll(keyring, dek);
  const done = (list: HeaderEntry[]): DataKey => {
    cache?.putForSeal(partition, { dek, entries: list }, size);
    return { dek, entries: list, cached: false };
  };
  return entries instanceof Promise ? entries.then(done) : done(entries);
}

/** A data key recovered from a header entry. */
export interface RecoveredKey {
  readonly dek: Uint8Array;
  /** True when the key came from the cache (the caller must not wipe it). */
  readonly fromCache: boolean;
  readonly entry: HeaderEntry;
  /** The KEK that unwrapped it. */
  readonly kek: KekProvider;
}

function isDecryptionFailure(error: unknown): boolean {
  return CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_DECRYPTION_FAILED';
}

function kekError(error: unknown, kekId: string): CryptoError {
  if (CryptoError.isInstance(error)) return error;
  return new CryptoError('ERR_CRYPTO_KEK_UNAVAILABLE', `KEK ${kekId} failed`, { cause: error });
}

function accept(dek: unknown, entry: HeaderEntry, kek: KekProvider): RecoveredKey {
  if (!(dek instanceof Uint8Array) || dek.length !== DEK_LENGTH) throw decryptionFailed();
  return { dek, fromCache: false, entry, kek };
}

/**
 * The data key of a message: the first header entry whose KEK the keyring holds and that
 * unwraps (synchronously when the KEK answers synchronously). No matching KEK is
 * `ERR_CRYPTO_UNKNOWN_KEK`; entries that all fail to unwrap are `ERR_CRYPTO_DECRYPTION_FAILED`;
 * other KEK errors pass through (non-`CryptoError`s as `ERR_CRYPTO_KEK_UNAVAILABLE`).
 */
export function dataKeyForOpen(
  keyring: Keyring,
  entries: readonly HeaderEntry[],
  cache: DataKeyCache | undefined,
): MaybePromise<RecoveredKey> {
  const attempt = (start: number, matched: boolean): MaybePromise<RecoveredKey> => {
    for (let i = start; i < entries.length; i++) {
      const entry = entries[i] as HeaderEntry;
      const kek = keyring.get(entry.kekId);
      if (!kek) continue;
      matched = true;
      const cached = cache?.getForOpen(kek, entry.wrapped);
      if (cached) return { dek: cached, fromCache: true, entry, kek };
      let result: MaybePromise<Uint8Array>;
      try {
        result = kek.unwrap(entry.wrapped);
      } catch (error) {
        if (isDecryptionFailure(error)) continue;
        throw kekError(error, entry.kekId);
      }
      if (result instanceof Promise) {
        return result.then(
          (dek) => accept(dek, entry, kek),
          (error: unknown) => {
            if (isDecryptionFailure(error)) return attempt(i + 1, true);
            throw kekError(error, entry.kekId);
          },
        );
      }
      return accept(result, entry, kek);
    }
    if (!matched) {
      throw new CryptoError(
        'ERR_CRYPTO_UNKNOWN_KEK',
        `no KEK of this keyring can open the message (it names ${entries.map((e) => JSON.stringify(e.kekId)).join(', ')})`,
      );
    }
    throw decryptionFailed();
  };
  return attempt(0, false);
}
