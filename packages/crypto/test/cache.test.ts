import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  DataKeyCache,
  inspect,
  type KekProvider,
  Keyring,
  localKek,
  open,
  seal,
  sealStream,
} from '../src/index.ts';
import { bytes, collect, streamOf } from './helpers.ts';

/** A KEK that counts its calls, standing in for a KMS round trip. */
function countingKek() {
  const inner = localKek({ id: 'kms', key: new Uint8Array(32).fill(4) });
  const calls = { wrap: 0, unwrap: 0 };
  const kek: KekProvider = {
    id: 'kms',
    wrap: async (dek) => {
      calls.wrap++;
      return inner.wrap(dek);
    },
    unwrap: async (wrapped) => {
      calls.unwrap++;
      return inner.unwrap(wrapped);
    },
  };
  return { keyring: new Keyring([kek]), calls };
}

function fakeClock(start = 1_000_000) {
  const clock = { now: start, tick: (ms: number) => (clock.now += ms) };
  return clock;
}

const wrappedOf = (sealed: Uint8Array) => {
  const info = inspect(sealed);
  return Buffer.from(sealed.subarray(info.prefixLength, info.headerLength)).toString('hex');
};

describe('data-key cache', () => {
  it('reuses one data key across records (one KMS call) while every message key differs', async () => {
    const { keyring, calls } = countingKek();
    const cache = new DataKeyCache({ maxAge: 60_000 });
    const sealed = [];
    for (let i = 0; i < 20; i++)
      sealed.push(await seal(bytes(`r${i}`), { keyring, cache, context: { i: `${i}` } }));
    expect(calls.wrap).toBe(1);
    expect(new Set(sealed.map(wrappedOf)).size).toBe(1);
    // Distinct salts, hence distinct message keys, commitments and nonces.
    const prefixes = new Set(
      sealed.map((s) => Buffer.from(s.subarray(0, inspect(s).prefixLength)).toString('hex')),
    );
    expect(prefixes.size).toBe(20);
    for (const [i, s] of sealed.entries()) {
      expect(await open(s, { keyring, cache, context: { i: `${i}` } })).toEqual(bytes(`r${i}`));
    }
    expect(calls.unwrap).toBe(1);
  });

  it('bounds reuse by message count', async () => {
    const { keyring, calls } = countingKek();
    const cache = new DataKeyCache({ maxAge: 60_000, maxMessages: 3 });
    for (let i = 0; i < 7; i++) await seal(bytes('x'), { keyring, cache });
    expect(calls.wrap).toBe(3); // 3 + 3 + 1
  });

  it('bounds reuse by bytes', async () => {
    const { keyring, calls } = countingKek();
    const cache = new DataKeyCache({ maxAge: 60_000, maxBytes: 100 });
    await seal(new Uint8Array(60), { keyring, cache });
    await seal(new Uint8Array(40), { keyring, cache }); // 100: still within
    expect(calls.wrap).toBe(1);
    await seal(new Uint8Array(1), { keyring, cache }); // 101: new key
    expect(calls.wrap).toBe(2);
    await seal(new Uint8Array(500), { keyring, cache }); // larger than the bound: never cached
    await seal(new Uint8Array(1), { keyring, cache });
    expect(calls.wrap).toBe(3);
  });

  it('bounds reuse by age (fake clock), for sealing and opening', async () => {
    const { keyring, calls } = countingKek();
    const clock = fakeClock();
    const cache = new DataKeyCache({ maxAge: 1000, now: () => clock.now });
    const a = await seal(bytes('a'), { keyring, cache });
    clock.tick(999);
    await seal(bytes('b'), { keyring, cache });
    expect(calls.wrap).toBe(1);
    clock.tick(1);
    await seal(bytes('c'), { keyring, cache });
    expect(calls.wrap).toBe(2);
    await open(a, { keyring, cache });
    await open(a, { keyring, cache });
    expect(calls.unwrap).toBe(1);
    clock.tick(1000);
    await open(a, { keyring, cache });
    expect(calls.unwrap).toBe(2);
  });

  it('bounds the number of entries and can be cleared', async () => {
    const cache = new DataKeyCache({ maxAge: 60_000, maxEntries: 2 });
    for (let i = 0; i < 5; i++) {
      const keyring = new Keyring([localKek({ id: `k${i}`, key: new Uint8Array(32).fill(i) })]);
      await seal(bytes('x'), { keyring, cache });
    }
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('streams use the cache too', async () => {
    const { keyring, calls } = countingKek();
    const cache = new DataKeyCache({ maxAge: 60_000 });
    for (let i = 0; i < 3; i++) {
      await collect(streamOf([bytes('data')]).pipeThrough(sealStream({ keyring, cache })));
    }
    expect(calls.wrap).toBe(1);
  });

  it('never hands one KEK object’s data keys to another that carries the same id', async () => {
    const cache = new DataKeyCache({ maxAge: 60_000 });
    const a = new Keyring([localKek({ id: 'same', key: new Uint8Array(32).fill(1) })]);
    const b = new Keyring([localKek({ id: 'same', key: new Uint8Array(32).fill(2) })]);
    const sealedA = await seal(bytes('a'), { keyring: a, cache });
    const sealedB = await seal(bytes('b'), { keyring: b, cache });
    expect(await open(sealedB, { keyring: b })).toEqual(bytes('b'));
    await open(sealedA, { keyring: a, cache });
    // b's KEK cannot unwrap a's data key, and the cache must not do it for b.
    await expect(open(sealedA, { keyring: b, cache })).rejects.toMatchObject({
      code: 'ERR_CRYPTO_DECRYPTION_FAILED',
    });
  });

  it('rejects unsafe options', () => {
    expect(() => new DataKeyCache({} as never)).toThrow(CryptoError);
    expect(() => new DataKeyCache({ maxAge: -1 })).toThrow(CryptoError);
    expect(() => new DataKeyCache({ maxAge: 10, maxMessages: 0 })).toThrow(CryptoError);
  });
});
