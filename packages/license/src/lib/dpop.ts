/**
 * DPoP proofs (RFC 9449), client side: a signer bound to the device key builds a fresh proof
 * for every request. The JWS header (type, algorithm, public key) is encoded once per key.
 *
 * Beyond RFC 9449, a proof for a request with a body carries `cdg`, the base64url SHA-256 of
 * the exact body bytes, so the server can tell that the body is the one the device signed.
 * A signer made with a `device` description puts it (claim `dvc`) into every proof without an
 * access token — those of activation and refresh — so the server can record it there.
 */
import { sha256B64u } from '../hash.js';
import { jwkThumbprint, type PrivateJwk, type PublicJwk, toPrivateJwk } from '../jwk.js';
import { createSigner, type SignatureBackend } from '../sig.js';
import {
  checkDeviceDescription,
  type DeviceDescription,
  deviceClaim,
} from './device-description.js';
import { htu } from './http.js';
import { compact, segment, signingBytes } from './jws.js';

/**
 * What a proof is for.
 *
 * @example
 * ```ts
 * import { createDpopSigner, type DpopProofRequest, generateKeyPair } from '@fluxel/license';
 *
 * const request: DpopProofRequest = {
 *   method: 'POST',
 *   url: 'https://relay.example/v1/orders?page=2', // query and fragment are not signed
 *   accessToken: 'eyJhbGciOiJFUzI1NiJ9', // adds `ath`
 *   body: JSON.stringify({ id: 7 }), // adds `cdg`
 * };
 * const signer = createDpopSigner((await generateKeyPair()).privateJwk);
 * await signer.proof(request);
 * ```
 */
export interface DpopProofRequest {
  /** HTTP method, e.g. `POST`. */
  readonly method: string;
  /** The full request URL; query and fragment are left out of the proof. */
  readonly url: string | URL;
  /** The access token sent with the request, bound into the proof as `ath`. */
  readonly accessToken?: string;
  /** The latest `DPoP-Nonce` the server sent. */
  readonly nonce?: string;
  /** The exact request body, bound into the proof as `cdg`. */
  readonly body?: Uint8Array | string;
}

/**
 * Builds DPoP proofs with one device key.
 *
 * @example
 * ```ts
 * import { createDpopSigner, type DpopSigner, generateKeyPair } from '@fluxel/license';
 *
 * const signer: DpopSigner = createDpopSigner((await generateKeyPair()).privateJwk);
 * const url = 'https://relay.example/v1/mailbox';
 * const headers = { dpop: await signer.proof({ method: 'GET', url }) };
 * console.log(signer.jkt, headers.dpop.split('.').length); // thumbprint, 3
 * ```
 */
export interface DpopSigner {
  /** The RFC 7638 thumbprint of the device's public key (what tokens bind to as `cnf.jkt`). */
  readonly jkt: string;
  /** The device's public key. */
  readonly publicJwk: PublicJwk;
  /** A fresh proof (new `jti`, current `iat`) for one request. */
  proof(request: DpopProofRequest): Promise<string>;
}

/**
 * Options of {@link createDpopSigner}.
 *
 * @example
 * ```ts
 * import { createDpopSigner, type DpopSignerOptions, generateKeyPair } from '@fluxel/license';
 *
 * const options: DpopSignerOptions = {
 *   device: { hostName: 'kasse-01', agentVersion: '2.4.1' }, // sent at activation
 *   now: () => Date.now(),
 * };
 * createDpopSigner((await generateKeyPair('EdDSA')).privateJwk, options);
 * ```
 */
export interface DpopSignerOptions {
  /** Signature implementation; default `auto`. */
  readonly backend?: SignatureBackend;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
  /**
   * The device's host name and agent version, sent with activation and refresh (checked here:
   * `ERR_LICENSE_INVALID_ARGUMENT` for anything else than {@link DeviceDescription} allows).
   */
  readonly device?: DeviceDescription;
}

/**
 * Creates a proof signer for a device's private key (ES256 or EdDSA JWK).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createDpopSigner, loadOrCreateDeviceKey, MemoryKeyStore } from '@fluxel/license/client';
 *
 * const { privateJwk } = await loadOrCreateDeviceKey(new MemoryKeyStore(), 'agent');
 * const device = createDpopSigner(privateJwk);
 * const proof = await device.proof({ method: 'POST', url: 'https://relay.example/v1/activate' });
 * assert.equal(JSON.parse(atob(proof.split('.')[0] ?? '')).typ, 'dpop+jwt');
 * ```
 */
export function createDpopSigner(
  privateKey: PrivateJwk,
  options: DpopSignerOptions = {},
): DpopSigner {
  const jwk = toPrivateJwk(privateKey);
  const { d: _private, ...publicJwk } = jwk;
  const signer = createSigner(jwk, options.backend ?? 'auto');
  const headerSegment = segment({ typ: 'dpop+jwt', alg: signer.alg, jwk: publicJwk });
  const now = options.now ?? Date.now;
  const dvc =
    options.device === undefined ? undefined : deviceClaim(checkDeviceDescription(options.device));
  // A device talks to few URLs with one token at a time: remember the last results.
  let lastUrl: string | URL | undefined;
  let lastHtu = '';
  let lastToken: string | undefined;
  let lastAth = '';
  const htuOf = (url: string | URL) => {
    if (url !== lastUrl) {
      lastHtu = htu(url);
      lastUrl = url;
    }
    return lastHtu;
  };
  return {
    jkt: jwkThumbprint(publicJwk),
    publicJwk,
    async proof(request) {
      const claims: Record<string, unknown> = {
        jti: crypto.randomUUID(),
        htm: request.method.toUpperCase(),
        htu: htuOf(request.url),
        iat: Math.floor(now() / 1000),
      };
      if (request.accessToken !== undefined) {
        if (request.accessToken !== lastToken) {
          lastAth = accessTokenHash(request.accessToken);
          lastToken = request.accessToken;
        }
        claims.ath = lastAth;
      } else if (dvc) claims.dvc = dvc;
      if (request.nonce !== undefined) claims.nonce = request.nonce;
      if (request.body !== undefined) claims.cdg = bodyDigest(request.body);
      const input = `${headerSegment}.${segment(claims)}`;
      // Both segments are base64url: the input is ASCII (no TextEncoder needed).
      const signature = signer.sign(signingBytes(input));
      return compact(input, signature instanceof Promise ? await signature : signature);
    },
  };
}

/**
 * The `ath` value for an access token: base64url SHA-256 of its ASCII bytes.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { accessTokenHash } from '@fluxel/license/client';
 *
 * // the `ath` claim: base64url SHA-256 of the token
 * assert.equal(accessTokenHash('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
 * ```
 */
export function accessTokenHash(accessToken: string): string {
  return sha256B64u(accessToken);
}

/**
 * The `cdg` value for a body: base64url SHA-256 of its bytes.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { bodyDigest } from '@fluxel/license/client';
 *
 * assert.equal(bodyDigest(''), '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'); // zero bytes
 * assert.equal(bodyDigest(new TextEncoder().encode('abc')), bodyDigest('abc'));
 * ```
 */
export function bodyDigest(body: Uint8Array | string): string {
  return sha256B64u(body);
}
