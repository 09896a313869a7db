/** The claims of license tokens, shared by the issuer and the verifier. */

/** Token types, in the JWS `typ` header. */
export const ACCESS_TOKEN_TYPE = 'fluxel-at+jwt';
export const LICENSE_TOKEN_TYPE = 'fluxel-license+jwt';

/** Claims of an access token and of a license token. */
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

/** A JWKS document of the authority's public token keys. */
export interface Jwks {
  readonly keys: readonly (import('../jwk.js').PublicJwk & {
    kid: string;
    alg: string;
    use: 'sig';
  })[];
}
