/**
 * Two relays behind a load balancer, each with its own data directory, sharing one Redis,
 * against Pebble. The "balancer" is a TCP forwarder on Pebble's HTTP-01 port that sends every
 * validation fetch to relay B's HTTP-01 listener, whichever relay ordered. With the challenges
 * in Redis (the default once the relay has `redisUrl`), B answers A's challenge and A gets its
 * certificate; with each relay's challenges in its own memory, A's order fails (issue 22).
 */
import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { MemoryChallengeStore } from '@fluxel/acme-lite/node';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Pebble,
  pebbleAvailable,
  startPebble,
} from '../../../packages/acme-lite/test/pebble-harness.ts';
import type { RelayAcmeOptions } from '../src/acme.ts';
import { type Harness, REDIS_URL, redisReachable, startHarness } from './helpers.ts';

const skip = !pebbleAvailable()
  ? missingDependency('pebble, pebble-challtestsrv and openssl', 'apt-get install pebble openssl')
  : (await redisReachable())
    ? undefined
    : missingDependency(`Redis at ${REDIS_URL}`, 'start redis-server or set REDIS_URL');

const DOMAIN = 'relay.example.org';
const prefix = `fluxel-test:relay-acme:${Date.now()}:${Math.random().toString(36).slice(2)}:`;

/** Forwards every connection on `port` to `target.port` (set later); counts connections. */
async function balancer(port: number, target: { port: number }) {
  const server: Server = createServer((client) => {
    stats.connections++;
    const upstream = tcpConnect(target.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const stats = { connections: 0, close: () => new Promise((r) => server.close(r)) };
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return stats;
}

describe.skipIf(skip !== undefined)(
  "two relays behind a balancer: the CA's challenge fetch reaches the other relay",
  () => {
    let pebble: Pebble;
    let lb: Awaited<ReturnType<typeof balancer>>;
    const target = { port: 0 };
    const harnesses: Harness[] = [];

    beforeAll(async () => {
      pebble = await startPebble();
      lb = await balancer(pebble.httpPort, target);
    });
    afterEach(async () => {
      for (const h of harnesses.splice(0)) await h.close();
    });
    afterAll(async () => {
      await lb?.close();
      await pebble?.stop();
      const redis = createClient({ url: REDIS_URL });
      redis.on('error', () => {});
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(keys);
      await redis.quit();
    });

    const acme = (run: string, extra: Partial<RelayAcmeOptions> = {}): RelayAcmeOptions => ({
      directoryUrl: pebble.directoryUrl,
      domains: [DOMAIN],
      email: 'ops@example.org',
      http01Port: 0,
      caPem: pebble.listenerCa,
      redisPrefix: `${prefix}${run}:`,
      renewal: { retryBaseMs: 3_600_000 },
      ...extra,
    });

    /** B starts and orders (the fetch reaches B itself); then A starts and orders. */
    async function relays(run: string, extra: () => Partial<RelayAcmeOptions> = () => ({})) {
      const b = await startHarness({ relay: { redisUrl: REDIS_URL, acme: acme(run, extra()) } });
      harnesses.push(b);
      target.port = b.relay.acme?.http01Port as number;
      await vi.waitFor(() => expect(b.audited('tls.certificate.obtained')).toHaveLength(1), {
        timeout: READY_BOUND_MS,
      });
      const before = lb.connections;
      const a = await startHarness({ relay: { redisUrl: REDIS_URL, acme: acme(run, extra()) } });
      harnesses.push(a);
      expect(a.relay.acme?.http01Port).not.toBe(target.port);
      return { a, b, before };
    }

    it('with the challenges in Redis (the default with redisUrl) relay A gets its certificate through relay B', async () => {
      const { a, before } = await relays('shared');
      await vi.waitFor(
        () =>
          expect([
            ...a.audited('tls.certificate.obtained'),
            ...a.audited('tls.certificate.failed'),
          ]).toHaveLength(1),
        { timeout: READY_BOUND_MS },
      );
      expect(a.audited('tls.certificate.failed')).toEqual([]);
      expect(a.relay.tlsStatus()).toMatchObject({ source: 'acme', sans: [DOMAIN] });
      // Pebble validated A's order by fetching from B (the only place the balancer sends it).
      expect(lb.connections).toBeGreaterThan(before);
    });

    it("with each relay's challenges in its own memory relay A's order fails (B answers 404)", async () => {
      const { a, before } = await relays('memory', () => ({
        challengeStore: new MemoryChallengeStore(), // one per relay
      }));
      await vi.waitFor(() => expect(a.audited('tls.certificate.failed')).toHaveLength(1), {
        timeout: READY_BOUND_MS,
      });
      expect(a.audited('tls.certificate.failed')[0]).toMatchObject({
        data: { problemType: 'urn:ietf:params:acme:error:unauthorized', stage: 'order' },
      });
      expect(a.audited('tls.certificate.obtained')).toEqual([]);
      expect(a.relay.tlsStatus().source).toBe('dev');
      expect(lb.connections).toBeGreaterThan(before);
    });
  },
);
