/**
 * The Web-platform path of the JWS signer (browsers, workers, Deno): node:crypto hidden, so
 * signatures come from Web Crypto; they must verify exactly like the Node.js fast path's.
 */
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../internal/src/node-crypto.js', () => ({ nodeCrypto: () => undefined }));

const { generateAccountKey, importAccountKey, signJws } = await import('../src/index.ts');

function verifies(
  jws: { protected: string; payload: string; signature: string },
  jwk: object,
  ec: boolean,
) {
  return verify(
    'sha256',
    Buffer.from(`${jws.protected}.${jws.payload}`),
    ec
      ? { key: createPublicKey({ key: jwk as never, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }
      : createPublicKey({ key: jwk as never, format: 'jwk' }),
    Buffer.from(jws.signature, 'base64url'),
  );
}

describe('JWS without node:crypto', () => {
  it('signs ES256 with Web Crypto', async () => {
    const { key } = await generateAccountKey();
    const spy = vi.spyOn(crypto.subtle, 'sign');
    const jws = await signJws(key, { nonce: 'n', url: 'u' }, { a: 1 });
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(verifies(jws, key.publicJwk, true)).toBe(true);
  });

  it('signs RS256 with an imported RSA account key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await importAccountKey(privateKey.export({ format: 'jwk' }) as never);
    expect(key.alg).toBe('RS256');
    const jws = await signJws(key, { nonce: 'n', url: 'u' }, undefined);
    expect(JSON.parse(Buffer.from(jws.protected, 'base64url').toString()).alg).toBe('RS256');
    expect(verifies(jws, key.publicJwk, false)).toBe(true);
  });
});

describe('JWS on Node.js (fast path) gives verifiable signatures too', () => {
  it('RS256 and ES256', async () => {
    vi.doUnmock('../../internal/src/node-crypto.js');
    vi.resetModules();
    const fresh = await import('../src/index.ts');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa = await fresh.importAccountKey(privateKey.export({ format: 'jwk' }) as never);
    expect(verifies(await fresh.signJws(rsa, {}, { x: 1 }), rsa.publicJwk, false)).toBe(true);
    const { key } = await fresh.generateAccountKey();
    const spy = vi.spyOn(crypto.subtle, 'sign');
    expect(verifies(await fresh.signJws(key, {}, { x: 1 }), key.publicJwk, true)).toBe(true);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });
});
