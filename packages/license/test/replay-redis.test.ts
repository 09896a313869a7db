/** The Redis replay store against the machine's real Redis (`REDIS_URL`, default localhost). */
import { connectTestRedis } from '@fluxel/internal/testing';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createDpopSigner } from '../src/lib/dpop.ts';
import { createDpopVerifier } from '../src/lib/dpop-verify.ts';
import { redisReplayStore } from '../src/lib/replay.ts';
import { generateKeyPair } from '../src/sig.ts';

const client = await connectTestRedis(createClient);
const skip = typeof client === 'string' ? client : undefined;
const prefix = `fluxel-test:${Date.now()}:${Math.random().toString(36).slice(2)}:`;

describe.skipIf(skip !== undefined)(`Redis replay store ${skip ?? ''}`, () => {
  const redis = client as Exclude<typeof client, string>;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(keys);
    await redis.quit();
  });

  it('two relay instances share one replay cache: a proof accepted by one is a replay at the other', async () => {
    const store = redisReplayStore(redis, { prefix });
    const instanceA = createDpopVerifier({ replay: store });
    const instanceB = createDpopVerifier({ replay: redisReplayStore(redis, { prefix }) });
    const signer = createDpopSigner((await generateKeyPair()).privateJwk);
    const proof = await signer.proof({ method: 'GET', url: 'https://relay.test/v1/mailbox' });
    await instanceA.verify({ method: 'GET', url: 'https://relay.test/v1/mailbox', proof });
    await expect(
      instanceB.verify({ method: 'GET', url: 'https://relay.test/v1/mailbox', proof }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_REPLAY' });
  });

  it('the same proof at four relay instances at the same moment (each its own connection): exactly one accepts', async () => {
    const connections = await Promise.all(
      Array.from({ length: 4 }, () => connectTestRedis(createClient)),
    );
    try {
      const verifiers = connections.map((connection) => {
        if (typeof connection === 'string') throw new Error(connection);
        return createDpopVerifier({ replay: redisReplayStore(connection, { prefix }) });
      });
      const signer = createDpopSigner((await generateKeyPair()).privateJwk);
      const url = 'https://relay.test/v1/send';
      const proof = await signer.proof({ method: 'POST', url });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) =>
          verifiers[i % verifiers.length]?.verify({ method: 'POST', url, proof }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'ERR_DPOP_REPLAY' });
    } finally {
      for (const connection of connections)
        if (typeof connection !== 'string') await connection.quit();
    }
  });

  it('entries expire after their time to live', async () => {
    const store = redisReplayStore(redis, { prefix });
    expect(await store.remember('short', 0.3)).toBe(true);
    expect(await store.remember('short', 0.3)).toBe(false);
    const ttl = await redis.pTTL(`${prefix}short`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.remember('short', 0.3)).toBe(true);
  });

  it('an unreachable Redis is a typed error, never a silent accept', async () => {
    const broken = redisReplayStore({ set: () => Promise.reject(new Error('ECONNREFUSED')) });
    await expect(Promise.resolve(broken.remember('x', 10))).rejects.toMatchObject({
      code: 'ERR_LICENSE_STORAGE',
    });
  });
});
