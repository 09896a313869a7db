/**
 * Access to `node:crypto` without a static `node:` import, so a package's core stays
 * Web-platform code and still takes the synchronous native fast path on Node.js.
 * `process.getBuiltinModule` exists on Node.js >= 20.16 (we require >= 20.19); elsewhere
 * (browsers, workers) this returns `undefined` and callers use Web Crypto.
 *
 * Bun, Deno and workerd (`nodejs_compat`) answer `getBuiltinModule('node:crypto')` too, with
 * a module that is not Node's: some members are missing or throw. Never use a member on the
 * strength of the module being there: ask `nativeCapability` (./capability.ts), which runs a
 * known-answer probe of that one capability once and caches the verdict.
 *
 * Only the members the packages use are typed here (no dependency on `@types/node`).
 */

/** A `node:crypto` KeyObject, as far as we use it. */
export interface NodeKeyObject {
  readonly type: 'secret' | 'public' | 'private';
  readonly asymmetricKeyType?: string;
  export(options: { format: 'jwk' }): Record<string, string>;
}

/** A key argument for `sign`/`verify`: a KeyObject, optionally with the signature encoding. */
export type NodeSignKey = NodeKeyObject | { key: NodeKeyObject; dsaEncoding: 'ieee-p1363' | 'der' };

/** Incremental hash or HMAC. */
export interface NodeHash {
  update(data: Uint8Array | string): NodeHash;
  digest(): Uint8Array;
  digest(encoding: 'base64url'): string;
}

/** The subset of `node:crypto` used by the packages. */
export interface NodeCrypto {
  createHash(algorithm: string): NodeHash;
  createHmac(algorithm: string, key: Uint8Array): NodeHash;
  sign(algorithm: string | null, data: Uint8Array, key: NodeSignKey): Uint8Array;
  verify(
    algorithm: string | null,
    data: Uint8Array,
    key: NodeSignKey,
    signature: Uint8Array,
  ): boolean;
  createPublicKey(input: { key: Record<string, string>; format: 'jwk' }): NodeKeyObject;
  createPrivateKey(input: { key: Record<string, string>; format: 'jwk' }): NodeKeyObject;
  generateKeyPairSync(
    type: 'ec' | 'ed25519',
    options?: { namedCurve: string },
  ): { publicKey: NodeKeyObject; privateKey: NodeKeyObject };
  randomBytes(size: number): Uint8Array;
  randomUUID(): string;
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}

let cached: NodeCrypto | null | undefined;

/**
 * The runtime's `node:crypto` module (Node.js, Bun, Deno, workerd with `nodejs_compat`), else
 * `undefined`. Check a capability with `nativeCapability` before using a member.
 */
export function nodeCrypto(): NodeCrypto | undefined {
  if (cached === undefined) {
    try {
      const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
        .process;
      const mod = proc?.getBuiltinModule?.('node:crypto');
      cached = typeof mod === 'object' && mod !== null ? (mod as NodeCrypto) : null;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}
