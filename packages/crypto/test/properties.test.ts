import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  open,
  openStream,
  SUITES,
  type SuiteName,
  seal,
  sealStream,
} from '../src/index.ts';
import { collect, streamOf, testKeyring } from './helpers.ts';

const keyring = testKeyring();
const suite = fc.constantFrom(...(SUITES as SuiteName[]));
const context = fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 24 }), {
  maxKeys: 4,
});
const plaintext = fc.uint8Array({ maxLength: 600 });

async function fails(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(CryptoError.isInstance(error)).toBe(true);
    return (error as CryptoError).code;
  }
  throw new Error('opened a tampered ciphertext');
}

describe('properties', () => {
  it('open(seal(x)) = x for any x, context and suite', async () => {
    await fc.assert(
      fc.asyncProperty(plaintext, context, suite, async (x, ctx, s) => {
        const sealed = await seal(x, { keyring, context: ctx, suite: s });
        expect(await open(sealed, { keyring, context: ctx })).toEqual(x);
      }),
      { numRuns: 150 },
    );
  });

  it('any single-bit flip anywhere in a ciphertext fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        plaintext,
        context,
        suite,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (x, ctx, s, at, bit) => {
          const sealed = await seal(x, { keyring, context: ctx, suite: s });
          const flipped = sealed.slice();
          const index = at % flipped.length;
          flipped[index] = (flipped[index] as number) ^ (1 << bit);
          await fails(open(flipped, { keyring, context: ctx }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('every bit flip of one small ciphertext fails (exhaustive)', async () => {
    const sealed = await seal(new Uint8Array([1, 2, 3]), { keyring, context: { a: 'b' } });
    const codes = new Set<string>();
    for (let i = 0; i < sealed.length * 8; i++) {
      const flipped = sealed.slice();
      flipped[i >> 3] = (flipped[i >> 3] as number) ^ (1 << (i & 7));
      codes.add(await fails(open(flipped, { keyring, context: { a: 'b' } })));
    }
    expect(codes.has('ERR_CRYPTO_DECRYPTION_FAILED')).toBe(true);
  });

  it('every bit flip of one small stream fails (exhaustive)', async () => {
    const sealed = await collect(
      streamOf([new Uint8Array(150).fill(7)]).pipeThrough(
        sealStream({ keyring, chunkSize: 64, context: { a: 'b' } }),
      ),
    );
    for (let i = 0; i < sealed.length * 8; i++) {
      const flipped = sealed.slice();
      flipped[i >> 3] = (flipped[i >> 3] as number) ^ (1 << (i & 7));
      await fails(
        collect(streamOf([flipped]).pipeThrough(openStream({ keyring, context: { a: 'b' } }))),
      );
    }
  });

  it('a context swap fails', async () => {
    await fc.assert(
      fc.asyncProperty(plaintext, context, context, async (x, a, b) => {
        fc.pre(
          JSON.stringify(Object.entries(a).sort()) !== JSON.stringify(Object.entries(b).sort()),
        );
        const sealed = await seal(x, { keyring, context: a });
        expect(await fails(open(sealed, { keyring, context: b }))).toBe(
          'ERR_CRYPTO_DECRYPTION_FAILED',
        );
      }),
      { numRuns: 100 },
    );
  });

  it('truncating a stream at any chunk boundary (or anywhere) fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.integer({ min: 64, max: 300 }),
        fc.nat(),
        suite,
        async (x, chunkSize, cut, s) => {
          const sealed = await collect(
            streamOf([x]).pipeThrough(sealStream({ keyring, chunkSize, suite: s })),
          );
          const length = cut % sealed.length;
          const stream = streamOf([sealed.subarray(0, length)]).pipeThrough(
            openStream({ keyring }),
          );
          await fails(collect(stream));
        },
      ),
      { numRuns: 100 },
    );
  });
});
