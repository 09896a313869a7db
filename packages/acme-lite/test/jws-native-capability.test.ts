/**
 * workerd's `nodejs_compat` answers `process.getBuiltinModule('node:crypto')` with a module
 * whose `sign` throws a TypeError for ES256 (`{ key, dsaEncoding }`). The JWS signer must then
 * sign through Web Crypto — never surface the TypeError — with signatures the CA accepts.
 */
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { nodeCryptoLikeWorkerd, realNodeCrypto, stubNodeCrypto } from '@fluxel/internal/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

type Jws = typeof import('../src/jws.ts');

let restore: (() => void) | undefined;

afterEach(() => {
  restore?.();
  restore = undefined;
  vi.restoreAllMocks();
  vi.resetModules();
});

async function loadWith(module: object): Promise<Jws> {
  restore?.();
  restore = stubNodeCrypto(module);
  vi.resetModules();
  return import('../src/jws.ts');
}

function verifies(
  jws: { protected: string; payload: string; signature: string },
  jwk: object,
  ec: boolean,
) {
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  return verify(
    'sha256',
    Buffer.from(`${jws.protected}.${jws.payload}`),
    ec ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(jws.signature, 'base64url'),
  );
}

describe('JWS where node:crypto is not Node.js', () => {
  it('ES256 signing where node:crypto.sign throws (workerd nodejs_compat)', async () => {
    const standIn = nodeCryptoLikeWorkerd();
    const jws = await loadWith(standIn.module);
    const { key } = await jws.generateAccountKey();
    const signed = await jws.signJws(key, { nonce: 'n', url: 'https://ca.example/new-order' }, {});
    expect(standIn.refused()).toBeGreaterThan(0); // the probe met the throwing sign
    expect(verifies(signed, key.publicJwk, true)).toBe(true);
  });

  it('keeps the synchronous native signer on Node.js', async () => {
    const jws = await loadWith(realNodeCrypto());
    const { key } = await jws.generateAccountKey();
    const spy = vi.spyOn(crypto.subtle, 'sign');
    const signed = await jws.signJws(key, { nonce: 'n', url: 'u' }, { a: 1 });
    expect(spy).not.toHaveBeenCalled();
    expect(verifies(signed, key.publicJwk, true)).toBe(true);
  });

  it('falls back to Web Crypto for a key node:crypto refuses although ES256 passed its probe', async () => {
    const real = realNodeCrypto() as unknown as { sign(...args: unknown[]): unknown };
    let refused = 0;
    const noRsa = {
      ...realNodeCrypto(),
      sign: (algorithm: unknown, data: unknown, key: { asymmetricKeyType?: string }) => {
        if (key.asymmetricKeyType === 'rsa') {
          refused++;
          throw new TypeError('unsupported key');
        }
        return real.sign(algorithm, data, key);
      },
    };
    const jws = await loadWith(noRsa);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await jws.importAccountKey(privateKey.export({ format: 'jwk' }) as never);
    for (let i = 0; i < 2; i++) {
      const signed = await jws.signJws(key, { nonce: `n${i}`, url: 'u' }, { i });
      expect(verifies(signed, key.publicJwk, false)).toBe(true);
    }
    expect(refused).toBe(1); // tried once, then Web Crypto for that key
  });
});
