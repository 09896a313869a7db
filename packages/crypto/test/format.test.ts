import { expand } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../src/bytes.ts';
import { deriveMessageKey } from '../src/derive.ts';
import { expandHmac, expandOneShot, hkdfExpand, type OneShotHash } from '../src/hkdf.ts';
import { encodeContext, inspect, localKek, seal, sealStream } from '../src/index.ts';
import { nodeCrypto } from '../src/native.ts';
import { suiteByName } from '../src/suites.ts';
import { collect, streamOf, testKeyring } from './helpers.ts';

const keyring = testKeyring('kek-é');

describe('format v1, byte by byte (as in the README)', () => {
  it('lays out a record header as documented', async () => {
    const sealed = await seal(new Uint8Array([1, 2, 3]), { keyring, suite: 'xchacha20-poly1305' });
    expect([...sealed.subarray(0, 6)]).toEqual([0x46, 0x4c, 0x58, 0x01, 0x02, 0x00]);
    const prefix = 6 + 32 + 32 + 24;
    expect(inspect(sealed).prefixLength).toBe(prefix);
    expect(sealed[prefix]).toBe(1); // one entry
    const id = new TextEncoder().encode('kek-é');
    expect(sealed[prefix + 1]).toBe(id.length);
    expect([...sealed.subarray(prefix + 2, prefix + 2 + id.length)]).toEqual([...id]);
    const wrappedLength =
      (sealed[prefix + 2 + id.length] as number) * 256 + (sealed[prefix + 3 + id.length] as number);
    expect(wrappedLength).toBe(1 + 12 + 32 + 16); // AES-GCM wrapping: alg byte, nonce, DEK, tag
    const header = prefix + 4 + id.length + wrappedLength;
    expect(inspect(sealed).headerLength).toBe(header);
    expect(sealed.length).toBe(header + 3 + 16);
  });

  it('lays out a stream header as documented', async () => {
    const sealed = await collect(
      streamOf([new Uint8Array(10)]).pipeThrough(sealStream({ keyring, chunkSize: 4096 })),
    );
    expect([...sealed.subarray(0, 10)]).toEqual([
      0x46, 0x4c, 0x58, 0x01, 0x01, 0x01, 0, 0, 0x10, 0,
    ]);
    expect(inspect(sealed).prefixLength).toBe(10 + 32 + 32 + 7);
  });

  it('reads KEK ids: ASCII, other UTF-8, and invalid UTF-8 as ERR_CRYPTO_MALFORMED', async () => {
    for (const id of ['local-1', 'kek-é', 'ключ', '\u0000\u007f']) {
      const sealed = await seal(Uint8Array.of(1), { keyring: testKeyring(id) });
      expect(inspect(sealed).kekIds).toEqual([id]);
    }
    const sealed = await seal(Uint8Array.of(1), { keyring: testKeyring('abc') });
    const at = inspect(sealed).prefixLength + 2; // after the entry count and the id length
    for (const bad of [0xff, 0xc3]) {
      const broken = sealed.slice();
      broken[at + 1] = bad; // "a?c": 0xff is never UTF-8; 0xc3 starts a sequence "c" does not continue
      expect(() => inspect(broken)).toThrowError(
        expect.objectContaining({ code: 'ERR_CRYPTO_MALFORMED' }),
      );
    }
  });

  it('the key schedule is HKDF-Expand-SHA256(DEK, "fluxel/v1" ‖ suite ‖ salt, 64), on both backends', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (dek, salt) => {
          const suite = suiteByName('aes-256-gcm');
          const info = new Uint8Array([...new TextEncoder().encode('fluxel/v1'), 1, ...salt]);
          const reference = expand(sha256, dek, info, 64);
          const { key, commitment } = deriveMessageKey(dek, salt, suite);
          expect([...key, ...commitment]).toEqual([...reference]);
          expect([...hkdfExpand('sha256', dek, info, 64, 'web')]).toEqual([...reference]);
          expect([...hkdfExpand('sha256', dek, info, 64, 'node')]).toEqual([...reference]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('HKDF-Expand over a one-shot hash equals createHmac and @noble for every size (open-256b perf rewrite)', () => {
    const node = nodeCrypto as NonNullable<typeof nodeCrypto>;
    const oneShot = (node as unknown as { hash: OneShotHash }).hash;
    expect(typeof oneShot).toBe('function');
    fc.assert(
      fc.property(
        fc.constantFrom('sha256' as const, 'sha512' as const),
        fc.uint8Array({ minLength: 64, maxLength: 200 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 1, max: 600 }),
        (hash, prk, info, length) => {
          const reference = expand(hash === 'sha256' ? sha256 : sha512, prk, info, length);
          expect([...expandOneShot(oneShot, hash, prk, info, length)]).toEqual([...reference]);
          expect([...expandHmac(node, hash, prk, info, length)]).toEqual([...reference]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the context encoding is length-prefixed and sorted', () => {
    expect([...encodeContext({ b: 'x', a: '' })]).toEqual([
      0, 0, 0, 2, 0, 0, 0, 1, 97, 0, 0, 0, 0, 0, 0, 0, 1, 98, 0, 0, 0, 1, 120,
    ]);
    expect([...encodeContext({})]).toEqual([0, 0, 0, 0]);
    expect([...encodeContext({ k: 'é' })]).toEqual([
      0, 0, 0, 1, 0, 0, 0, 1, 107, 0, 0, 0, 2, 0xc3, 0xa9,
    ]);
    // No ambiguity between keys and values.
    expect(encodeContext({ ab: 'c' })).not.toEqual(encodeContext({ a: 'bc' }));
  });

  it('base64url round-trips and is canonical', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const text = toBase64Url(b);
        expect(text).toBe(Buffer.from(b).toString('base64url'));
        expect([...fromBase64Url(text)]).toEqual([...b]);
      }),
    );
    expect(() => fromBase64Url('AB')).toThrow(); // non-zero trailing bits
    expect(() => fromBase64Url('A')).toThrow();
  });

  it('rejects KEK ids that do not fit the format', () => {
    expect(() => localKek({ id: '', key: new Uint8Array(32) })).toThrow(/KEK id/);
    expect(() => localKek({ id: 'x'.repeat(256), key: new Uint8Array(32) })).toThrow(/KEK id/);
  });
});
