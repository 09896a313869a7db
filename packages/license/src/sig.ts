/**
 * Signing and verification for ES256 (P-256, IEEE P1363 signatures as JWS uses them) and
 * EdDSA (Ed25519). The synchronous `node:crypto` path is used where the runtime's node:crypto
 * passes a known-answer probe of that algorithm (Node.js does, about 3× the rate of Web Crypto
 * for ES256 here; workerd's `nodejs_compat` throws from `sign` and fails it); elsewhere Web
 * Crypto. Imported keys are objects to keep and reuse: importing costs more than verifying.
 */
import { nativeCapability, runtimeName } from '../../internal/src/capability.js';
import { probeEd25519, probeEs256 } from '../../internal/src/native-probes.js';
import { type NodeKeyObject, nodeCrypto } from '../../internal/src/node-crypto.js';
import { LicenseError } from './errors.js';
import { algorithmOf, type PrivateJwk, type PublicJwk, type SignatureAlgorithm } from './jwk.js';
import { scratchSignature, scratchSigningInput, segmentBytes, signingBytes } from './lib/jws.js';

/**
 * A public key ready to verify signatures.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { Verifier } from '@fluxel/license';
 *
 * // A Verifier checks one key's signatures; `createVerifyPool` (./node) hands out ones on threads.
 * const alwaysNo: Verifier = { alg: 'ES256', verify: () => false };
 * assert.equal(await alwaysNo.verify(new Uint8Array(1), new Uint8Array(64)), false);
 * ```
 */
