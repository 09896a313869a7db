/**
 * Behind an edge proxy every connection comes from the proxy (deployment gap 4): the relay
 * believes `X-Forwarded-For` only from `trustedProxies`, so the per-IP limit (and the audit
 * log's `actor.ip`) sees the client's address there, and a client cannot pick its own address
 * anywhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay } from '../src/relay.ts';
import { type Harness, rawRequest, startHarness } from './helpers.ts';

const limit = { perIp: 2, windowMs: 3_600_000 };
const status = (h: Harness, forwardedFor?: string) =>
  rawRequest(h, 'GET', '/v1/status', {
    ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
  }).then((r) => r.status);

describe('trusted proxies', () => {
  let behindProxy: Harness;
  let direct: Harness;
  beforeAll(async () => {
    // The test connects from 127.0.0.1: as the proxy for one relay, as a client for the other.
    behindProxy = await startHarness({
      relay: { rateLimit: limit, trustedProxies: ['127.0.0.1', '10.0.1.0/24'] },
    });
    direct = await startHarness({ relay: { rateLimit: limit } });
  });
  afterAll(async () => {
    await behindProxy?.close();
    await direct?.close();
  });

  it('from a trusted proxy, the per-IP limit counts the forwarded client address', async () => {
    expect([
      await status(behindProxy, '203.0.113.7'),
      await status(behindProxy, '203.0.113.7'),
    ]).toEqual([401, 401]);
    expect(await status(behindProxy, '203.0.113.7')).toBe(429);
    // Another client behind the same proxy has its own count.
    expect(await status(behindProxy, '198.51.100.9')).toBe(401);
    // A chain through a second trusted hop: the first untrusted address from the right counts.
    expect(await status(behindProxy, '198.51.100.20, 10.0.1.5')).toBe(401);
    expect(await status(behindProxy, '198.51.100.20')).toBe(401);
    expect(await status(behindProxy, '198.51.100.20')).toBe(429);
  });

  it('without trusted proxies a client cannot choose its address by the header', async () => {
    expect(await status(direct, '203.0.113.1')).toBe(401);
    expect(await status(direct, '203.0.113.2')).toBe(401);
    // A third "different" client is the same connection address: limited.
    expect(await status(direct, '203.0.113.3')).toBe(429);
  });

  it('refuses an entry that is not an address or a range, before anything starts', async () => {
    for (const entry of ['10.0.1.0/33', 'edge', '300.1.1.1', '::1/129'])
      await expect(
        createRelay({ connector: undefined as never, trustedProxies: [entry] }),
      ).rejects.toThrow(`trustedProxies: "${entry}" is not an IP address, a CIDR range`);
  });
});
