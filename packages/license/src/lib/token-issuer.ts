/**
 * Token issuing, for the license authority: short-lived access tokens presented with DPoP on
 * every request, and longer-lived license tokens an agent keeps for offline checks. Both are
 * JWTs signed with the authority's key (EdDSA by default) and bound to the device key
 * (`cnf.jkt`, RFC 7800).
 */
import { utf8 } from '../../../internal/src/base64url.js';
import { algorithmOf, type PrivateJwk, toPrivateJwk } from '../jwk.js';
import { createSigner, type SignatureBackend, type Signer } from '../sig.js';
import {
  ACCESS_TOKEN_TYPE,
  type Jwks,
  LICENSE_TOKEN_TYPE,
  type LicenseTokenClaims,
} from './claims.js';
import { LicenseError } from './errors.js';
import { compact, segment } from './jws.js';

/**
 * A signing key of the authority.
 *
 * @example
 * ```ts
 * import { createTokenIssuer, generateKeyPair, type TokenSigningKey } from '@fluxel/license/server';
 *
 * // Rotation: the first key signs, every key stays in the JWKS until old tokens expire.
 * const next: TokenSigningKey = { kid: '2026-12', privateJwk: (await generateKeyPair('EdDSA')).privateJwk };
 * const previous: TokenSigningKey = { kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk };
 * const issuer = createTokenIssuer({ issuer: 'https://relay.example', keys: [next, previous] });
 * console.log(issuer.jwks().keys.map((k) => k.kid)); // ['2026-12', '2026-11']
 * ```
 */
export interface TokenSigningKey {
  /** Key id, published in the JWKS and the token header. */
  readonly kid: string;
  readonly privateJwk: PrivateJwk;
}

/**
 * What a token says about the license (the issuer adds iss, iat, exp, jti).
 *
 * @example
 * ```ts
 * import { createTokenIssuer, generateKeyPair, jwkThumbprint, type TokenSubject } from '@fluxel/license/server';
 *
 * const issuer = createTokenIssuer({
 *   issuer: 'https://relay.example',
 *   keys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 * });
 * const device = await generateKeyPair();
 * const subject: TokenSubject = {
 *   sub: 'lic_01',
 *   tid: 'merchant-42',
 *   prd: 'wawi-sync',
 *   ent: ['orders'],
 *   lexp: null,
 *   cnf: { jkt: jwkThumbprint(device.publicJwk) },
 * };
 * const { token, expiresAt } = await issuer.issueLicenseToken(subject, 30 * 86_400);
 * console.log(token.split('.').length, new Date(expiresAt * 1000));
 * ```
 */
export type TokenSubject = Omit<LicenseTokenClaims, 'iss' | 'iat' | 'exp' | 'jti'>;

/**
 * Options of {@link createTokenIssuer}.
 *
 * @example
 * ```ts
 * import { createTokenIssuer, generateKeyPair, type TokenIssuerOptions } from '@fluxel/license/server';
 *
 * const options: TokenIssuerOptions = {
 *   issuer: 'https://relay.example', // the `iss` of every token
 *   keys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 * };
 * createTokenIssuer(options);
 * ```
 */
export interface TokenIssuerOptions {
  /** The `iss` claim, e.g. the relay's URL. */
  readonly issuer: string;
  /** Signing keys; the first signs, all are published (for rotation). */
  readonly keys: readonly TokenSigningKey[];
  readonly backend?: SignatureBackend;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * Issues access and license tokens.
 *
 * @example
 * ```ts
 * import {
 *   createTokenIssuer,
 *   createTokenVerifier,
 *   generateKeyPair,
 *   jwkThumbprint,
 *   type TokenIssuer,
 *   type TokenSubject,
 * } from '@fluxel/license/server';
 *
 * const issuer: TokenIssuer = createTokenIssuer({
 *   issuer: 'https://relay.example',
 *   keys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 * });
 * const device = await generateKeyPair();
 * const subject: TokenSubject = {
 *   sub: 'lic_01',
 *   tid: 'merchant-42',
 *   prd: 'wawi-sync',
 *   ent: ['orders'],
 *   lexp: null,
 *   cnf: { jkt: jwkThumbprint(device.publicJwk) },
 * };
 * const { token } = await issuer.issueAccessToken(subject, 900);
 * const verifier = createTokenVerifier({ jwks: issuer.jwks(), issuer: 'https://relay.example' });
 * console.log((await verifier.verifyAccessToken(token)).sub); // 'lic_01'
 * ```
 */
export interface TokenIssuer {
  issueAccessToken(
    subject: TokenSubject,
    ttlSeconds: number,
  ): Promise<{ token: string; expiresAt: number }>;
  issueLicenseToken(
    subject: TokenSubject,
    ttlSeconds: number,
  ): Promise<{ token: string; expiresAt: number }>;
  /** The public keys, to publish at a JWKS endpoint and give to offline verifiers. */
  jwks(): Jwks;
}

/**
 * Creates a token issuer.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createTokenIssuer, generateKeyPair, jwkThumbprint, type TokenSubject } from '@fluxel/license/server';
 *
 * const issuer = createTokenIssuer({
 *   issuer: 'https://relay.example',
 *   keys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 * });
 * const device = await generateKeyPair();
 * const subject: TokenSubject = {
 *   sub: 'lic_01',
 *   tid: 'merchant-42',
 *   prd: 'wawi-sync',
 *   ent: ['orders'],
 *   lexp: null,
 *   cnf: { jkt: jwkThumbprint(device.publicJwk) },
 * };
 * const { token, expiresAt } = await issuer.issueAccessToken(subject, 900);
 * assert.equal(token.split('.').length, 3);
 * assert.ok(expiresAt > Date.now() / 1000);
 * ```
 */
export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const first = options.keys[0];
  if (!first)
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'a token issuer needs at least one signing key',
    );
  const now = options.now ?? Date.now;
  const published: Jwks['keys'][number][] = options.keys.map((key) => {
    const { d: _private, ...pub } = toPrivateJwk(key.privateJwk);
    return { ...pub, kid: key.kid, alg: algorithmOf(pub), use: 'sig' };
  });
  const signer: Signer = createSigner(toPrivateJwk(first.privateJwk), options.backend ?? 'auto');
  const headers = {
    [ACCESS_TOKEN_TYPE]: segment({ alg: signer.alg, typ: ACCESS_TOKEN_TYPE, kid: first.kid }),
    [LICENSE_TOKEN_TYPE]: segment({ alg: signer.alg, typ: LICENSE_TOKEN_TYPE, kid: first.kid }),
  };

  async function issue(type: keyof typeof headers, subject: TokenSubject, ttl: number) {
    if (!(ttl > 0))
      throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', 'a token lifetime must be positive');
    const iat = Math.floor(now() / 1000);
    let exp = iat + Math.floor(ttl);
    if (subject.lexp !== null && subject.lexp < exp) exp = subject.lexp;
    const claims: LicenseTokenClaims = {
      iss: options.issuer,
      ...subject,
      iat,
      exp,
      jti: crypto.randomUUID(),
    };
    const input = `${headers[type]}.${segment(claims)}`;
    const signature = signer.sign(utf8(input));
    return {
      token: compact(input, signature instanceof Promise ? await signature : signature),
      expiresAt: exp,
    };
  }

  return {
    issueAccessToken: (subject, ttl) => issue(ACCESS_TOKEN_TYPE, subject, ttl),
    issueLicenseToken: (subject, ttl) => issue(LICENSE_TOKEN_TYPE, subject, ttl),
    jwks: () => ({ keys: published }),
  };
}
