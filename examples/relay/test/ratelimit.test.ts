/** Rate limits in memory: per client IP on every route, fixed windows. */

import { memoryRateLimiter } from '@fluxel-example/kit/rate-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, rawRequest, startHarness } from './helpers.ts';

describe('rate limits (memory)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ relay: { rateLimit: { perIp: 3, windowMs: 3_600_000 } } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the request past the per-IP limit is a 429 problem with Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await rawRequest(h, 'GET', '/v1/status')).status).toBe(401);
    const limited = await rawRequest(h, 'GET', '/v1/status');
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(limited.json).toMatchObject({ code: 'ERR_RATE_LIMITED', retryable: true, retryAfter });
    // Webhooks come from the same limiter (it runs before anything else).
    expect((await rawRequest(h, 'POST', '/v1/hooks/shop-1', { body: '{}' })).status).toBe(429);
  });

  it('windows are fixed: the count starts again in the next window', async () => {
    let now = 10_000;
    const limiter = memoryRateLimiter({ windowMs: 1000, now: () => now });
    expect((await limiter.hit('k', 2)).ok).toBe(true);
    expect((await limiter.hit('k', 2)).ok).toBe(true);
    expect(await limiter.hit('k', 2)).toEqual({ ok: false, retryAfter: 1 });
    expect((await limiter.hit('other', 2)).ok).toBe(true);
    now += 1000;
    expect((await limiter.hit('k', 2)).ok).toBe(true);
  });

  it('a hit may cost more than one (a batch counts its items in one update)', async () => {
    const limiter = memoryRateLimiter({ windowMs: 60_000 });
    expect((await limiter.hit('k', 5, 4)).ok).toBe(true);
    expect((await limiter.hit('k', 5, 1)).ok).toBe(true);
    expect((await limiter.hit('k', 5, 2)).ok).toBe(false);
    expect((await limiter.hit('other', 5, 6)).ok).toBe(false);
  });
});
