/**
 * Optional data-key caching, so a KMS round trip is not paid per record. Sealing reuses one
 * data key (and its wrapped form) for several messages until the entry is too old, has sealed
 * too many messages or too many bytes; opening remembers unwrapped data keys by their wrapped
 * form. Reuse is safe because every message derives its own key and commitment from the data
 * key and a fresh 32-byte salt, so no (key, nonce) pair repeats.
 */
import { wipe } from './bytes.js';
import { CryptoError } from './errors.js';
import type { HeaderEntry } from './format.js';
import type { KekProvider } from './kek.js';

const providerIds = new WeakMap<KekProvider, number>();
let nextProviderId = 0;

/**
 * A number unique to a provider object: cache entries belong to the KEK objects that made
 * them, never to another object that happens to carry the same id.
 */
export function providerKey(kek: KekProvider): number {
  let id = providerIds.get(kek);
  if (id === undefined) {
    id = ++nextProviderId;
    providerIds.set(kek, id);
  }
  return id;
}

/**
 * Limits of a {@link DataKeyCache}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DataKeyCache, type DataKeyCacheOptions } from '@fluxel/crypto';
 *
 * // One data key for at most 5 minutes, 10 000 records or 1 GiB, whichever comes first.
 * const options: DataKeyCacheOptions = { maxAge: 5 * 60_000, maxMessages: 10_000, maxBytes: 1 << 30 };
 * const cache = new DataKeyCache(options);
 * assert.deepEqual(cache.stats, { hits: 0, misses: 0 });
 * ```
 */
export interface DataKeyCacheOptions {
  /** Longest time an entry is used, in ms (required: there is no safe default). */
  readonly maxAge: number;
  /** Most messages sealed with one data key. Default 2^32. */
  readonly maxMessages?: number;
  /** Most plaintext bytes sealed with one data key. Default 2^50. */
  readonly maxBytes?: number;
  /** Most entries held (seal and open entries, each). Default 1000. */
  readonly maxEntries?: number;
  /** The clock, in ms (tests inject a fake one). Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A cached data key with what it has sealed so far.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type CachedDataKey, DataKeyCache, generateKey } from '@fluxel/crypto';
 *
 * const cache = new DataKeyCache({ maxAge: 60_000 });
 * const key: CachedDataKey = { dek: generateKey(), entries: [{ kekId: 'local-1', wrapped: new Uint8Array(61) }] };
 * cache.putForSeal('local-1', key, 100);
 * assert.deepEqual(cache.takeForSeal('local-1', 100)?.entries, key.entries);
 * ```
 */
export interface CachedDataKey {
  /** The data key itself. */
  readonly dek: Uint8Array;
  /** Its wrapped forms, one per recipient KEK. */
  readonly entries: readonly HeaderEntry[];
}

interface SealEntry extends CachedDataKey {
  readonly created: number;
  messages: number;
  bytes: number;
}

interface OpenEntry {
  readonly dek: Uint8Array;
  readonly created: number;
}

/**
 * Counters of a {@link DataKeyCache}, for tests and metrics.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DataKeyCache, type DataKeyCacheStats, generateKey, Keyring, localKek, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const cache = new DataKeyCache({ maxAge: 60_000 });
 * for (let i = 0; i < 3; i++) await seal(new Uint8Array([i]), { keyring, cache });
 * const stats: DataKeyCacheStats = cache.stats; // one new data key, then two reuses
 * assert.deepEqual(stats, { hits: 2, misses: 1 });
 * ```
 */
export interface DataKeyCacheStats {
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups that needed a new data key or an unwrap. */
  misses: number;
}

/**
 * A bounded data-key cache; pass it to seal/open/stream options as `cache`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DataKeyCache, generateKey, inspect, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const cache = new DataKeyCache({ maxAge: 5 * 60_000, maxMessages: 10_000 });
 * const a = await seal(new TextEncoder().encode('row 1'), { keyring, cache });
 * const b = await seal(new TextEncoder().encode('row 2'), { keyring, cache });
 * // Both records share one wrapped data key: one KEK call for the batch.
 * assert.deepEqual(inspect(a).kekIds, inspect(b).kekIds);
 * assert.equal(new TextDecoder().decode(await open(b, { keyring, cache })), 'row 2');
 * cache.clear(); // wipes every cached key
 * ```
 */
export class DataKeyCache {
  readonly #maxAge: number;
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #seal = new Map<string, SealEntry>();
  readonly #open = new Map<string, OpenEntry>();
  /** Hits and misses so far. */
  readonly stats: DataKeyCacheStats = { hits: 0, misses: 0 };

