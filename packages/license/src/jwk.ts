/**
 * Public keys as JWK (RFC 7517) and their thumbprints (RFC 7638). Two key types are used:
 * ES256 (EC P-256) for device keys, EdDSA (Ed25519) or ES256 for the authority's token keys.
 */
import { fromB64u } from '../../internal/src/base64url.js';
import { LicenseError } from './errors.js';
import { sha256B64u } from './hash.js';

/**
 * A signature algorithm this package uses.
 *
 * @example
 * ```ts
 * import { generateKeyPair, type SignatureAlgorithm } from '@fluxel/license';
 *
 * const alg: SignatureAlgorithm = 'EdDSA';
 * const { publicJwk } = await generateKeyPair(alg);
 * console.log(publicJwk.kty); // 'OKP'
 * ```
 */
export type SignatureAlgorithm = 'ES256' | 'EdDSA';

/**
 * A public EC P-256 key.
 *
 * @example
 * ```ts
 * import { type EcPublicJwk, generateKeyPair } from '@fluxel/license';
 *
 * const { publicJwk } = await generateKeyPair('ES256');
 * if (publicJwk.kty === 'EC') {
 *   const ec: EcPublicJwk = publicJwk;
 *   console.log(ec.crv); // 'P-256'
 * }
 * ```
 */
export interface EcPublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly use?: string;
}

/**
 * A public Ed25519 key.
 *
 * @example
 * ```ts
 * import { generateKeyPair, type OkpPublicJwk } from '@fluxel/license';
 *
 * const { publicJwk } = await generateKeyPair('EdDSA');
 * if (publicJwk.kty === 'OKP') {
 *   const okp: OkpPublicJwk = publicJwk;
 *   console.log(okp.crv); // 'Ed25519'
 * }
 * ```
 */
export interface OkpPublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly use?: string;
}

/**
 * A public key this package accepts.
 *
 * @example
 * ```ts
 * import { generateKeyPair, jwkThumbprint, type PublicJwk } from '@fluxel/license';
 *
 * const publicJwk: PublicJwk = (await generateKeyPair()).publicJwk;
 * console.log(jwkThumbprint(publicJwk));
 * ```
 */
export type PublicJwk = EcPublicJwk | OkpPublicJwk;

/**
 * A private key: the public members plus `d`.
 *
 * @example
 * ```ts
 * import { createDpopSigner, generateKeyPair, type PrivateJwk } from '@fluxel/license';
 *
 * const privateJwk: PrivateJwk = (await generateKeyPair()).privateJwk;
 * const signer = createDpopSigner(privateJwk);
 * console.log(signer.publicJwk); // the same key without `d`
 * ```
 */
export type PrivateJwk = PublicJwk & { readonly d: string };

function is32Bytes(value: unknown): value is string {
  return typeof value === 'string' && value.length === 43 && fromB64u(value)?.length === 32;
}

/**
 * Checks that `value` is a well-formed public key of a supported type and carries no
 * private member, and returns it reduced to its required members. Returns `undefined`
 * otherwise.
 */
export function toPublicJwk(value: unknown): PublicJwk | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const jwk = value as Record<string, unknown>;
  if ('d' in jwk || 'p' in jwk || 'q' in jwk || 'k' in jwk) return undefined;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && is32Bytes(jwk.x) && is32Bytes(jwk.y)) {
    return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && is32Bytes(jwk.x)) {
    return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  }
  return undefined;
}

/** Checks a private key JWK of a supported type; throws `ERR_LICENSE_INVALID_ARGUMENT`. */
export function toPrivateJwk(value: unknown): PrivateJwk {
  if (typeof value === 'object' && value !== null) {
    const { d, ...rest } = value as Record<string, unknown>;
    const pub = toPublicJwk(rest);
    if (pub && is32Bytes(d)) return { ...pub, d };
  }
  throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', 'not a private EC P-256 or Ed25519 JWK');
}

/** The algorithm a key is used with. */
export function algorithmOf(jwk: PublicJwk): SignatureAlgorithm {
  return jwk.kty === 'EC' ? 'ES256' : 'EdDSA';
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { jwkThumbprint } from '@fluxel/license/client';
 *
 * // RFC 7638 §3.1's example key
 * const jkt = jwkThumbprint({
 *   kty: 'OKP',
 *   crv: 'Ed25519',
 *   x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
 * });
 * assert.equal(jkt.length, 43); // base64url of a SHA-256
 * ```
 */
export function jwkThumbprint(jwk: PublicJwk): string {
  // Only the key types this library signs with: the members of another type (RSA: e, n) would
  // not be in the hash, so a value computed here would silently be wrong.
  const j = jwk as unknown as Record<string, unknown> | null;
  const ec = j?.kty === 'EC' && j.crv === 'P-256' && is32Bytes(j.x) && is32Bytes(j.y);
  const okp = j?.kty === 'OKP' && j.crv === 'Ed25519' && is32Bytes(j.x);
  if (!ec && !okp)
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      `jwkThumbprint takes an EC P-256 or Ed25519 public JWK (kty "EC" or "OKP"), got kty ${JSON.stringify((jwk as { kty?: unknown } | null)?.kty)}`,
    );
  const canonical =
    jwk.kty === 'EC'
      ? `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
      : `{"crv":"Ed25519","kty":"OKP","x":"${jwk.x}"}`;
  return sha256B64u(canonical);
}
