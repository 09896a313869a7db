/**
 * Fixed-window rate limits (per client IP, per license): in this process's memory, or in Redis
 * (`INCR` + `PEXPIRE` on a key per window) so every relay instance counts together.
 */

export interface RateLimitDecision {
  readonly ok: boolean;
  /** Seconds until the window resets (when refused). */
  readonly retryAfter: number;
}

export interface RateLimiter {
  /** Counts one request against `key`, allowing `limit` per window. */
  hit(key: string, limit: number): Promise<RateLimitDecision>;
}

function decision(count: number, limit: number, windowMs: number, now: number) {
  const resetAt = (Math.floor(now / windowMs) + 1) * windowMs;
  return { ok: count <= limit, retryAfter: Math.max(1, Math.ceil((resetAt - now) / 1000)) };
}

/** A rate limiter in memory (one instance). */
export function memoryRateLimiter(options: {
  windowMs: number;
  now?: () => number;
  maxKeys?: number;
}): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  let window = -1;
  let counts = new Map<string, number>();
  return {
    async hit(key, limit) {
      const t = now();
      const current = Math.floor(t / options.windowMs);
      if (current !== window) {
        window = current;
        counts = new Map();
      }
      const count = (counts.get(key) ?? 0) + 1;
      // A flood of distinct keys cannot grow the map without bound: beyond it, refuse.
      if (counts.size >= maxKeys && !counts.has(key))
        return decision(limit + 1, limit, options.windowMs, t);
      counts.set(key, count);
      return decision(count, limit, options.windowMs, t);
    },
  };
}

/** The Redis commands the Redis rate limiter needs, in node-redis (v4/v5) form. */
export interface RedisCounter {
  multi(): {
    incr(key: string): unknown;
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
    async hit(key, limit) {
      const t = now();
      const redisKey = `${prefix}${key}:${Math.floor(t / options.windowMs)}`;
      const tx = client.multi();
      tx.incr(redisKey);
      tx.pExpire(redisKey, options.windowMs);
      const [count] = await tx.exec();
      return decision(Number(count), limit, options.windowMs, t);
    },
  };
}