export interface Verifier {
  readonly alg: SignatureAlgorithm;
  /** True when `signature` is valid for `data`; false for any invalid or malformed signature. */
  verify(data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>;
}

/**
 * A verifier of the synchronous native path: it also checks a compact JWS where it stands,
 * decoding its signing input and signature into reused memory instead of new buffers (what a
 * request's proof check would otherwise allocate). Internal: the DPoP verifier's hot path.
 */
export interface CompactVerifier extends Verifier {
  /**
   * Whether the canonical base64url signature after `jws[dot]` is valid for the signing input
   * `jws[0, dot)`, whose segments the caller checked. False for any invalid signature.
   */
  verifyCompact(jws: string, dot: number): boolean;
}

/** Whether a verifier can check a compact JWS in place ({@link CompactVerifier}). */
export function isCompactVerifier(verifier: Verifier): verifier is CompactVerifier {
  return typeof (verifier as Partial<CompactVerifier>).verifyCompact === 'function';
}

/** A private key ready to sign. */
export interface Signer {
  readonly alg: SignatureAlgorithm;
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/**
 * Which implementation to use; `auto` picks `node` where the runtime's node:crypto passes the
 * algorithm's known-answer probe (Node.js), else `web`. A forced `node` that fails it is
 * `ERR_LICENSE_UNSUPPORTED_RUNTIME`.
 *
 * @example
 * ```ts
 * import { createDpopSigner, generateKeyPair, type SignatureBackend } from '@fluxel/license';
 *
 * // 'auto' uses node:crypto when present, Web Crypto otherwise; 'web' forces Web Crypto.
 * const backend: SignatureBackend = 'web';
 * const signer = createDpopSigner((await generateKeyPair()).privateJwk, { backend });
 * await signer.proof({ method: 'GET', url: 'https://relay.example/v1/mailbox' });
 * ```
 */
export type SignatureBackend = 'auto' | 'node' | 'web';

/**
 * Makes verifiers that check signatures elsewhere, e.g. on other threads (`createVerifyPool`
 * of `@fluxel/license/node`). `createVerifier` throws for a key that is not a valid point.
 *
 * @example
 * ```ts
 * import {
 *   createDpopVerifier,
 *   MemoryReplayStore,
 *   type Verifier,
 *   type VerifierFactory,
 * } from '@fluxel/license';
 *
 * // Counts the keys a DPoP verifier asks for, and verifies nothing (illustration only).
 * let keys = 0;
 * const counting: VerifierFactory = {
 *   createVerifier(): Verifier {
 *     keys++;
 *     return { alg: 'ES256', verify: () => false };
 *   },
 * };
 * createDpopVerifier({ replay: new MemoryReplayStore(), backend: counting });
 * console.log(keys); // 0 until the first proof arrives
 * ```
 */
export interface VerifierFactory {
  createVerifier(jwk: PublicJwk): Verifier;
}

const SIGNATURE_LENGTH = 64;

function unsupported(what: string, cause?: unknown): LicenseError {
  return new LicenseError(
    'ERR_LICENSE_UNSUPPORTED_RUNTIME',
    `${what} is not available on ${runtimeName()}`,
    cause === undefined ? undefined : { cause },
  );
}

function pickNode(backend: SignatureBackend, alg: SignatureAlgorithm) {
  if (backend === 'web') return undefined;
  const node = nativeCapability(nodeCrypto(), alg, alg === 'ES256' ? probeEs256 : probeEd25519);
  if (!node && backend === 'node') {
    throw unsupported(`${alg} through node:crypto (backend 'node'; use 'auto')`);
  }
  return node;
}

/** Web Crypto's `subtle`, or the typed error when the runtime has none (an insecure context). */
function subtleFor(alg: SignatureAlgorithm): SubtleCrypto {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) throw unsupported(`${alg} (no node:crypto that passes its probe, no Web Crypto)`);
  return subtle;
}

/** Imports a JWK into Web Crypto; an algorithm the runtime lacks becomes the typed error. */
function webImport(alg: SignatureAlgorithm, jwk: PublicJwk | PrivateJwk, usage: KeyUsage) {
  const imported = subtleFor(alg)
    .importKey('jwk', jwk as JsonWebKey, webAlgorithm(alg), false, [usage])
    .catch((error: unknown) => {
      throw (error as { name?: unknown } | null)?.name === 'NotSupportedError'
        ? unsupported(`${alg} (neither node:crypto nor Web Crypto has it)`, error)
        : error;
    });
  // Reported to whoever signs or verifies; a key never used must not be an unhandled rejection.
  imported.catch(() => {});
  return imported;
}

function jwkRecord(jwk: PublicJwk | PrivateJwk): Record<string, string> {
  return { ...jwk } as Record<string, string>;
}

/** Imports a public key for verification. Throws on a key that is not a valid point. */
export function createVerifier(
  jwk: PublicJwk,
  backend: SignatureBackend | VerifierFactory = 'auto',
): Verifier {
  if (typeof backend === 'object') return backend.createVerifier(jwk);
  const alg = algorithmOf(jwk);
  const node = pickNode(backend, alg);
  if (node) {
    const key = node.createPublicKey({ key: jwkRecord(jwk), format: 'jwk' });
    const keyArg = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
    const digest = alg === 'ES256' ? 'sha256' : null;
    const verify = (data: Uint8Array, signature: Uint8Array): boolean => {
      if (signature.length !== SIGNATURE_LENGTH) return false;
      try {
        return node.verify(digest, data, keyArg, signature);
      } catch {
        return false;
      }
    };
    const verifier: CompactVerifier = {
      alg,
      verify,
      verifyCompact(jws, dot) {
        // Both bytes live in reused memory until the next call: node:crypto reads them now.
        const text = jws.slice(dot + 1);
        const signature = scratchSignature(text) ?? segmentBytes(text);
        if (!signature) return false;
        return verify(scratchSigningInput(jws, dot) ?? signingBytes(jws.slice(0, dot)), signature);
      },
    };
    return verifier;
  }
  const keyPromise = webImport(alg, jwk, 'verify');
  return {
    alg,
    async verify(data, signature) {
      if (signature.length !== SIGNATURE_LENGTH) return false;
      let key: CryptoKey;
      try {
        key = await keyPromise;
      } catch (error) {
        // A runtime without the algorithm is not an invalid signature: say so.
        if (LicenseError.isInstance(error)) throw error;
        return false;
      }
      try {
        return await crypto.subtle.verify(
          webSignParams(alg),
          key,
          signature as BufferSource,
          data as BufferSource,
        );
      } catch {
        return false;
      }
    },
  };
}

/**
 * Imports a private key for signing. On the native path, a signature node:crypto refuses
 * although the algorithm passed its probe (a runtime quirk with this key) is made through Web
 * Crypto, for this and every later call; with a forced `node` backend it is thrown.
 */
export function createSigner(jwk: PrivateJwk, backend: SignatureBackend = 'auto'): Signer {
  const alg = algorithmOf(jwk);
  const node = pickNode(backend, alg);
  if (!node) return webSigner(jwk, alg);
  const key: NodeKeyObject = node.createPrivateKey({ key: jwkRecord(jwk), format: 'jwk' });
  const keyArg = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  const digest = alg === 'ES256' ? 'sha256' : null;
  let web: Signer | undefined;
  return {
    alg,
    sign(data) {
      if (!web) {
        try {
          // A plain Uint8Array over node:crypto's result, not a copy of it (nor the Buffer
          // itself, whose `slice` would share memory where a Uint8Array's copies).
          const signature = node.sign(digest, data, keyArg);
          return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
        } catch (error) {
          if (backend === 'node') throw error;
          web = webSigner(jwk, alg);
        }
      }
      return web.sign(data);
    },
  };
}

function webSigner(jwk: PrivateJwk, alg: SignatureAlgorithm): Signer {
  const keyPromise = webImport(alg, jwk, 'sign');
  return {
    alg,
    async sign(data) {
      return new Uint8Array(
        await crypto.subtle.sign(webSignParams(alg), await keyPromise, data as BufferSource),
      );
    },
  };
}

/**
 * Generates a key pair as JWKs: ES256 (P-256) by default, or EdDSA (Ed25519).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKeyPair } from '@fluxel/license/client';
 *
 * const { privateJwk, publicJwk } = await generateKeyPair('EdDSA');
 * assert.equal(publicJwk.kty, 'OKP');
 * assert.equal(typeof privateJwk.d, 'string');
 * ```
 */
export async function generateKeyPair(
  alg: SignatureAlgorithm = 'ES256',
): Promise<{ privateJwk: PrivateJwk; publicJwk: PublicJwk }> {
  if (alg !== 'ES256' && alg !== 'EdDSA')
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      `generateKeyPair makes ES256 (P-256, the default) or EdDSA (Ed25519) keys, not ${JSON.stringify(alg)}`,
    );
  const pair = (await crypto.subtle.generateKey(webAlgorithm(alg), true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const full = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as Record<string, string>;
  const publicJwk: PublicJwk =
    alg === 'ES256'
      ? { kty: 'EC', crv: 'P-256', x: full.x as string, y: full.y as string }
      : { kty: 'OKP', crv: 'Ed25519', x: full.x as string };
  return { privateJwk: { ...publicJwk, d: full.d as string }, publicJwk };
}

function webAlgorithm(alg: SignatureAlgorithm): EcKeyImportParams | Algorithm {
  return alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' };
}

function webSignParams(alg: SignatureAlgorithm): EcdsaParams | Algorithm {
  return alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
}
