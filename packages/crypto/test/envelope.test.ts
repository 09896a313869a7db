import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DECRYPTION_FAILED_MESSAGE,
  fromText,
  inspect,
  Keyring,
  localKek,
  open,
  SUITES,
  seal,
  toText,
} from '../src/index.ts';
import { bytes, rejectsWith, testKeyring } from './helpers.ts';

const keyring = testKeyring();
const context = { tenant: 't1', record: 'r1', field: 'secret' };

describe('seal / open', () => {
  for (const suite of SUITES) {
    it(`round-trips with ${suite}`, async () => {
      const sealed = await seal(bytes('hello'), { keyring, context, suite });
      expect(inspect(sealed)).toMatchObject({ suite, stream: false, kekIds: ['k1'], version: 1 });
      expect(await open(sealed, { keyring, context })).toEqual(bytes('hello'));
    });
  }

  it('seals the same plaintext differently every time (fresh DEK, salt and nonce)', async () => {
    const a = await seal(bytes('x'), { keyring });
    const b = await seal(bytes('x'), { keyring });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('a ciphertext moved to another row or tenant does not open', async () => {
    const sealed = await seal(bytes('card'), { keyring, context });
    await rejectsWith(
      open(sealed, { keyring, context: { ...context, record: 'r2' } }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    await rejectsWith(
      open(sealed, { keyring, context: { ...context, tenant: 't2' } }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    await rejectsWith(open(sealed, { keyring }), 'ERR_CRYPTO_DECRYPTION_FAILED');
  });

  it('every authentication failure says only "decryption failed"', async () => {
    const sealed = await seal(bytes('x'), { keyring, context });
    const other = new Keyring([localKek({ id: 'k1', key: new Uint8Array(32).fill(9) })]);
    const tampered = sealed.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    const errors = await Promise.allSettled([
      open(sealed, { keyring: other, context }),
      open(tampered, { keyring, context }),
      open(sealed, { keyring, context: { tenant: 'x' } }),
    ]);
    for (const result of errors) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason;
      expect(error.code).toBe('ERR_CRYPTO_DECRYPTION_FAILED');
      expect(error.message).toBe(DECRYPTION_FAILED_MESSAGE);
      expect(error.cause).toBeUndefined();
    }
  });

  it('distinct codes for malformed input, unknown KEK and unsupported version or suite', async () => {
    const sealed = await seal(bytes('x'), { keyring });
    await rejectsWith(open(bytes('nope'), { keyring }), 'ERR_CRYPTO_MALFORMED');
    await rejectsWith(open(sealed.subarray(0, 40), { keyring }), 'ERR_CRYPTO_MALFORMED');
    const v2 = sealed.slice();
    v2[3] = 2;
    await rejectsWith(open(v2, { keyring }), 'ERR_CRYPTO_UNSUPPORTED_VERSION');
    const s9 = sealed.slice();
    s9[4] = 9;
    await rejectsWith(open(s9, { keyring }), 'ERR_CRYPTO_UNSUPPORTED_SUITE');
    await rejectsWith(open(sealed, { keyring: testKeyring('other') }), 'ERR_CRYPTO_UNKNOWN_KEK');
    await rejectsWith(
      seal(bytes('x'), { keyring, suite: 'rot13' as never }),
      'ERR_CRYPTO_UNSUPPORTED_SUITE',
    );
  });

  it('rejects bad arguments with ERR_CRYPTO_INVALID_ARGUMENT', async () => {
    await rejectsWith(seal('text' as never, { keyring }), 'ERR_CRYPTO_INVALID_ARGUMENT');
    await rejectsWith(
      seal(bytes('x'), { keyring, context: { n: 1 } as never }),
      'ERR_CRYPTO_INVALID_ARGUMENT',
    );
    await rejectsWith(
      seal(bytes('x'), { keyring, context: { k: '\ud800' } }),
      'ERR_CRYPTO_INVALID_ARGUMENT',
    );
    for (const context of [new Map([['a', 'b']]), ['a'], 'a=b', null]) {
      await rejectsWith(
        seal(bytes('x'), { keyring, context: context as never }),
        'ERR_CRYPTO_INVALID_ARGUMENT',
      );
    }
    await rejectsWith(seal(bytes('x'), { keyring: {} as never }), 'ERR_CRYPTO_INVALID_ARGUMENT');
    await rejectsWith(open(bytes('x'), undefined as never), 'ERR_CRYPTO_INVALID_ARGUMENT');
    expect(() => localKek({ id: 'k', key: new Uint8Array(16) })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_ARGUMENT' }),
    );
  });

  it('context encoding is canonical: key order does not matter, values do', async () => {
    const sealed = await seal(bytes('x'), { keyring, context: { a: '1', b: '2', é: 'ü' } });
    expect(await open(sealed, { keyring, context: { é: 'ü', b: '2', a: '1' } })).toEqual(
      bytes('x'),
    );
    await rejectsWith(
      open(sealed, { keyring, context: { a: '12', b: '', é: 'ü' } }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('seals an empty record and a 1 MiB record', async () => {
    expect(await open(await seal(new Uint8Array(0), { keyring }), { keyring })).toEqual(
      new Uint8Array(0),
    );
    const big = new Uint8Array(randomBytes(1 << 20));
    expect(await open(await seal(big, { keyring }), { keyring })).toEqual(big);
  });

  it('the text form round-trips and checks its prefix', async () => {
    const sealed = await seal(bytes('x'), { keyring });
    const text = toText(sealed);
    expect(text).toMatch(/^flx1\.[A-Za-z0-9_-]+$/);
    expect(await open(fromText(text), { keyring })).toEqual(bytes('x'));
    expect(() => fromText('flx2.AAAA')).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED_VERSION' }),
    );
    expect(() => fromText('hello')).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_MALFORMED' }),
    );
    expect(() => fromText('flx1.a*b')).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_MALFORMED' }),
    );
  });

  it('all local wrappings (AES-GCM, AES-KW, AES-KWP) round-trip and open each other', async () => {
    const key = new Uint8Array(32).fill(3);
    for (const wrapping of ['aes-gcm', 'aes-kw', 'aes-kwp'] as const) {
      const sealed = await seal(bytes(wrapping), {
        keyring: new Keyring([localKek({ id: 'w', key, wrapping })]),
      });
      const reader = new Keyring([localKek({ id: 'w', key })]);
      expect(await open(sealed, { keyring: reader })).toEqual(bytes(wrapping));
    }
  });

  it('the Web Crypto backend opens what the Node backend sealed, and back', async () => {
    const key = new Uint8Array(32).fill(5);
    for (const wrapping of ['aes-gcm', 'aes-kw'] as const) {
      const web = new Keyring([localKek({ id: 'b', key, wrapping, backend: 'web' })]);
      const node = new Keyring([localKek({ id: 'b', key, wrapping, backend: 'node' })]);
      expect(await open(await seal(bytes('a'), { keyring: web }), { keyring: node })).toEqual(
        bytes('a'),
      );
      expect(await open(await seal(bytes('b'), { keyring: node }), { keyring: web })).toEqual(
        bytes('b'),
      );
    }
  });
});

describe('the remembered context encoding (open-256b perf)', () => {
  it('always equals encodeContext, when the same object is changed or keys are reordered', async () => {
    const { contextBytes } = await import('../src/envelope.ts');
    const { encodeContext } = await import('../src/context.ts');
    const small = fc.constantFrom('a', 'b', 'ab', 'é', '');
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(small, small, { maxKeys: 3 }), { maxLength: 8 }),
        (list) => {
          const shared: Record<string, string> = {};
          for (const context of list) {
            expect([...contextBytes(context)]).toEqual([...encodeContext(context)]);
            for (const key of Object.keys(shared)) delete shared[key];
            Object.assign(shared, context);
            expect([...contextBytes(shared)]).toEqual([...encodeContext(shared)]);
            const reversed = Object.fromEntries(Object.entries(context).reverse());
            expect([...contextBytes(reversed)]).toEqual([...encodeContext(reversed)]);
          }
        },
      ),
      { numRuns: 200 },
    );
    const context = { tenant: 'a' };
    const sealed = await seal(new Uint8Array([1]), { keyring: testKeyring(), context });
    await open(sealed, { keyring: testKeyring(), context });
    context.tenant = 'b';
    await expect(open(sealed, { keyring: testKeyring(), context })).rejects.toMatchObject({
      code: 'ERR_CRYPTO_DECRYPTION_FAILED',
    });
    expect(() => contextBytes({ tenant: 1 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_ARGUMENT' }),
    );
  });
});
