/**
 * workerd's `nodejs_compat` answers `process.getBuiltinModule('node:crypto')` with a module
 * whose `sign`/`verify` throw a TypeError for ES256 (`{ key, dsaEncoding }`). ES256 must still
 * sign and verify there, through Web Crypto, with signatures every other runtime accepts.
 */
import { nodeCryptoLikeWorkerd, realNodeCrypto, stubNodeCrypto } from '@fluxel/internal/testing';
import * as jose from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';

type Sig = typeof import('../src/sig.ts');
type Dpop = typeof import('../src/lib/dpop.ts');

let restore: (() => void) | undefined;

afterEach(() => {
  restore?.();
  restore = undefined;
  vi.unstubAllGlobals();
  vi.resetModules();
});

/** The signing modules as loaded where node:crypto is `module`. */
async function loadWith(module: object): Promise<{ sig: Sig; dpop: Dpop }> {
  restore?.();
  restore = stubNodeCrypto(module);
  vi.resetModules();
  return { sig: await import('../src/sig.ts'), dpop: await import('../src/lib/dpop.ts') };
}

const data = new TextEncoder().encode('header.payload');

describe('native capabilities', () => {
  it('ES256 signing where node:crypto.sign throws (workerd nodejs_compat)', async () => {
    const node = await loadWith(realNodeCrypto());
    const { privateJwk, publicJwk } = await node.sig.generateKeyPair('ES256');
    const onNode = await node.sig.createSigner(privateJwk).sign(data);

    const standIn = nodeCryptoLikeWorkerd();
    const workerd = await loadWith(standIn.module);
    // The default device key is ES256: signing works and Node's verifier accepts it.
    const signature = await workerd.sig.createSigner(privateJwk).sign(data);
    expect(standIn.refused()).toBeGreaterThan(0); // the probe reached the throwing sign
    expect(node.sig.createVerifier(publicJwk, 'node').verify(data, signature)).toBe(true);
    // And the stand-in's verifier accepts Node's signature (it did not say "invalid" for a TypeError).
    expect(await workerd.sig.createVerifier(publicJwk).verify(data, onNode)).toBe(true);
    expect(
      await workerd.sig.createVerifier(publicJwk).verify(data, signature.slice().reverse()),
    ).toBe(false);

    // A DPoP proof (license activation with the default device key) verifies with jose.
    const proof = await workerd.dpop
      .createDpopSigner(privateJwk)
      .proof({ method: 'POST', url: 'https://licenses.example/activate', body: '{}' });
    const verified = await jose.compactVerify(proof, await jose.importJWK(publicJwk, 'ES256'));
    expect(verified.protectedHeader).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
  });

  it('keeps the native path for what the runtime does have (Ed25519 on workerd)', async () => {
    const node = await loadWith(realNodeCrypto());
    const workerd = await loadWith(nodeCryptoLikeWorkerd().module);
    const { privateJwk, publicJwk } = await workerd.sig.generateKeyPair('EdDSA');
    const signature = workerd.sig.createSigner(privateJwk).sign(data);
    expect(signature).toBeInstanceOf(Uint8Array); // synchronous: node:crypto signed
    await expect(
      node.sig.createVerifier(publicJwk, 'web').verify(data, signature as Uint8Array),
    ).resolves.toBe(true);
  });

  it('signs through Web Crypto a key node:crypto refuses although its algorithm passed the probe', async () => {
    const node = await loadWith(realNodeCrypto());
    const { privateJwk, publicJwk } = await node.sig.generateKeyPair('ES256');
    const real = realNodeCrypto() as unknown as { sign(...args: unknown[]): unknown };
    let refused = 0;
    const quirky = {
      ...realNodeCrypto(),
      // Signs the probe's key, refuses this one (as a runtime with a key-format quirk would).
      sign: (
        algorithm: unknown,
        data: unknown,
        key: { key: { export(o: object): { x: string } } },
      ) => {
        if (key.key.export({ format: 'jwk' }).x === publicJwk.x) {
          refused++;
          throw new TypeError('unsupported key');
        }
        return real.sign(algorithm, data, key);
      },
    };
    const runtime = await loadWith(quirky);
    const signer = runtime.sig.createSigner(privateJwk);
    for (let i = 0; i < 2; i++) {
      const signature = await signer.sign(data);
      expect(node.sig.createVerifier(publicJwk, 'node').verify(data, signature)).toBe(true);
    }
    expect(refused).toBe(1); // tried once, then Web Crypto for this key
    expect(() => runtime.sig.createSigner(privateJwk, 'node').sign(data)).toThrow(TypeError);
  });

  it('a forced node backend that fails its probe is a typed error naming the algorithm and runtime', async () => {
    const workerd = await loadWith(nodeCryptoLikeWorkerd().module);
    const { privateJwk } = await workerd.sig.generateKeyPair('ES256');
    expect(() => workerd.sig.createSigner(privateJwk, 'node')).toThrow(
      expect.objectContaining({
        code: 'ERR_LICENSE_UNSUPPORTED_RUNTIME',
        message: expect.stringMatching(/ES256 .*Node\.js \d+/),
      }),
    );
  });

  it('says which algorithm and runtime are missing when neither node:crypto nor Web Crypto signs', async () => {
    const node = await loadWith(realNodeCrypto());
    const { privateJwk } = await node.sig.generateKeyPair('ES256');
    const workerd = await loadWith(nodeCryptoLikeWorkerd().module);
    vi.stubGlobal('crypto', { getRandomValues: crypto.getRandomValues.bind(crypto) });
    expect(() => workerd.sig.createSigner(privateJwk)).toThrow(
      expect.objectContaining({ code: 'ERR_LICENSE_UNSUPPORTED_RUNTIME' }),
    );
  });
});
