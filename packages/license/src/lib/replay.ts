/**
 * Replay caches for DPoP proof identifiers. A proof's `jti` is recorded for as long as the
 * proof could be accepted; a second use within that time is a replay. Memory for one
 * process; Redis when several relay instances share the load.
 */
import { LicenseError } from './errors.js';

/**
 * Records proof identifiers.
 *
 * @example
 * ```ts
 * import { createDpopVerifier, type ReplayStore } from '@fluxel/license/server';
 *
 * // Your own shared cache: `remember` returns false when the id was seen before.
 * const seen = new Set<string>();
 * const replay: ReplayStore = {
 *   remember(id) {
 *     if (seen.has(id)) return false;
 *     seen.add(id);
 *     return true;
 *   },
 * };
 * createDpopVerifier({ replay });
 * ```
 */
export interface ReplayStore {
  /**
   * Records `id` for `ttlSeconds`. Resolves `true` when it was new, `false` when it had been
   * recorded before and not yet expired (a replay).
   */
  remember(id: string, ttlSeconds: number): boolean | Promise<boolean>;
}

/**
 * Options of {@link MemoryReplayStore}.
 *
 * @example
 * ```ts
 * import { MemoryReplayStore, type MemoryReplayStoreOptions } from '@fluxel/license/server';
 *
 * const options: MemoryReplayStoreOptions = { maxEntries: 50_000 };
 * new MemoryReplayStore(options);
 * ```
 */
export interface MemoryReplayStoreOptions {
  /**
   * Upper bound on remembered identifiers. When it is reached with none expired, new proofs
   * are refused (`ERR_LICENSE_STORAGE`) rather than accepted unrecorded. Default 250 000.
   */
  readonly maxEntries?: number;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * A replay cache in this process's memory.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryReplayStore } from '@fluxel/license/server';
 *
 * const replay = new MemoryReplayStore(); // one instance; redisReplayStore for several
 * assert.equal(replay.remember('jkt:jti-1', 60), true);
 * assert.equal(replay.remember('jkt:jti-1', 60), false); // a replay
 * ```
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #seen = new Map<string, number>();
  /** No entry expires before this time, so no sweep is needed before it. */
  #sweepAt = Number.POSITIVE_INFINITY;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.#max = options.maxEntries ?? 250_000;
    this.#now = options.now ?? Date.now;
  }

  /** Number of identifiers currently remembered. */
  get size(): number {
    return this.#seen.size;
  }

  remember(id: string, ttlSeconds: number): boolean {
    const now = this.#now();
    const expires = this.#seen.get(id);
    if (expires !== undefined && expires > now) return false;
    if (expires !== undefined) this.#seen.delete(id);
    if (now >= this.#sweepAt) this.#sweep(now);
    if (this.#seen.size >= this.#max) {
      throw new LicenseError(
        'ERR_LICENSE_STORAGE',
        'the DPoP replay cache is full; raise maxEntries or use a shared store',
      );
    }
    const until = now + ttlSeconds * 1000;
    this.#seen.set(id, until);
    if (until < this.#sweepAt) this.#sweepAt = until;
    return true;
  }

  // Entries are inserted roughly in expiry order, so expired ones sit at the front. A sweep
  // runs only once the first entry can have expired (not on every call: it allocates).
  #sweep(now: number): void {
    this.#sweepAt = Number.POSITIVE_INFINITY;
    for (const [key, expires] of this.#seen) {
      if (expires > now) {
        this.#sweepAt = expires;
        break;
      }
      this.#seen.delete(key);
    }
  }
}

/**
 * The one Redis command the Redis replay store needs, in node-redis (v4/v5) form.
 *
 * @example
 * ```ts
 * import type { RedisSetNx } from '@fluxel/license/server';
 *
 * // node-redis fits as it is; a stand-in that answers like Redis:
 * const keys = new Set<string>();
 * const client: RedisSetNx = {
 *   async set(key) {
 *     if (keys.has(key)) return null;
 *     keys.add(key);
 *     return 'OK';
 *   },
 * };
 * console.log(await client.set('k', '1', { NX: true, PX: 1000 })); // 'OK'
 * ```
 */
export interface RedisSetNx {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
}

/**
 * A replay cache in Redis (`SET key 1 NX PX ttl`), shared by every relay instance. For ioredis,
 * pass `{ set: (k, v, o) => client.set(k, v, 'PX', o.PX, 'NX') }`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RedisSetNx, redisReplayStore } from '@fluxel/license/server';
 *
 * // With node-redis: redisReplayStore(await createClient({ url }).connect()).
 * // Here an in-memory stand-in that answers SET … NX like Redis:
 * const keys = new Set<string>();
 * const redis: RedisSetNx = {
 *   set: async (key) => (keys.has(key) ? null : (keys.add(key), 'OK')),
 * };
 * const replay = redisReplayStore(redis, { prefix: 'relay:dpop:' });
 * assert.equal(await replay.remember('jti-1', 60), true);
 * assert.equal(await replay.remember('jti-1', 60), false);
 * ```
 */
export function redisReplayStore(
  client: RedisSetNx,
  options: { prefix?: string } = {},
): ReplayStore {
  const prefix = options.prefix ?? 'fluxel:dpop:';
  return {
    async remember(id, ttlSeconds) {
      let reply: unknown;
      try {
        reply = await client.set(prefix + id, '1', { NX: true, PX: Math.ceil(ttlSeconds * 1000) });
      } catch (cause) {
        throw new LicenseError(
          'ERR_LICENSE_STORAGE',
          'the DPoP replay cache (Redis) is unreachable',
          { cause },
        );
      }
      return reply === 'OK';
    },
  };
}
