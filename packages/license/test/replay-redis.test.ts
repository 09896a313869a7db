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
    await store.declareNew();
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
      await redisReplayStore(redis, { prefix }).declareNew();
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
    expect(await store.remember('short', 0.3)).toMatchObject({ fresh: true });
    expect(await store.remember('short', 0.3)).toMatchObject({ fresh: false });
    const ttl = await redis.pTTL(`${prefix}short`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.remember('short', 0.3)).toMatchObject({ fresh: true });
  });

  // What a Redis restart without persistence, a flush or a move to another node does.
  async function loseEverything(under: string): Promise<void> {
    const keys = await redis.keys(`${under}*`);
    if (keys.length) await redis.del(keys);
  }
  const url = 'https://relay.test/v1/send';

  it('a proof used before Redis lost its keys was accepted again after the loss (regression): now refused, retryably, until proofs are newer than the loss', async () => {
    const lost = `${prefix}loss:`;
    const store = redisReplayStore(redis, { prefix: lost });
    await store.declareNew();
    // A 0.25 s tolerance makes the refusal window 0.5 s (twice the skew) instead of 10 s.
    const verifier = createDpopVerifier({ replay: store, clockSkewSeconds: 0.25 });
    const signer = createDpopSigner((await generateKeyPair()).privateJwk);
    const captured = await signer.proof({ method: 'POST', url });
    await verifier.verify({ method: 'POST', url, proof: captured });
    await expect(verifier.verify({ method: 'POST', url, proof: captured })).rejects.toMatchObject({
      code: 'ERR_DPOP_REPLAY',
    });

    await loseEverything(lost);
    const refused = await verifier.verify({ method: 'POST', url, proof: captured }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'ERR_LICENSE_STORAGE', claim: 'iat' });
    const retryAfter = (refused as { retryAfterSeconds: number }).retryAfterSeconds;
    expect([1, 2]).toContain(retryAfter);
    expect(String((refused as Error).message)).toMatch(/lost its entries/);
    // The epoch started again at the loss; an id recorded after it stays recorded.
    expect(Number(await redis.get(`${lost}memory-since`))).toBeGreaterThan(Date.now() - 5_000);

    // As a client told `Retry-After` does: wait, then make a new proof.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    const fresh = await signer.proof({ method: 'POST', url });
    await verifier.verify({ method: 'POST', url, proof: fresh });
    await expect(verifier.verify({ method: 'POST', url, proof: captured })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_(DPOP_REPLAY|DPOP_STALE|LICENSE_STORAGE)$/),
    });
  });

  it('after a loss, one captured proof sent to four relay instances at the same moment: none accepts', async () => {
    const lost = `${prefix}loss4:`;
    await redisReplayStore(redis, { prefix: lost }).declareNew();
    const connections = await Promise.all(
      Array.from({ length: 4 }, () => connectTestRedis(createClient)),
    );
    try {
      const verifiers = connections.map((connection) => {
        if (typeof connection === 'string') throw new Error(connection);
        return createDpopVerifier({ replay: redisReplayStore(connection, { prefix: lost }) });
      });
      const signer = createDpopSigner((await generateKeyPair()).privateJwk);
      const captured = await signer.proof({ method: 'POST', url });
      await verifiers[0]?.verify({ method: 'POST', url, proof: captured });
      await loseEverything(lost);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) =>
          verifiers[i % verifiers.length]?.verify({ method: 'POST', url, proof: captured }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(0);
      for (const o of outcomes)
        if (o.status === 'rejected')
          expect((o.reason as { code: string }).code).toMatch(
            /^ERR_(LICENSE_STORAGE|DPOP_REPLAY)$/,
          );
    } finally {
      for (const connection of connections)
        if (typeof connection !== 'string') await connection.quit();
    }
  });

  it('a prefix declared new accepts proofs at once; an undeclared empty prefix counts as a loss; declaring after a loss changes nothing', async () => {
    const signer = createDpopSigner((await generateKeyPair()).privateJwk);
    const declared = redisReplayStore(redis, { prefix: `${prefix}new:` });
    await declared.declareNew();
    await createDpopVerifier({ replay: declared }).verify({
      method: 'POST',
      url,
      proof: await signer.proof({ method: 'POST', url }),
    });

    const undeclared = redisReplayStore(redis, { prefix: `${prefix}undeclared:` });
    const verifier = createDpopVerifier({ replay: undeclared });
    await expect(
      verifier.verify({ method: 'POST', url, proof: await signer.proof({ method: 'POST', url }) }),
    ).rejects.toMatchObject({ code: 'ERR_LICENSE_STORAGE', claim: 'iat' });
    await undeclared.declareNew(); // too late: the epoch of the loss stays
    await expect(
      verifier.verify({ method: 'POST', url, proof: await signer.proof({ method: 'POST', url }) }),
    ).rejects.toMatchObject({ code: 'ERR_LICENSE_STORAGE' });
  });

  it('an epoch key that holds no time is a typed error that says what to do, never an accept', async () => {
    const odd = `${prefix}odd:`;
    await redis.set(`${odd}memory-since`, 'yesterday');
    const store = redisReplayStore(redis, { prefix: odd });
    await expect(store.remember('x', 10)).rejects.toMatchObject({
      code: 'ERR_LICENSE_STORAGE',
      message: expect.stringMatching(/delete it/),
    });
  });

  it('an unreachable Redis is a typed error, never a silent accept', async () => {
    const broken = redisReplayStore({ set: () => Promise.reject(new Error('ECONNREFUSED')) });
    await expect(Promise.resolve(broken.remember('x', 10))).rejects.toMatchObject({
      code: 'ERR_LICENSE_STORAGE',
    });
  });
});
