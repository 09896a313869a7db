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
   * recorded before and not yet expired (a replay). A store that can lose entries while the
   * verifiers keep running (Redis restarted empty, flushed, or failed over to a replica that
   * lacked them) answers a {@link ReplayAnswer} instead, saying since when it holds every id.
   */
  remember(id: string, ttlSeconds: number): ReplayAnswer | Promise<ReplayAnswer>;
}

/**
 * What a {@link ReplayStore} answers: `true` (new) or `false` (a replay), or, from a store that
 * can lose entries, whether the id was new and `since` when (milliseconds since the epoch) the
 * store has held every id recorded in it. The verifier refuses a proof made before `since`
 * plus twice the clock skew: it may have been used before the store lost its entries
 * (`ERR_LICENSE_STORAGE` with `retryAfterSeconds`; a new proof succeeds once that has passed).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { ReplayAnswer } from '@fluxel/license/server';
 *
 * const isNew = (answer: ReplayAnswer) => (typeof answer === 'boolean' ? answer : answer.fresh);
 * assert.equal(isNew(true), true); // from a store in memory
 * // From a shared cache that started empty at 12:00:00 and has recorded every id since:
 * assert.equal(isNew({ fresh: false, since: Date.parse('2026-12-07T12:00:00Z') }), false);
 * ```
 */
export type ReplayAnswer = boolean | { readonly fresh: boolean; readonly since: number };

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
 * The one Redis command the Redis replay store needs, `SET`, in node-redis (v4/v5) form: with
 * `NX` and `PX` to record an id, with `NX` and `GET` to read (or start) the store's memory
 * epoch. `SET … NX GET` needs Redis 7.0 or later.
 *
 * @example
 * ```ts
 * import type { RedisSetNx } from '@fluxel/license/server';
 *
 * // node-redis fits as it is; a stand-in that answers like Redis:
 * const values = new Map<string, string>();
 * const client: RedisSetNx = {
 *   async set(key, value, options) {
 *     const old = values.get(key) ?? null;
 *     if (old === null) values.set(key, value);
 *     return 'GET' in options ? old : old === null ? 'OK' : null;
 *   },
 * };
 * console.log(await client.set('k', '1', { NX: true, PX: 1000 })); // 'OK'
 * ```
 */
export interface RedisSetNx {
  set(
    key: string,
    value: string,
    options: { NX: true; PX: number } | { NX: true; GET: true },
  ): Promise<unknown>;
}

/**
 * Options of {@link redisReplayStore}.
 *
 * @example
 * ```ts
 * import type { RedisReplayStoreOptions } from '@fluxel/license/server';
 *
 * const options: RedisReplayStoreOptions = { prefix: 'relay:dpop:' };
 * console.log(options.prefix);
 * ```
 */
export interface RedisReplayStoreOptions {
  /** Prefix of the keys. Default `fluxel:dpop:`; the epoch is `<prefix>memory-since`. */
  readonly prefix?: string;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * The Redis replay cache: a {@link ReplayStore} that knows when its entries may have been lost.
 *
 * @example
 * ```ts
 * import type { RedisReplayStore } from '@fluxel/license/server';
 *
 * // What a deployment does on its very first start (its own database says so):
 * async function firstStart(store: RedisReplayStore) {
 *   await store.declareNew();
 * }
 * console.log(typeof firstStart);
 * ```
 */
export interface RedisReplayStore extends ReplayStore {
  /**
   * Declares that nothing was ever recorded under this prefix (a first deployment): proofs
   * are accepted at once. Without it, the first use of an empty prefix counts as a loss and
   * proofs made up to twice the clock skew before it are refused. Call it only when something
   * durable besides Redis says the prefix was never used (the relay asks its database);
   * after a loss it would reopen the replay window it exists to close. A no-op when the
   * prefix already has an epoch.
   */
  declareNew(): Promise<void>;
}

/**
 * A replay cache in Redis (`SET key 1 NX PX ttl`), shared by every relay instance. Beside the
 * ids it keeps one key without expiry, `<prefix>memory-since`: the time from which Redis has
 * held every id. When Redis loses its data (a restart without persistence, a flush, a failover
 * to a replica that lacked the keys), the next `remember` finds that key gone and starts it
 * anew (`SET … NX GET`), and the verifier refuses proofs made before then, which could be
 * replays of proofs used before the loss. Use a `noeviction` (or `volatile-*`) memory policy:
 * an evicted id is a forgotten one. For ioredis, pass
 * `{ set: (k, v, o) => ('GET' in o ? client.set(k, v, 'NX', 'GET') : client.set(k, v, 'PX', o.PX, 'NX')) }`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RedisSetNx, redisReplayStore } from '@fluxel/license/server';
 *
 * // With node-redis: redisReplayStore(await createClient({ url }).connect()).
 * // Here an in-memory stand-in that answers SET … NX like Redis:
 * const values = new Map<string, string>();
 * const redis: RedisSetNx = {
 *   async set(key, value, options) {
 *     const old = values.get(key) ?? null;
 *     if (old === null) values.set(key, value);
 *     return 'GET' in options ? old : old === null ? 'OK' : null;
 *   },
 * };
 * const replay = redisReplayStore(redis, { prefix: 'relay:dpop:' });
 * await replay.declareNew(); // a first deployment: nothing was recorded before
 * assert.deepEqual(await replay.remember('jti-1', 60), { fresh: true, since: 0 });
 * assert.deepEqual(await replay.remember('jti-1', 60), { fresh: false, since: 0 });
 * ```
 */
export function redisReplayStore(
  client: RedisSetNx,
  options: RedisReplayStoreOptions = {},
): RedisReplayStore {
  const prefix = options.prefix ?? 'fluxel:dpop:';
  const now = options.now ?? Date.now;
  const epochKey = `${prefix}memory-since`;
  const unreachable = (cause: unknown) =>
    new LicenseError('ERR_LICENSE_STORAGE', 'the DPoP replay cache (Redis) is unreachable', {
      cause,
    });
  return {
    async remember(id, ttlSeconds) {
      const started = String(now());
      let replies: [unknown, unknown];
      try {
        // Both commands go out together (node-redis pipelines them). Whichever order Redis
        // runs them in, an id recorded into an emptied Redis finds the epoch gone as well.
        replies = await Promise.all([
          client.set(prefix + id, '1', { NX: true, PX: Math.ceil(ttlSeconds * 1000) }),
          client.set(epochKey, started, { NX: true, GET: true }),
        ]);
      } catch (cause) {
        throw unreachable(cause);
      }
      const [reply, epoch] = replies;
      return { fresh: reply === 'OK', since: sinceOf(epoch ?? started, epochKey) };
    },
    async declareNew() {
      try {
        await client.set(epochKey, '0', { NX: true, GET: true });
      } catch (cause) {
        throw unreachable(cause);
      }
    },
  };
}

function sinceOf(value: unknown, key: string): number {
  const text = typeof value === 'string' ? value : String(value);
  const since = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(since)) {
    // Never accept unrecorded, never refuse for ever: say what is wrong and how to mend it.
    throw new LicenseError(
      'ERR_LICENSE_STORAGE',
      `the DPoP replay cache's key ${key} does not hold a time in milliseconds; delete it (the next proofs made before its deletion are then refused for a few seconds)`,
    );
  }
  return since;
}
