/** The claims of license tokens, shared by the issuer and the verifier. */

/**
 * Token types, in the JWS `typ` header.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ACCESS_TOKEN_TYPE } from '@fluxel/license/token';
 *
 * assert.equal(ACCESS_TOKEN_TYPE, 'fluxel-at+jwt'); // the JOSE `typ` of access tokens
 * ```
 */
export const ACCESS_TOKEN_TYPE = 'fluxel-at+jwt';
/**
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { LICENSE_TOKEN_TYPE } from '@fluxel/license/token';
 *
 * assert.equal(LICENSE_TOKEN_TYPE, 'fluxel-license+jwt'); // the JOSE `typ` of license tokens
 * ```
 */
export const LICENSE_TOKEN_TYPE = 'fluxel-license+jwt';

/**
 * Claims of an access token and of a license token.
 *
 * @example
 * ```ts
 * import type { LicenseTokenClaims } from '@fluxel/license/token';
 *
 * const claims: LicenseTokenClaims = {
 *   iss: 'https://relay.example',
 *   sub: 'lic_01',
 *   tid: 'merchant-42',
 *   prd: 'wawi-sync',
 *   ent: ['orders'],
 *   lexp: null,
 *   iat: 1_790_000_000,
 *   exp: 1_790_000_900,
 *   jti: 'a1b2c3',
 *   cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' },
 * };
 * console.log(claims.ent.includes('orders'));
 * ```
 */
export interface LicenseTokenClaims {
  /** Issuer (the license authority). */
  readonly iss: string;
  /** The license id. */
  readonly sub: string;
  /** Tenant (customer) the license belongs to. */
  readonly tid: string;
  /** Product. */
  readonly prd: string;
  /** Entitlements (feature names). */
  readonly ent: readonly string[];
  /** License expiry, seconds since the epoch, or null for no expiry. */
  readonly lexp: number | null;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  /** Proof-of-possession binding: the device key's thumbprint. */
  readonly cnf: { readonly jkt: string };
}

/**
 * A JWKS document of the authority's public token keys.
 *
 * @example
 * ```ts
 * import { createTokenIssuer, generateKeyPair, type Jwks } from '@fluxel/license';
 *
 * const issuer = createTokenIssuer({
 *   issuer: 'https://relay.example',
 *   keys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 * });
 * const jwks: Jwks = issuer.jwks(); // serve at /.well-known/jwks.json
 * console.log(jwks.keys[0]?.kid); // '2026-11'
 * ```
 */
export interface Jwks {
  readonly keys: readonly (import('../jwk.js').PublicJwk & {
    kid: string;
    alg: string;
    use: 'sig';
  })[];
}
