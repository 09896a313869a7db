/**
 * The shared HTTP-01 store and the order lock in the machine's real Redis (`REDIS_URL`, default
 * localhost), and two renewal managers (two instances, each with its own certificate store)
 * renewing at once against Pebble: exactly one orders.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectTestRedis,
  missingDependency,
  READY_BOUND_MS,
  TEST_REDIS_URL,
} from '@fluxel/internal/testing';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisChallengeStore, redisOrderLock, respondToChallenge } from '../src/index.ts';
import {
  acmeFetch,
  FileCertificateStore,
  openAccount,
  RenewalManager,
  startChallengeServer,
} from '../src/node.ts';
import { type Pebble, pebbleAvailable, startPebble } from './pebble-harness.ts';

const client = await connectTestRedis(createClient);
const skip = typeof client === 'string' ? client : undefined;
const noPebble = pebbleAvailable()
  ? undefined
  : missingDependency('pebble, pebble-challtestsrv and openssl', 'apt-get install pebble openssl');
const prefix = `fluxel-test:acme:${Date.now()}:${Math.random().toString(36).slice(2)}:`;
const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';

describe.skipIf(skip !== undefined)(`Redis challenge store and order lock ${skip ?? ''}`, () => {
  const redis = client as Exclude<typeof client, string>;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(keys);
    await redis.quit();
  });

  it('a challenge placed by one instance is answered by another, and expires unless deleted', async () => {
    const a = redisChallengeStore(redis, { prefix: `${prefix}http01:`, ttlSeconds: 120 });
    const b = redisChallengeStore(redis, { prefix: `${prefix}http01:` });
    await a.set(TOKEN, `${TOKEN}.thumbprint`);
    const answer = await respondToChallenge(b, 'GET', `/.well-known/acme-challenge/${TOKEN}`);
    expect(answer).toMatchObject({ status: 200, body: `${TOKEN}.thumbprint` });
    const ttl = await redis.ttl(`${prefix}http01:${TOKEN}`);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
    await a.delete(TOKEN);
    expect(await redis.exists(`${prefix}http01:${TOKEN}`)).toBe(0);
    expect(
      await respondToChallenge(b, 'GET', `/.well-known/acme-challenge/${TOKEN}`),
    ).toMatchObject({ status: 404 });

    const short = redisChallengeStore(redis, { prefix: `${prefix}short:`, ttlSeconds: 1 });
    await short.set(TOKEN, 'x');
    expect(await short.get(TOKEN)).toBe('x');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await short.get(TOKEN)).toBeUndefined();
  });

  it('refuses bad options when built, and a failing Redis is ERR_ACME_STORE', async () => {
    expect(() => redisChallengeStore(redis, { ttlSeconds: 0 })).toThrow(
      expect.objectContaining({
        code: 'ERR_ACME_INVALID_ARGUMENT',
        message: expect.stringMatching(/ttlSeconds/),
      }),
    );
    expect(() => redisChallengeStore(redis, { ttlSeconds: 1.5 })).toThrow(/whole number/);
    expect(() => redisChallengeStore(redis, { prefix: '' })).toThrow(/prefix/);
    expect(() => redisChallengeStore({} as never)).toThrow(/set\(\)/);
    expect(() => redisOrderLock(redis, { ttlMs: 1000 })).toThrow(
      expect.objectContaining({
        code: 'ERR_ACME_INVALID_ARGUMENT',
        message: expect.stringMatching(/ttlMs/),
      }),
    );
    expect(() => redisOrderLock({ set: async () => 'OK' } as never)).toThrow(/eval\(\)/);

    const closed = createClient({ url: TEST_REDIS_URL, disableOfflineQueue: true });
    closed.on('error', () => undefined);
    const store = redisChallengeStore(closed);
    await expect(store.get(TOKEN)).rejects.toMatchObject({ code: 'ERR_ACME_STORE' });
    await expect(redisOrderLock(closed)('example.org')).rejects.toMatchObject({
      code: 'ERR_ACME_STORE',
    });
  });

  it('the lock is exclusive across instances, expires, and a late release never frees the next holder', async () => {
    const a = redisOrderLock(redis, { prefix: `${prefix}lock:` });
    const b = redisOrderLock(redis, { prefix: `${prefix}lock:`, ttlMs: 60_000 });
    const releaseA = await a('Shop.Example.org');
    await expect(b('shop.example.org')).rejects.toMatchObject({ code: 'ERR_ACME_LOCKED' });
    const pttl = await redis.pTTL(`${prefix}lock:shop.example.org`);
    expect(pttl).toBeGreaterThan(590_000);
    expect(pttl).toBeLessThanOrEqual(600_000);
    // A's lock expires (it stalled); B takes the lock; A's late release leaves B's in place.
    await redis.del(`${prefix}lock:shop.example.org`);
    const releaseB = await b('shop.example.org');
    await releaseA();
    await expect(a('shop.example.org')).rejects.toMatchObject({ code: 'ERR_ACME_LOCKED' });
    await releaseB();
    await (await a('shop.example.org'))();
  });

  describe.skipIf(noPebble !== undefined)('two instances against Pebble', () => {
    let pebble: Pebble | undefined;
    beforeAll(async () => {
      pebble = await startPebble();
    });
    afterAll(async () => {
      await pebble?.stop();
    });

    /** Pebble's HTTP-01 fetches answered from a Redis challenge store under `name`, as every instance sees it. */
    async function sharedChallenges(name: string) {
      const running = pebble as Pebble;
      const challenges = `${prefix}${name}:http01:`;
      const challengeStore = () => redisChallengeStore(redis, { prefix: challenges });
      const server = await startChallengeServer({
        port: running.httpPort,
        host: '127.0.0.1',
        store: challengeStore(),
      });
      return { running, fetch: acmeFetch({ ca: running.listenerCa }), challengeStore, server };
    }

    it('two instances renewing at once (own certificate stores, shared Redis): exactly one orders', async () => {
      // The CA's fetch goes to one listener; the shared store answers for either instance.
      const { running, fetch, challengeStore, server } = await sharedChallenges('race');
      try {
        const instance = () => {
          const store = new FileCertificateStore({
            root: mkdtempSync(join(tmpdir(), 'acme-lite-redis-')),
            directoryUrl: running.directoryUrl,
          });
          const manager = new RenewalManager({
            store,
            client: () => openAccount({ store, email: 'ops@example.org', fetch }),
            challengeStore: challengeStore(),
            lock: redisOrderLock(redis, { prefix: `${prefix}race:lock:` }),
            certificates: [['shop.example.org']],
            retryBaseMs: 3_600_000,
          });
          const failed: string[] = [];
          manager.on('failed', ({ error }) => failed.push((error as { code: string }).code));
          return { store, manager, failed };
        };
        const [a, b] = [instance(), instance()];
        const results = await Promise.all([
          a.manager.renewNow(['shop.example.org']),
          b.manager.renewNow(['shop.example.org']),
        ]);
        a.manager.stop();
        b.manager.stop();
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        expect([...a.failed, ...b.failed]).toEqual(['ERR_ACME_LOCKED']);
        const stored = await Promise.all([
          a.store.current('shop.example.org'),
          b.store.current('shop.example.org'),
        ]);
        expect(stored.filter(Boolean)).toHaveLength(1);
        // Released after the order: the next one can take it.
        expect(await redis.exists(`${prefix}race:lock:shop.example.org`)).toBe(0);
      } finally {
        await server.close();
      }
    });

    it('on a shared certificate store the instance that found the lock taken orders nothing afterwards', async () => {
      const { running, fetch, challengeStore, server } = await sharedChallenges('shared');
      const root = mkdtempSync(join(tmpdir(), 'acme-lite-shared-'));
      const managers: RenewalManager[] = [];
      try {
        const renewed: string[] = [];
        const scheduled: string[] = [];
        const failed: string[] = [];
        for (const name of ['a', 'b']) {
          // Two instances on one volume: each its own store object over the same directory.
          const store = new FileCertificateStore({ root, directoryUrl: running.directoryUrl });
          const manager = new RenewalManager({
            store,
            client: () => openAccount({ store, email: 'ops@example.org', fetch }),
            challengeStore: challengeStore(),
            lock: redisOrderLock(redis, { prefix: `${prefix}shared:lock:` }),
            certificates: [['www.example.org']],
            ari: false,
            retryBaseMs: 50,
          });
          manager.on('renewed', () => renewed.push(name));
          manager.on('failed', ({ error }) =>
            failed.push(`${name} ${(error as { code: string }).code}`),
          );
          manager.on('scheduled', ({ source }) => scheduled.push(`${name} ${source}`));
          managers.push(manager);
        }
        // Both find no certificate and order at once.
        await Promise.all(managers.map((m) => m.start()));
        await vi.waitFor(
          () => expect(scheduled.filter((s) => s.endsWith('fraction'))).toHaveLength(2),
          { timeout: READY_BOUND_MS },
        );
        expect(renewed).toHaveLength(1);
        const loser = renewed[0] === 'a' ? 'b' : 'a';
        // The loser either found the lock taken while the winner's order was open (and failed
        // only on the lock, and looked again after its backoff), or got the lock once the
        // winner had stored its certificate (and saw it under the lock): either way it
        // scheduled the renewal instead of ordering a second one.
        const mine = scheduled.filter((s) => s.startsWith(`${loser} `));
        if (failed.length > 0) {
          expect(new Set(failed)).toEqual(new Set([`${loser} ERR_ACME_LOCKED`]));
          expect(mine).toContain(`${loser} recheck`);
        }
        expect(mine.at(-1)).toBe(`${loser} fraction`);
        expect(mine).not.toContain(`${loser} retry`);
      } finally {
        for (const m of managers) m.stop();
        await server.close();
      }
    });

    it('an instance that decided to order before another stored a certificate orders nothing once it holds the lock (regression: two certificates on a shared store)', async () => {
      const { running, fetch, challengeStore, server } = await sharedChallenges('late');
      const root = mkdtempSync(join(tmpdir(), 'acme-lite-late-'));
      const shared = redisOrderLock(redis, { prefix: `${prefix}late:lock:` });
      let firstDone: () => void = () => {};
      const first = new Promise<void>((resolve) => {
        firstDone = resolve;
      });
      const renewed: string[] = [];
      const make = (name: string, lock: typeof shared) => {
        const store = new FileCertificateStore({ root, directoryUrl: running.directoryUrl });
        const manager = new RenewalManager({
          store,
          client: () => openAccount({ store, email: 'ops@example.org', fetch }),
          challengeStore: challengeStore(),
          lock,
          certificates: [['late.example.org']],
          ari: false,
        });
        manager.on('renewed', () => renewed.push(name));
        return manager;
      };
      // b decides to order (no certificate yet), then reaches the lock only after a stored one.
      const a = make('a', shared);
      const b = make('b', async (domain) => {
        await first;
        return shared(domain);
      });
      try {
        const late = b.renewNow(['late.example.org']);
        await a.renewNow(['late.example.org']);
        firstDone();
        const result = await late;
        expect(renewed).toEqual(['a']);
        expect(result?.id).toBe(
          (
            await new FileCertificateStore({ root, directoryUrl: running.directoryUrl }).current(
              'late.example.org',
            )
          )?.id,
        );
      } finally {
        a.stop();
        b.stop();
        await server.close();
      }
    });

    it('an instance that decided to order (none stored) and looks at the store only after another stored a certificate orders nothing (regression: under load both instances of a shared store ordered)', async () => {
      const { running, fetch, challengeStore, server } = await sharedChallenges('decided');
      const root = mkdtempSync(join(tmpdir(), 'acme-lite-decided-'));
      const lock = redisOrderLock(redis, { prefix: `${prefix}decided:lock:` });
      let firstDone: () => void = () => {};
      const first = new Promise<void>((resolve) => {
        firstDone = resolve;
      });
      /** Answers the first look (the decision) at once, every later one after a stored. */
      class LateStore extends FileCertificateStore {
        looks = 0;
        override async current(domain: string, now?: number) {
          if (this.looks++ > 0) await first;
          return super.current(domain, now);
        }
      }
      const renewed: string[] = [];
      const make = (name: string, store: FileCertificateStore) => {
        const manager = new RenewalManager({
          store,
          client: () => openAccount({ store, email: 'ops@example.org', fetch }),
          challengeStore: challengeStore(),
          lock,
          certificates: [['decided.example.org']],
          ari: false,
        });
        manager.on('renewed', () => renewed.push(name));
        return manager;
      };
      const a = make('a', new FileCertificateStore({ root, directoryUrl: running.directoryUrl }));
      const b = make('b', new LateStore({ root, directoryUrl: running.directoryUrl }));
      const settled = new Promise<string>((resolve) =>
        b.on('scheduled', ({ source }) => {
          if (source !== 'missing') resolve(source);
        }),
      );
      try {
        // b decides: nothing stored, order at once; its next look waits for a's certificate.
        await b.start();
        await a.renewNow(['decided.example.org']);
        firstDone();
        expect(await settled).toBe('fraction');
        expect(renewed).toEqual(['a']);
      } finally {
        a.stop();
        b.stop();
        await server.close();
      }
    });
  });
});
