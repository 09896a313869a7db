/**
 * Token verification: signature against the authority's JWKS, type, issuer, expiry, and
 * (optionally) the device binding and entitlements. Works offline: an agent with the JWKS
 * and its license token can check its entitlements with no network. Signing code is not
 * reachable from here (enforced by the package's bundle rules).
 *
 * Verified tokens are cached (by their exact text, bounded), so a token presented on every
 * request costs one signature check per token, not per request; expiry is re-checked on
 * every use.
 */

import { algorithmOf, toPublicJwk } from '../jwk.js';
import { createVerifier, type SignatureBackend, type Verifier } from '../sig.js';
import {
  ACCESS_TOKEN_TYPE,
  type Jwks,
  LICENSE_TOKEN_TYPE,
  type LicenseTokenClaims,
} from './claims.js';
import { LicenseError } from './errors.js';
import { decodeJws } from './jws.js';

/**
 * Options of {@link createTokenVerifier}.
 *
 * @example
 * ```ts
 * import { createTokenIssuer, createTokenVerifier, generateKeyPair, type TokenVerifierOptions } from '@fluxel/license';
 *
 * // The JWKS comes from the authority (fetched once, or shipped with the agent).
 * const jwks = createTokenIssuer({
 *   issuer: 'https://relay.example',
 *   keys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 * }).jwks();
 * const options: TokenVerifierOptions = { jwks, issuer: 'https://relay.example', clockToleranceSeconds: 30 };
 * createTokenVerifier(options);
 * ```
 */
