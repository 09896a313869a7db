/**
 * The Node fast path, found at run time without importing a `node:` module: on Node (>= 20.16)
 * `process.getBuiltinModule('node:crypto')` gives the synchronous OpenSSL bindings, which beat
 * Web Crypto's one-promise-per-call for small records. Elsewhere this is `undefined` and the
 * core uses Web Crypto and `@noble`. Only what the package calls is typed here.
 *
 * Bun, Deno and workerd (`nodejs_compat`) hand out a `node:crypto` too, without every cipher:
 * a primitive that is not everywhere (AES key wrapping) is used only after its known-answer
 * probe passed (`nativeCapability`, see keywrap.ts).
 */
import { nodeCrypto as runtimeNodeCrypto } from '../../internal/src/node-crypto.js';

/** A `node:crypto` cipher or decipher (the subset used). */
export interface NodeCipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  setAAD(aad: Uint8Array): this;
  getAuthTag(): Uint8Array;
  setAuthTag(tag: Uint8Array): this;
  setAutoPadding(on: boolean): this;
}

/** A `node:crypto` HMAC (the subset used). */
export interface NodeHmac {
  update(data: Uint8Array): NodeHmac;
  digest(): Uint8Array;
}

/** The subset of `node:crypto` used by the fast path. */
export interface NodeCrypto {
  createCipheriv(
    algorithm: string,
    key: Uint8Array,
    iv: Uint8Array | null,
    options?: { authTagLength?: number },
  ): NodeCipher;
  createDecipheriv(
    algorithm: string,
    key: Uint8Array,
    iv: Uint8Array | null,
    options?: { authTagLength?: number },
  ): NodeCipher;
  hkdfSync(
    digest: string,
    ikm: Uint8Array,
    salt: Uint8Array,
    info: Uint8Array,
    keylen: number,
  ): ArrayBuffer;
  createHmac(
    digest: string,
    key: Uint8Array,
  ): {
    update(data: Uint8Array): NodeHmac;
  };
}

function load(): NodeCrypto | undefined {
  const mod = runtimeNodeCrypto() as unknown as Partial<NodeCrypto> | undefined;
  return mod && typeof mod.createCipheriv === 'function' ? (mod as NodeCrypto) : undefined;
}

/** The runtime's `node:crypto` (Node, Bun, Deno, workerd with `nodejs_compat`), else `undefined`. */
export const nodeCrypto: NodeCrypto | undefined = /* @__PURE__ */ load();

/**
 * Which implementation of a primitive runs: `node` (node:crypto) or `web` (Web Crypto / `@noble`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Backend, generateKey, localKek } from '@fluxel/crypto';
 *
 * // `web` forces Web Crypto (as in browsers and workers); the bytes are the same either way.
 * const key = generateKey();
 * const dek = generateKey();
 * const backend: Backend = 'web';
 * const wrapped = await localKek({ id: 'local-1', key, wrapping: 'aes-kw', backend }).wrap(dek);
 * assert.deepEqual(await localKek({ id: 'local-1', key }).unwrap(wrapped), dek);
 * ```
 */
export type Backend = 'node' | 'web';

/** The default backend: `node` where node:crypto is reachable. */
export const defaultBackend: Backend = nodeCrypto ? 'node' : 'web';
