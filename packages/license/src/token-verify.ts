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
import {
  ACCESS_TOKEN_TYPE,
  type Jwks,
  LICENSE_TOKEN_TYPE,
  type LicenseTokenClaims,
} from './claims.js';
import { LicenseError } from './errors.js';
import { algorithmOf, toPublicJwk } from './jwk.js';
import { decodeJws } from './jws.js';
import { createVerifier, type SignatureBackend, type Verifier } from './sig.js';

/** Options of {@link createTokenVerifier}. */
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

/** What to require of a token beyond its signature, type, issuer and expiry. */
export interface TokenRequirements {
  /** The device key thumbprint the token must be bound to. */
  readonly jkt?: string;
  /** Entitlements the token must grant. */
  readonly entitlements?: readonly string[];
}

/** Verifies tokens of one authority. */
export interface TokenVerifier {
  /** Verifies an access token (as presented with DPoP). */
  verifyAccessToken(token: string, requirements?: TokenRequirements): Promise<LicenseTokenClaims>;
  /** Verifies a license token (for offline checks). */
  verifyLicenseToken(token: string, requirements?: TokenRequirements): Promise<LicenseTokenClaims>;
}

/** Creates a token verifier for an authority's JWKS. */
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

  async function verify(token: string, type: string, requirements: TokenRequirements = {}) {
    let entry = cache.get(token);
    if (!entry) {
      const jws = typeof token === 'string' ? decodeJws(token) : undefined;
      if (!jws) throw invalid('the token is not a well-formed JWT');
      const { alg, kid, typ } = jws.header;
      const verifier = typeof kid === 'string' ? verifiers.get(kid) : undefined;
      if (!verifier || alg !== verifier.alg)
        throw invalid('the token is not signed by a known authority key');
      if (typ !== ACCESS_TOKEN_TYPE && typ !== LICENSE_TOKEN_TYPE)
        throw invalid('the token is of an unknown type');
      let valid = verifier.verify(jws.signingInput, jws.signature);
      if (valid instanceof Promise) valid = await valid;
      if (!valid) throw invalid('the token signature is not valid');
      const claims = checkShape(jws.payload);
      if (!claims || claims.iss !== options.issuer) throw invalid('the token claims are not valid');
      entry = { type: typ, claims };
      if (cache.size >= cacheSize) cache.clear();
      cache.set(token, entry);
    }
    if (entry.type !== type) throw invalid('the token is of another type');
    const { claims } = entry;
    const seconds = now() / 1000;
    if (claims.exp + tolerance < seconds) {
      cache.delete(token);
      throw new LicenseError('ERR_LICENSE_TOKEN_EXPIRED', 'the token has expired; refresh it');
    }
    if (claims.iat - tolerance > seconds) throw invalid('the token is not valid yet');
    if (requirements.jkt !== undefined && claims.cnf.jkt !== requirements.jkt) {
      throw new LicenseError('ERR_LICENSE_TOKEN_BINDING', 'the token is bound to another device');
    }
    for (const needed of requirements.entitlements ?? []) {
      if (!claims.ent.includes(needed)) {
        throw new LicenseError(
          'ERR_LICENSE_ENTITLEMENT',
          `the license does not include "${needed}"`,
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

function invalid(message: string): LicenseError {
  return new LicenseError('ERR_LICENSE_INVALID_TOKEN', message);
}

function checkShape(p: Record<string, unknown>): LicenseTokenClaims | undefined {
  const cnf = p.cnf as { jkt?: unknown } | undefined;
  const ok =
    typeof p.iss === 'string' &&
    typeof p.sub === 'string' &&
    typeof p.tid === 'string' &&
    typeof p.prd === 'string' &&
    Array.isArray(p.ent) &&
    p.ent.every((e) => typeof e === 'string') &&
    (p.lexp === null || typeof p.lexp === 'number') &&
    typeof p.iat === 'number' &&
    typeof p.exp === 'number' &&
    typeof p.jti === 'string' &&
    typeof cnf === 'object' &&
    cnf !== null &&
    typeof cnf.jkt === 'string';
  return ok ? (p as unknown as LicenseTokenClaims) : undefined;
}