export interface TokenVerifierOptions {
  /** The authority's public keys. */
  readonly jwks: Jwks;
  /** Expected `iss`. */
  readonly issuer: string;
  /** Tolerated clock difference. Default 30 s. */
  readonly clockToleranceSeconds?: number;
  /** Upper bound on cached verified tokens. Default 50 000. */
  readonly cacheSize?: number;
  readonly backend?: SignatureBackend;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * What to require of a token beyond its signature, type, issuer and expiry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import {
 *   createTokenIssuer,
 *   createTokenVerifier,
 *   generateKeyPair,
 *   jwkThumbprint,
 *   type TokenRequirements,
 *   type TokenSubject,
 * } from '@fluxel/license';
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
 * const { token } = await issuer.issueLicenseToken(subject, 86_400);
 * const verifier = createTokenVerifier({ jwks: issuer.jwks(), issuer: 'https://relay.example' });
 * const needs: TokenRequirements = { jkt: subject.cnf.jkt, entitlements: ['orders'] };
 * await verifier.verifyLicenseToken(token, needs);
 * await assert.rejects(verifier.verifyLicenseToken(token, { entitlements: ['invoices'] }), {
 *   code: 'ERR_LICENSE_ENTITLEMENT',
 * });
 * ```
 */
export interface TokenRequirements {
  /** The device key thumbprint the token must be bound to. */
  readonly jkt?: string;
  /** Entitlements the token must grant. */
  readonly entitlements?: readonly string[];
}

/**
 * Verifies tokens of one authority.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import {
 *   createTokenIssuer,
 *   createTokenVerifier,
 *   generateKeyPair,
 *   jwkThumbprint,
 *   type TokenSubject,
 *   type TokenVerifier,
 * } from '@fluxel/license';
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
 * const { token } = await issuer.issueAccessToken(subject, 900);
 * const verifier: TokenVerifier = createTokenVerifier({ jwks: issuer.jwks(), issuer: 'https://relay.example' });
 * assert.equal((await verifier.verifyAccessToken(token)).tid, 'merchant-42');
 * // an access token is not a license token
 * await assert.rejects(verifier.verifyLicenseToken(token), { code: 'ERR_LICENSE_INVALID_TOKEN' });
 * ```
 */
export interface TokenVerifier {
  /** Verifies an access token (as presented with DPoP). */
  verifyAccessToken(token: string, requirements?: TokenRequirements): Promise<LicenseTokenClaims>;
  /** Verifies a license token (for offline checks). */
  verifyLicenseToken(token: string, requirements?: TokenRequirements): Promise<LicenseTokenClaims>;
}

/**
 * Creates a token verifier for an authority's JWKS.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createTokenVerifier, type Jwks } from '@fluxel/license/token';
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
 * const { token } = await issuer.issueLicenseToken(subject, 30 * 86_400);
 * // offline, on the agent: only the JWKS is needed
 * const jwks: Jwks = JSON.parse(JSON.stringify(issuer.jwks()));
 * const verifier = createTokenVerifier({ jwks, issuer: 'https://relay.example' });
 * const claims = await verifier.verifyLicenseToken(token, { jkt: subject.cnf.jkt });
 * assert.deepEqual(claims.ent, ['orders']);
 * ```
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const tolerance = options.clockToleranceSeconds ?? 30;
  const cacheSize = options.cacheSize ?? 50_000;
  const now = options.now ?? Date.now;
  const verifiers = new Map<string, Verifier>();
  for (const key of options.jwks.keys) {
    const jwk = toPublicJwk(key);
    if (!jwk || typeof key.kid !== 'string' || key.alg !== algorithmOf(jwk)) {
      throw new LicenseError(
        'ERR_LICENSE_INVALID_ARGUMENT',
        'the JWKS holds a key this package cannot use',
      );
    }
    verifiers.set(key.kid, createVerifier(jwk, options.backend ?? 'auto'));
  }
  const cache = new Map<string, { type: string; claims: LicenseTokenClaims }>();

  // A token seen before costs no signature check and no extra turn of the event loop.
  function verify(
    token: string,
    type: string,
    requirements: TokenRequirements = {},
  ): Promise<LicenseTokenClaims> {
    const entry = cache.get(token);
    if (!entry) return verifyNew(token, type, requirements);
    try {
      return Promise.resolve(check(token, entry, type, requirements));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async function verifyNew(token: string, type: string, requirements: TokenRequirements) {
    let entry = cache.get(token);
    if (!entry) {
      const jws = typeof token === 'string' ? decodeJws(token) : undefined;
      if (!jws) throw invalid('the token is not a well-formed JWT');
      const { alg, kid, typ } = jws.header;
      const verifier = typeof kid === 'string' ? verifiers.get(kid) : undefined;
      if (!verifier)
        throw invalid('the token is not signed by a known authority key ("kid" header)', 'kid');
      if (alg !== verifier.alg)
        throw invalid('the token\'s "alg" header does not match its authority key', 'alg');
      if (typ !== ACCESS_TOKEN_TYPE && typ !== LICENSE_TOKEN_TYPE)
        throw invalid('the token is of an unknown type ("typ" header)', 'typ');
      let valid = verifier.verify(jws.signingInput, jws.signature);
      if (valid instanceof Promise) valid = await valid;
      if (!valid) throw invalid('the token signature is not valid');
      const malformed = malformedClaim(jws.payload);
      if (malformed)
        throw invalid(`the token's "${malformed}" claim is missing or malformed`, malformed);
      const claims = jws.payload as unknown as LicenseTokenClaims;
      if (claims.iss !== options.issuer)
        throw invalid('unexpected "iss" claim value: the token is from another issuer', 'iss');
      entry = { type: typ, claims };
      if (cache.size >= cacheSize) cache.clear();
      cache.set(token, entry);
    }
    return check(token, entry, type, requirements);
  }

  function check(
    token: string,
    entry: { type: string; claims: LicenseTokenClaims },
    type: string,
    requirements: TokenRequirements,
  ): LicenseTokenClaims {
    if (entry.type !== type)
      throw invalid(
        `the token is of another type ("typ" header): expected ${type === ACCESS_TOKEN_TYPE ? 'an access' : 'a license'} token`,
        'typ',
      );
    const { claims } = entry;
    const seconds = now() / 1000;
    if (claims.exp + tolerance < seconds) {
      cache.delete(token);
      throw new LicenseError(
        'ERR_LICENSE_TOKEN_EXPIRED',
        '"exp" claim timestamp check failed: the token has expired; refresh it',
        { claim: 'exp' },
      );
    }
    if (claims.iat - tolerance > seconds)
      throw invalid(
        '"iat" claim timestamp check failed: the token is not valid yet; check the clock',
        'iat',
      );
    const nbf = (claims as { nbf?: number }).nbf;
    if (nbf !== undefined && nbf - tolerance > seconds)
      throw invalid(
        '"nbf" claim timestamp check failed: the token is not valid yet; check the clock',
        'nbf',
      );
    if (requirements.jkt !== undefined && claims.cnf.jkt !== requirements.jkt) {
      throw new LicenseError(
        'ERR_LICENSE_TOKEN_BINDING',
        '"cnf.jkt" claim check failed: the token is bound to another device',
        { claim: 'cnf.jkt' },
      );
    }
    for (const needed of requirements.entitlements ?? []) {
      if (!claims.ent.includes(needed)) {
        throw new LicenseError(
          'ERR_LICENSE_ENTITLEMENT',
          `the license does not include "${needed}" ("ent" claim)`,
          { claim: 'ent' },
        );
      }
    }
    return claims;
  }

  return {
    verifyAccessToken: (token, requirements) => verify(token, ACCESS_TOKEN_TYPE, requirements),
    verifyLicenseToken: (token, requirements) => verify(token, LICENSE_TOKEN_TYPE, requirements),
  };
}

function invalid(message: string, claim?: string): LicenseError {
  return new LicenseError(
    'ERR_LICENSE_INVALID_TOKEN',
    message,
    claim === undefined ? undefined : { claim },
  );
}

const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isText = (v: unknown) => typeof v === 'string';

/** The checks of each claim's shape, in the order they are reported. */
const CLAIM_SHAPES: readonly (readonly [string, (p: Record<string, unknown>) => boolean])[] = [
  ['iss', (p) => isText(p.iss)],
  ['sub', (p) => isText(p.sub)],
  ['tid', (p) => isText(p.tid)],
  ['prd', (p) => isText(p.prd)],
  ['ent', (p) => Array.isArray(p.ent) && p.ent.every(isText)],
  ['lexp', (p) => p.lexp === null || isNumber(p.lexp)],
  ['iat', (p) => isNumber(p.iat)],
  ['exp', (p) => isNumber(p.exp)],
  ['nbf', (p) => p.nbf === undefined || isNumber(p.nbf)],
  ['jti', (p) => isText(p.jti)],
  [
    'cnf.jkt',
    (p) => typeof p.cnf === 'object' && p.cnf !== null && isText((p.cnf as { jkt?: unknown }).jkt),
  ],
];

/** The first claim of a token payload that is missing or of the wrong type, if any. */
function malformedClaim(payload: Record<string, unknown>): string | undefined {
  for (const [claim, ok] of CLAIM_SHAPES) if (!ok(payload)) return claim;
  return undefined;
}
