/**
 * DPoP's `ath` and `cdg` and JWK thumbprints are hashed straight to base64url on the native
 * path (no `TextEncoder`, no intermediate buffer): the same text as `@noble/hashes` gives where
 * node:crypto is missing, and plain `Uint8Array`s where bytes are returned.
 */
import { createHash } from 'node:crypto';
import { stubNodeCrypto } from '@fluxel/internal/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

type Hash = typeof import('../src/hash.ts');
type Dpop = typeof import('../src/lib/dpop.ts');
type Jwk = typeof import('../src/jwk.ts');

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
  vi.resetModules();
});

async function load(module?: object): Promise<{ hash: Hash; dpop: Dpop; jwk: Jwk }> {
  restore?.();
  restore = module ? stubNodeCrypto(module) : undefined;
  vi.resetModules();
  return {
    hash: await import('../src/hash.ts'),
    dpop: await import('../src/lib/dpop.ts'),
    jwk: await import('../src/jwk.ts'),
  };
}

const expected = (data: string | Uint8Array) =>
  createHash('sha256').update(data).digest('base64url');

describe('SHA-256 to base64url', () => {
  it('is the same on the native path and on @noble/hashes (no node:crypto)', async () => {
    const body = crypto.getRandomValues(new Uint8Array(1000));
    const token = 'eyJhbGciOiJFZERTQSJ9.é-ü.𝄞';
    const key = {
      kty: 'EC' as const,
      crv: 'P-256' as const,
      x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
      y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
    };
    for (const module of [undefined, {}]) {
      const { dpop, jwk } = await load(module);
      expect(dpop.accessTokenHash(token)).toBe(expected(token));
      expect(dpop.bodyDigest(body)).toBe(expected(body));
      expect(dpop.bodyDigest('{"a":"é"}')).toBe(expected('{"a":"é"}'));
      // RFC 9449, Figure 9.
      expect(jwk.jwkThumbprint(key)).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
    }
  });

  it('returns plain Uint8Arrays whose slices are copies', async () => {
    const { hash } = await load();
    const digest = hash.sha256(new Uint8Array([1, 2, 3]));
    expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype);
    const copy = digest.slice();
    copy[0] = (copy[0] ?? 0) ^ 1;
    expect(digest[0]).not.toBe(copy[0]);
    const mac = hash.hmacSha256(new Uint8Array(32), new Uint8Array([1]));
    expect(Object.getPrototypeOf(mac)).toBe(Uint8Array.prototype);
  });
});
