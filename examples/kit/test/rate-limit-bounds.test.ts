/**
 * The in-memory rate limiter when its key map is full: the oldest counter still within its
 * limit is evicted for a new key; counters over their limit are kept (a flood of new keys
 * cannot lift a refusal); with every looked-at counter over its limit, a new key is refused.
 */
import { describe, expect, it } from 'vitest';
import { memoryRateLimiter } from '../src/rate-limit.ts';

describe('memory rate limiter bounds', () => {
  it('regression: a full key map evicts the oldest counter within its limit instead of refusing every new client', async () => {
    const limiter = memoryRateLimiter({ windowMs: 60_000, now: () => 1_000, maxKeys: 3 });
    expect((await limiter.hit('blocked', 1)).ok).toBe(true);
    expect((await limiter.hit('blocked', 1)).ok).toBe(false);
    expect((await limiter.hit('b', 5)).ok).toBe(true);
    expect((await limiter.hit('c', 5)).ok).toBe(true);
    // Full: the new client is admitted; 'b' (oldest within its limit) made room.
    expect((await limiter.hit('new-client', 5)).ok).toBe(true);
    // The refused key stays refused, however many new keys arrive.
    for (let i = 0; i < 20; i += 1) await limiter.hit(`flood-${i}`, 5);
    expect((await limiter.hit('blocked', 1)).ok).toBe(false);
  });

  it('with every counter over its limit, a new key is refused (fail closed), with Retry-After', async () => {
    const limiter = memoryRateLimiter({ windowMs: 60_000, now: () => 1_000, maxKeys: 2 });
    for (const key of ['x', 'y']) {
      await limiter.hit(key, 1);
      await limiter.hit(key, 1);
    }
    const refused = await limiter.hit('z', 10);
    expect(refused.ok).toBe(false);
    expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it('a new window drops every counter', async () => {
    let t = 1_000;
    const limiter = memoryRateLimiter({ windowMs: 60_000, now: () => t, maxKeys: 1 });
    await limiter.hit('x', 1);
    expect((await limiter.hit('x', 1)).ok).toBe(false);
    t += 60_000;
    expect((await limiter.hit('x', 1)).ok).toBe(true);
  });
});
