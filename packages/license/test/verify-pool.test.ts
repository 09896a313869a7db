/**
 * The verification pool (`createVerifyPool` of `@fluxel/license/node`): signatures checked on
 * worker threads give the same answers as in the calling thread, a replayed proof is refused
 * however the threads interleave, and a stopped pool fails closed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDpopSigner } from '../src/lib/dpop.ts';
import { MemoryLicenseStore } from '../src/lib/store.ts';
import { createVerifyPool, type VerifyPool } from '../src/lib/verify-pool.ts';
import { createSigner, createVerifier, generateKeyPair } from '../src/sig.ts';
import { Device, harness } from './helpers.ts';

const pools: VerifyPool[] = [];
function pool(threads = 2): VerifyPool {
  const made = createVerifyPool({ threads });
  pools.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const data = new TextEncoder().encode('header.payload');

describe('verification pool', () => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`checks ${alg} signatures as the in-thread verifier does`, async () => {
      const { privateJwk, publicJwk } = await generateKeyPair(alg);
      const signature = await createSigner(privateJwk).sign(data);
      const pooled = createVerifier(publicJwk, pool());
      const local = createVerifier(publicJwk);
      const forged = signature.slice();
      forged[10] = (forged[10] ?? 0) ^ 1;
      const cases: [Uint8Array, Uint8Array][] = [
        [data, signature],
        [data, forged],
        [new TextEncoder().encode('other'), signature],
        [data, signature.subarray(0, 63)],
      ];
      const answers = await Promise.all(cases.map(([d, s]) => pooled.verify(d, s)));
      expect(answers).toEqual(await Promise.all(cases.map(([d, s]) => local.verify(d, s))));
      expect(answers).toEqual([true, false, false, false]);
    });
  }

  it('spreads many keys over its threads and answers each check with its own result', async () => {
    const verifyPool = pool(3);
    const keys = await Promise.all(Array.from({ length: 12 }, () => generateKeyPair('ES256')));
    const checks = await Promise.all(
      keys.flatMap(({ privateJwk, publicJwk }, i) => {
        const verifier = createVerifier(publicJwk, verifyPool);
        return [0, 1, 2].map(async (j) => {
          const message = new TextEncoder().encode(`message ${i}/${j}`);
          const signature = await createSigner(privateJwk).sign(message);
          // Every third check is made against another message: it must say false.
          return (await verifier.verify(j === 2 ? data : message, signature)) === (j !== 2);
        });
      }),
    );
    expect(checks.every(Boolean)).toBe(true);
  });

  it('refuses a key that is not a valid point when the verifier is made', async () => {
    const { publicJwk } = await generateKeyPair('ES256');
    const bad = { ...publicJwk, y: publicJwk.x };
    expect(() => createVerifier(bad, pool(1))).toThrow();
  });

  it('a closed pool fails its checks with ERR_LICENSE_STORAGE, never as valid', async () => {
    const { privateJwk, publicJwk } = await generateKeyPair('ES256');
    const signature = await createSigner(privateJwk).sign(data);
    const verifyPool = pool(1);
    const verifier = createVerifier(publicJwk, verifyPool);
    const pending = expect(verifier.verify(data, signature)).rejects.toMatchObject({
      code: 'ERR_LICENSE_STORAGE',
    });
    await verifyPool.close();
    await pending;
    await expect(verifier.verify(data, signature)).rejects.toMatchObject({
      code: 'ERR_LICENSE_STORAGE',
    });
  });

  it('refuses a thread count outside 1–64 when it is made', () => {
    for (const threads of [0, 65, 1.5, Number.NaN])
      expect(() => createVerifyPool({ threads })).toThrow(
        expect.objectContaining({ code: 'ERR_LICENSE_INVALID_ARGUMENT' }),
      );
  });

  it('attack: one proof sent twice at once, checked on two threads, is accepted once', async () => {
    const { authority } = await harness(new MemoryLicenseStore(), { verifier: pool(2) });
    const { key } = await authority.issue({ tenant: 't', product: 'p', entitlements: [] });
    const device = await Device.create({ now: Date.now() });
    await device.activate(authority, key);
    for (let round = 0; round < 10; round++) {
      const request = await device.request('POST', '/v1/send', { body: `{"n":${round}}` });
      // Other devices' requests in the same tick spread the checks over both threads.
      const settled = await Promise.allSettled([
        authority.verifyRequest(request),
        authority.verifyRequest(request),
        authority.verifyRequest({ ...request }),
      ]);
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      for (const refused of settled.filter((s) => s.status === 'rejected'))
        expect((refused as PromiseRejectedResult).reason).toMatchObject({
          code: 'ERR_DPOP_REPLAY',
        });
    }
    // Distinct proofs at once are all accepted.
    const requests = await Promise.all(
      Array.from({ length: 20 }, (_, i) => device.request('GET', `/v1/mailbox?i=${i}`)),
    );
    const verified = await Promise.all(requests.map((r) => authority.verifyRequest(r)));
    expect(verified).toHaveLength(20);
  });

  it('a forged proof is refused through the pool', async () => {
    const { authority } = await harness(new MemoryLicenseStore(), { verifier: pool(2) });
    const { key } = await authority.issue({ tenant: 't', product: 'p', entitlements: [] });
    const device = await Device.create({ now: Date.now() });
    await device.activate(authority, key);
    const request = await device.request('GET', '/v1/mailbox');
    const headers = request.headers as Record<string, string>;
    const proof = String(headers.dpop);
    const forged = `${proof.slice(0, -4)}${proof.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    await expect(
      authority.verifyRequest({ ...request, headers: { ...headers, dpop: forged } }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_INVALID_PROOF' });
    // A proof of another key (a thief's) for the same token is refused as well.
    const thief = createDpopSigner((await generateKeyPair('ES256')).privateJwk);
    const stolen = await thief.proof({
      method: 'GET',
      url: request.url.toString(),
      accessToken: String(headers.authorization).slice(5),
    });
    await expect(
      authority.verifyRequest({ ...request, headers: { ...headers, dpop: stolen } }),
    ).rejects.toMatchObject({ code: 'ERR_LICENSE_TOKEN_BINDING' });
  });
});
