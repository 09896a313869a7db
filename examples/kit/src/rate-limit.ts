/**
 * Fixed-window rate limits (per client IP, per license): in this process's memory, or in Redis
 * (`INCRBY` + `PEXPIRE` on a key per window) so every relay instance counts together. A hit
 * may cost more than one (a batch of sends counts as its items, in one command).
 */

export interface RateLimitDecision {
  readonly ok: boolean;
  /** Seconds until the window resets (when refused). */
  readonly retryAfter: number;
}

export interface RateLimiter {
  /** Counts `cost` (default 1) against `key`, allowing `limit` per window. */
  hit(key: string, limit: number, cost?: number): Promise<RateLimitDecision>;
}

function decision(count: number, limit: number, windowMs: number, now: number) {
  const resetAt = (Math.floor(now / windowMs) + 1) * windowMs;
  return { ok: count <= limit, retryAfter: Math.max(1, Math.ceil((resetAt - now) / 1000)) };
}

/** Entries looked at, oldest first, for one to evict when the memory limiter is full. */
const EVICTION_SCAN = 32;

/**
 * A rate limiter in memory (one instance). Counters live for their window (all are dropped
 * when a new window starts). At most `maxKeys` (default 100 000) are kept: when a new key
 * finds the map full, the oldest counter still within its limit is evicted (that client
 * starts afresh: it gains at most one window's worth of requests), while counters over
 * their limit are kept — a flood of new keys cannot lift a refusal. Only when the oldest
 * entries looked at are all over their limit is the new key refused (fail closed, 429).
 */
export function memoryRateLimiter(options: {
  windowMs: number;
  now?: () => number;
  maxKeys?: number;
}): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  let window = -1;
  let counts = new Map<string, { count: number; limit: number }>();
  const evictOne = (): boolean => {
    const oldest: string[] = [];
    for (const key of counts.keys()) {
      oldest.push(key);
      if (oldest.length >= EVICTION_SCAN) break;
    }
    for (const key of oldest) {
      const entry = counts.get(key);
      if (!entry) continue;
      counts.delete(key);
      if (entry.count <= entry.limit) return true;
      // Over its limit: kept, moved to the back so the next scan looks at others.
      counts.set(key, entry);
    }
    return false;
  };
  return {
    async hit(key, limit, cost = 1) {
      const t = now();
      const current = Math.floor(t / options.windowMs);
      if (current !== window) {
        window = current;
        counts = new Map();
      }
      let entry = counts.get(key);
      if (!entry) {
        if (counts.size >= maxKeys && !evictOne())
          return decision(limit + 1, limit, options.windowMs, t);
        entry = { count: 0, limit };
        counts.set(key, entry);
      }
      entry.count += cost;
      entry.limit = limit;
      return decision(entry.count, limit, options.windowMs, t);
    },
  };
}

/** The Redis commands the Redis rate limiter needs, in node-redis (v4/v5) form. */
export interface RedisCounter {
  multi(): {
    incrBy(key: string, increment: number): unknown;
    pExpire(key: string, ms: number): unknown;
    exec(): Promise<unknown[]>;
  };
}

/** A rate limiter in Redis, shared by every relay instance. */
export function redisRateLimiter(
  client: RedisCounter,
  options: { windowMs: number; prefix?: string; now?: () => number },
): RateLimiter {
  const now = options.now ?? Date.now;
  const prefix = options.prefix ?? 'fluxel:rl:';
  return {
    async hit(key, limit, cost = 1) {
      const t = now();
      const redisKey = `${prefix}${key}:${Math.floor(t / options.windowMs)}`;
      const tx = client.multi();
      tx.incrBy(redisKey, cost);
      tx.pExpire(redisKey, options.windowMs);
      const [count] = await tx.exec();
      return decision(Number(count), limit, options.windowMs, t);
    },
  };
}
