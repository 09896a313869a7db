/**
 * Bun, Deno and workerd (`nodejs_compat`) answer `process.getBuiltinModule('node:crypto')` with
 * a node:crypto that lacks the AES key-wrap ciphers. Records sealed on Node must open there (and
 * the other way round), through Web Crypto's AES-KW and @noble's AES-KWP.
 */
import { nodeCryptoWithoutKeyWrap, realNodeCrypto, stubNodeCrypto } from '@fluxel/internal/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

type Lib = typeof import('../src/index.ts');
type KeyWrap = typeof import('../src/keywrap.ts');

let restore: (() => void) | undefined;

afterEach(() => {
  restore?.();
  restore = undefined;
  vi.unstubAllGlobals();
  vi.resetModules();
});

/** The package as loaded where node:crypto is `module`. */
async function loadWith(module: object): Promise<{ lib: Lib; keywrap: KeyWrap }> {
  restore?.();
  restore = stubNodeCrypto(module);
  vi.resetModules();
  return { lib: await import('../src/index.ts'), keywrap: await import('../src/keywrap.ts') };
}

const context = { tenant: 'acme', record: '7' };
const text = new TextEncoder().encode('sealed on one runtime, opened on another');

function keyringOf(lib: Lib, key: Uint8Array, wrapping: 'aes-kw' | 'aes-kwp') {
  return new lib.Keyring([lib.localKek({ id: `local-${wrapping}`, key, wrapping })]);
}

describe('native capabilities', () => {
  for (const wrapping of ['aes-kw', 'aes-kwp'] as const) {
    it(`records sealed on Node open where node:crypto lacks aes-kw (Bun, Deno): ${wrapping}`, async () => {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const node = await loadWith(realNodeCrypto());
      const onNode = await node.lib.seal(text, {
        keyring: keyringOf(node.lib, key, wrapping),
        context,
      });

      const standIn = nodeCryptoWithoutKeyWrap();
      const bun = await loadWith(standIn.module);
      const keyring = keyringOf(bun.lib, key, wrapping);
      expect(await bun.lib.open(onNode, { keyring, context })).toEqual(text);
      // The stand-in was asked (the probe) and refused: the fallback did the work.
      expect(standIn.refused()).toBeGreaterThan(0);

      // And the other way round: sealed there, opened on Node.
      const onBun = await bun.lib.seal(text, { keyring, context });
      const back = await loadWith(realNodeCrypto());
      expect(
        await back.lib.open(onBun, { keyring: keyringOf(back.lib, key, wrapping), context }),
      ).toEqual(text);
    });
  }

  it('wraps to the same bytes through node:crypto and through the fallback', async () => {
    const kek = crypto.getRandomValues(new Uint8Array(32));
    const dek = crypto.getRandomValues(new Uint8Array(32));
    const node = await loadWith(realNodeCrypto());
    const viaNode = {
      kw: node.keywrap.aesKwWrap(kek, dek),
      kwp: node.keywrap.aesKwpWrap(kek, dek),
    };
    expect(viaNode.kw).toBeInstanceOf(Uint8Array); // synchronous: the native path ran

    const standIn = nodeCryptoWithoutKeyWrap();
    const bun = await loadWith(standIn.module);
    const kw = bun.keywrap.aesKwWrap(kek, dek);
    expect(kw).toBeInstanceOf(Promise); // Web Crypto's AES-KW
    expect(await kw).toEqual(viaNode.kw);
    expect(bun.keywrap.aesKwpWrap(kek, dek)).toEqual(viaNode.kwp);
    expect(await bun.keywrap.aesKwUnwrap(kek, viaNode.kw as Uint8Array)).toEqual(dek);
    expect(bun.keywrap.aesKwpUnwrap(kek, viaNode.kwp)).toEqual(dek);
    // A wrong KEK is still only "decryption failed".
    await expect(
      (async () => bun.keywrap.aesKwUnwrap(new Uint8Array(32), viaNode.kw as Uint8Array))(),
    ).rejects.toMatchObject({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' });
  });

  it('probes each key-wrap cipher once and caches the verdict', async () => {
    const standIn = nodeCryptoWithoutKeyWrap();
    const bun = await loadWith(standIn.module);
    const kek = new Uint8Array(32).fill(1);
    const dek = new Uint8Array(32).fill(2);
    await bun.keywrap.aesKwWrap(kek, dek);
    bun.keywrap.aesKwpWrap(kek, dek);
    const afterFirst = standIn.refused();
    expect(afterFirst).toBe(2); // one refused probe per cipher
    for (let i = 0; i < 5; i++) {
      await bun.keywrap.aesKwWrap(kek, dek);
      bun.keywrap.aesKwpWrap(kek, dek);
    }
    expect(standIn.refused()).toBe(afterFirst);
  });

  it('passes the key-wrap probes on Node.js and fails them on a node:crypto without the ciphers', async () => {
    const { keywrap } = await loadWith(realNodeCrypto());
    const real = realNodeCrypto() as unknown as Parameters<KeyWrap['probeAesKw']>[0];
    expect(keywrap.probeAesKw(real)).toBe(true);
    expect(keywrap.probeAesKwp(real)).toBe(true);
    const wrong = {
      ...real,
      // A cipher that answers, but not AES-KW: the known answer catches it.
      createCipheriv: () => ({ update: (x: Uint8Array) => x, final: () => new Uint8Array(8) }),
    } as unknown as typeof real;
    expect(keywrap.probeAesKw(wrong)).toBe(false);
  });

  it('says which capability and runtime are missing when neither node:crypto nor Web Crypto has AES-KW', async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const node = await loadWith(realNodeCrypto());
    const sealed = await node.lib.seal(text, {
      keyring: keyringOf(node.lib, key, 'aes-kw'),
      context,
    });

    const bun = await loadWith(nodeCryptoWithoutKeyWrap().module);
    // An insecure browser context: crypto.getRandomValues but no crypto.subtle.
    vi.stubGlobal('crypto', { getRandomValues: crypto.getRandomValues.bind(crypto) });
    const error = await bun.lib
      .open(sealed, { keyring: keyringOf(bun.lib, key, 'aes-kw'), context })
      .catch((e: unknown) => e);
    expect(bun.lib.CryptoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_CRYPTO_UNSUPPORTED_RUNTIME' });
    expect((error as Error).message).toMatch(/AES-KW .*Node\.js \d+/);
  });
});
