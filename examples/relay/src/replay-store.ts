/**
 * The DPoP replay cache of the relay: in memory for one instance, in Redis (shared by every
 * instance) with `redisUrl`. Redis can lose its keys while the relays keep running (a restart
 * without persistence, a move to another node, a flush); the cache then notices that its
 * epoch key is gone and the verifier refuses proofs made before the loss for a few seconds
 * (`redisReplayStore` in @fluxel/license). Only the very first use of a prefix is not a loss:
 * the database, which outlives Redis, remembers which prefixes this deployment has used.
 */
import {
  MemoryReplayStore,
  type RedisSetNx,
  type ReplayStore,
  redisReplayStore,
} from '@fluxel/license/server';
import type { SqlClient } from '@fluxel/license/sql';

/** The Redis key prefix of the relay's replay cache. */
export const REPLAY_PREFIX = 'fluxel:dpop:';

/**
 * The relay's replay cache. With Redis, the prefix is recorded in `relay_replay_stores` the
 * first time; only the instance whose insert created that row declares the cache new, so a
 * relay started against an emptied Redis (a whole stack restarted, Redis moved) still counts
 * the empty cache as a loss.
 */
export async function openReplayStore(
  database: SqlClient,
  redis: RedisSetNx | undefined,
  options: { readonly prefix?: string; readonly now?: () => number } = {},
): Promise<ReplayStore> {
  if (!redis) return new MemoryReplayStore();
  const prefix = options.prefix ?? REPLAY_PREFIX;
  const store = redisReplayStore(redis, { prefix });
  const { rows } = await database.query(
    `INSERT INTO relay_replay_stores (name, first_used) VALUES ($1, $2)
     ON CONFLICT (name) DO NOTHING RETURNING name`,
    [`redis:${prefix}`, (options.now ?? Date.now)()],
  );
  if (rows.length > 0) await store.declareNew();
  return store;
}
