import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { vectorsDir } from '@fluxel/internal/testing';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { type Aead, aes256Gcm, aes256GcmSiv, sealToArray, xchacha20Poly1305 } from '../src/aead.ts';
import { hkdf } from '../src/hkdf.ts';
import { aesKwpUnwrap, aesKwpWrap, aesKwUnwrap, aesKwWrap } from '../src/keywrap.ts';
import type { Backend } from '../src/native.ts';

// Wycheproof, unmodified, in the repository: vectors/wycheproof/README.md says from where.
const FILES = [
  'aes_gcm_test.json',
  'aes_gcm_siv_test.json',
  'xchacha20_poly1305_test.json',
  'chacha20_poly1305_test.json',
  'aes_wrap_test.json',
  'aes_kwp_test.json',
  'hkdf_sha256_test.json',
];
const vectors = vectorsDir(
  resolve(import.meta.dirname, '..'),
  FILES.map((file) => `wycheproof/${file}`),
);
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Test {
  tcId: number;
  result: 'valid' | 'invalid' | 'acceptable';
  [field: string]: unknown;
}
interface Group {
  keySize?: number;
  ivSize?: number;
  tagSize?: number;
  tests: Test[];
}

function load(file: string): Group[] {
  if (!vectors.dir) return [];
  const data = JSON.parse(readFileSync(join(vectors.dir, 'wycheproof', file), 'utf8'));
  return data.testGroups as Group[];
}

const backends: Backend[] = ['node', 'web'];

/** Checks one AEAD against a Wycheproof file (groups with our key, nonce and tag sizes). */
async function checkAead(aead: Aead, file: string, ivBits: number): Promise<number> {
  let count = 0;
  for (const group of load(file)) {
    if (group.keySize !== 256 || group.ivSize !== ivBits || group.tagSize !== 128) continue;
    for (const t of group.tests) {
      const key = hex(t.key as string);
      const iv = hex(t.iv as string);
      const aad = hex(t.aad as string);
      const msg = hex(t.msg as string);
      const sealed = hex(`${t.ct as string}${t.tag as string}`);
      const label = `${file} tcId ${t.tcId}`;
      if (t.result === 'valid') {
        expect(toHex(await sealToArray(aead, key, iv, msg, aad)), label).toBe(toHex(sealed));
        expect(toHex(await aead.open(key, iv, sealed, aad)), label).toBe(toHex(msg));
      } else {
        await expect((async () => aead.open(key, iv, sealed, aad))(), label).rejects.toMatchObject({
          code: 'ERR_CRYPTO_DECRYPTION_FAILED',
        });
      }
      count++;
    }
  }
  return count;
}

describe.skipIf(vectors.skip)(
  `Wycheproof${vectors.skip ? ` (skipped: ${vectors.skip})` : ''}`,
  () => {
    for (const backend of backends) {
      it(`AES-256-GCM, ${backend} backend`, async () => {
        expect(await checkAead(aes256Gcm(backend), 'aes_gcm_test.json', 96)).toBeGreaterThan(50);
      });
    }

    it('AES-256-GCM-SIV (@noble/ciphers)', async () => {
      expect(await checkAead(aes256GcmSiv, 'aes_gcm_siv_test.json', 96)).toBeGreaterThan(50);
    });

    it('XChaCha20-Poly1305 (@noble/ciphers)', async () => {
      expect(
        await checkAead(xchacha20Poly1305, 'xchacha20_poly1305_test.json', 192),
      ).toBeGreaterThan(100);
    });

    it('ChaCha20-Poly1305, the core XChaCha20-Poly1305 builds on (@noble/ciphers)', async () => {
      const core: Aead = {
        nonceLength: 12,
        seal: (key, nonce, pt, aad, out, offset) => {
          out.set(chacha20poly1305(key, nonce, aad).encrypt(pt), offset);
        },
        open: (key, nonce, sealed, aad) => {
          try {
            return chacha20poly1305(key, nonce, aad).decrypt(sealed);
          } catch {
            throw Object.assign(new Error('x'), { code: 'ERR_CRYPTO_DECRYPTION_FAILED' });
          }
        },
      };
      expect(await checkAead(core, 'chacha20_poly1305_test.json', 96)).toBeGreaterThan(100);
    });

    for (const backend of backends) {
      it(`AES-KW (RFC 3394) with 256-bit KEKs, ${backend} backend`, async () => {
        let count = 0;
        for (const group of load('aes_wrap_test.json')) {
          if (group.keySize !== 256) continue;
          for (const t of group.tests) {
            const kek = hex(t.key as string);
            const msg = hex(t.msg as string);
            const ct = hex(t.ct as string);
            const label = `aes_wrap tcId ${t.tcId}`;
            if (t.result === 'valid') {
              expect(toHex(await aesKwWrap(kek, msg, backend)), label).toBe(toHex(ct));
              expect(toHex(await aesKwUnwrap(kek, ct, backend)), label).toBe(toHex(msg));
            } else {
              await expect(
                (async () => aesKwUnwrap(kek, ct, backend))(),
                label,
              ).rejects.toMatchObject({
                code: 'ERR_CRYPTO_DECRYPTION_FAILED',
              });
            }
            count++;
          }
        }
        expect(count).toBeGreaterThan(30);
      });

      it(`AES-KWP (RFC 5649) with 256-bit KEKs, ${backend} backend`, () => {
        let count = 0;
        for (const group of load('aes_kwp_test.json')) {
          if (group.keySize !== 256) continue;
          for (const t of group.tests) {
            const kek = hex(t.key as string);
            const msg = hex(t.msg as string);
            const ct = hex(t.ct as string);
            const label = `aes_kwp tcId ${t.tcId}`;
            if (t.result === 'valid') {
              expect(toHex(aesKwpWrap(kek, msg, backend)), label).toBe(toHex(ct));
              expect(toHex(aesKwpUnwrap(kek, ct, backend)), label).toBe(toHex(msg));
            } else {
              expect(() => aesKwpUnwrap(kek, ct, backend), label).toThrow(
                expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' }),
              );
            }
            count++;
          }
        }
        expect(count).toBeGreaterThan(30);
      });

      it(`HKDF-SHA256, ${backend} backend`, () => {
        let count = 0;
        for (const group of load('hkdf_sha256_test.json')) {
          for (const t of group.tests) {
            const args = [
              hex(t.ikm as string),
              hex(t.salt as string),
              hex(t.info as string),
            ] as const;
            const size = t.size as number;
            if (t.result === 'valid') {
              expect(toHex(hkdf('sha256', ...args, size, backend)), `tcId ${t.tcId}`).toBe(t.okm);
            } else {
              expect(() => hkdf('sha256', ...args, size, backend), `tcId ${t.tcId}`).toThrow();
            }
            count++;
          }
        }
        expect(count).toBe(86);
      });
    }
  },
);