  /** Creates a cache; limits out of range are `ERR_CRYPTO_INVALID_ARGUMENT`. */
  constructor(options: DataKeyCacheOptions) {
    const positive = (value: number | undefined, fallback: number, name: string) => {
      const v = value ?? fallback;
      if (typeof v !== 'number' || !(v > 0) || Number.isNaN(v)) {
        throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `cache ${name} must be positive`);
      }
      return v;
    };
    this.#maxAge = positive(options?.maxAge, Number.NaN, 'maxAge');
    this.#maxMessages = Math.min(positive(options.maxMessages, 2 ** 32, 'maxMessages'), 2 ** 32);
    this.#maxBytes = positive(options.maxBytes, 2 ** 50, 'maxBytes');
    this.#maxEntries = positive(options.maxEntries, 1000, 'maxEntries');
    this.#now = options.now ?? Date.now;
  }

  /**
   * The data key to seal `size` more bytes under `partition`, counting the message, or
   * `undefined` when none is usable (then call {@link DataKeyCache.putForSeal}).
   */
  takeForSeal(partition: string, size: number): CachedDataKey | undefined {
    if (size > this.#maxBytes) {
      // Too large for any cached key: sealed with a key of its own, the cache left as it is.
      this.stats.misses++;
      return undefined;
    }
    const entry = this.#seal.get(partition);
    if (entry) {
      const fresh = this.#now() - entry.created < this.#maxAge;
      if (fresh && entry.messages < this.#maxMessages && entry.bytes + size <= this.#maxBytes) {
        entry.messages++;
        entry.bytes += size;
        this.stats.hits++;
        return entry;
      }
      this.#seal.delete(partition);
      wipe(entry.dek);
    }
    this.stats.misses++;
    return undefined;
  }

  /** Stores a new data key that has just sealed one message of `size` bytes. */
  putForSeal(partition: string, key: CachedDataKey, size: number): void {
    if (size > this.#maxBytes) return;
    this.#bound(this.#seal);
    this.#seal.set(partition, {
      dek: key.dek.slice(),
      entries: key.entries,
      created: this.#now(),
      messages: 1,
      bytes: size,
    });
  }

  /** An unwrapped data key remembered for `wrapped`, if fresh. */
  getForOpen(kek: KekProvider, wrapped: Uint8Array): Uint8Array | undefined {
    const id = openKey(kek, wrapped);
    const entry = this.#open.get(id);
    if (entry && this.#now() - entry.created < this.#maxAge) {
      this.stats.hits++;
      return entry.dek;
    }
    if (entry) {
      this.#open.delete(id);
      wipe(entry.dek);
    }
    this.stats.misses++;
    return undefined;
  }

  /** Remembers an unwrapped (and commitment-checked) data key. */
  putForOpen(kek: KekProvider, wrapped: Uint8Array, dek: Uint8Array): void {
    this.#bound(this.#open);
    this.#open.set(openKey(kek, wrapped), { dek: dek.slice(), created: this.#now() });
  }

  /** Forgets (and overwrites) every cached key, e.g. after destroying a KEK. */
  clear(): void {
    for (const entry of this.#seal.values()) wipe(entry.dek);
    for (const entry of this.#open.values()) wipe(entry.dek);
    this.#seal.clear();
    this.#open.clear();
  }

  /** Number of entries held (seal + open). */
  get size(): number {
    return this.#seal.size + this.#open.size;
  }

  #bound(map: Map<string, { dek: Uint8Array }>): void {
    while (map.size >= this.#maxEntries) {
      const oldest = map.keys().next().value as string;
      wipe((map.get(oldest) as { dek: Uint8Array }).dek);
      map.delete(oldest);
    }
  }
}

function openKey(kek: KekProvider, wrapped: Uint8Array): string {
  let hex = '';
  for (const byte of wrapped) hex += byte.toString(16).padStart(2, '0');
  return `${providerKey(kek)}:${hex}`;
}
