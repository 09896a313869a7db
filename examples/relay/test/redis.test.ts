/**
 * Redis (`REDIS_URL`, default redis://127.0.0.1:6379): two relay instances share the DPoP replay
 * cache, so a proof used at one is refused at the other; fixed-window rate limits per IP and per
 * license answer 429 with Retry-After (in memory, and in Redis counted across instances).
 */
import { missingDependency } from '@fluxel/internal/testing';
import { createDpopSigner, type DpopSigner, generateKeyPair } from '@fluxel/license';
import { type RedisCounter, redisRateLimiter } from '@fluxel-example/kit/rate-limit';
import { createClient } from 'redis';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type Harness, REDIS_URL, redisReachable, startHarness } from './helpers.ts';

const redisUrl = REDIS_URL;

const skip = (await redisReachable())
  ? undefined
  : missingDependency(`Redis at ${redisUrl}`, 'start redis-server or set REDIS_URL');
if (skip) console.warn(`${skip}: redis tests skipped`);

const PUBLIC_URL = 'https://relay.fluxel.test';

/** A request to one instance, its DPoP proof made for the instances' shared public URL. */
async function call(
  h: Harness,
  method: 'GET' | 'POST',
  path: string,
  options: { device?: DpopSigner; accessToken?: string; body?: string; proof?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.accessToken) headers.authorization = `DPoP ${options.accessToken}`;
  let proof = options.proof;
  if (!proof && options.device) {
    const nonce = h.relay.authority.nonce();
    proof = await options.device.proof({
      method,
      url: `${PUBLIC_URL}${path}`,
      ...(options.accessToken ? { accessToken: options.accessToken } : {}),
      ...(nonce ? { nonce } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
  }
  if (proof) headers.dpop = proof;
  const dispatcher = new Agent({ connect: { ca: h.relay.tls.ca } });
  try {
    const res = await request(`https://127.0.0.1:${h.relay.port}${path}`, {
      method,
      headers,
      dispatcher,
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
      proof,
    };
  } finally {
    await dispatcher.close();
  }
}

describe.skipIf(skip)('relay with Redis', () => {
  const harnesses: Harness[] = [];
  afterAll(async () => {
    for (const h of harnesses.reverse()) await h.close();
  });

  it('a proof used at one instance is refused at another sharing the Redis replay cache', async () => {
    const relay = { publicUrl: PUBLIC_URL, redisUrl };
    const a = await startHarness({ relay });
    harnesses.push(a);
    const b = await startHarness({ relay, dataDir: a.dataDir, database: a.relay.database });
    harnesses.push(b);
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    const licenseKey = await a.issueKey();
    const activated = await call(a, 'POST', '/v1/activate', {
      device,
      body: JSON.stringify({ licenseKey }),
    });
    expect(activated.status).toBe(201);
    const accessToken = String(activated.json?.accessToken);

    const first = await call(a, 'GET', '/v1/status', { device, accessToken });
    expect(first.status).toBe(200);
    const replayed = await call(b, 'GET', '/v1/status', {
      accessToken,
      ...(first.proof ? { proof: first.proof } : {}),
    });
    expect(replayed.status).toBe(401);
    expect(replayed.json?.code).toBe('ERR_DPOP_REPLAY');
    // The same device with a fresh proof is served by the other instance.
    expect((await call(b, 'GET', '/v1/status', { device, accessToken })).status).toBe(200);
  });

  it('per-license limit counted in Redis across instances: 429 with Retry-After', async () => {
    const relay = {
      publicUrl: PUBLIC_URL,
      redisUrl,
      rateLimit: { perIp: 1_000_000, perLicense: 2, windowMs: 3_600_000 },
    };
    const a = await startHarness({ relay });
    harnesses.push(a);
    const b = await startHarness({ relay, dataDir: a.dataDir, database: a.relay.database });
    harnesses.push(b);
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    const activated = await call(a, 'POST', '/v1/activate', {
      device,
      body: JSON.stringify({ licenseKey: await a.issueKey() }),
    });
    expect(activated.status).toBe(201); // activation counts per IP only
    const accessToken = String(activated.json?.accessToken);
    expect((await call(a, 'GET', '/v1/status', { device, accessToken })).status).toBe(200);
    expect((await call(b, 'GET', '/v1/status', { device, accessToken })).status).toBe(200);
    const limited = await call(b, 'GET', '/v1/status', { device, accessToken });
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED', retryable: true });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(limited.json?.retryAfter).toBe(retryAfter);
    expect((await call(a, 'GET', '/v1/status', { device, accessToken })).status).toBe(429);
  });
});

describe.skipIf(skip)('Redis rate limiter', () => {
  it('a hit may cost more than one (a batch counts its items in one INCRBY)', async () => {
    const client = createClient({ url: redisUrl });
    await client.connect();
    try {
      const limiter = redisRateLimiter(client as unknown as RedisCounter, {
        windowMs: 60_000,
        prefix: `fluxel:test:${process.pid}:${Date.now()}:`,
      });
      expect((await limiter.hit('k', 5, 4)).ok).toBe(true);
      expect((await limiter.hit('k', 5, 1)).ok).toBe(true);
      expect((await limiter.hit('k', 5, 2)).ok).toBe(false);
      expect((await limiter.hit('other', 5, 6)).ok).toBe(false);
    } finally {
      await client.quit();
    }
  });
});
