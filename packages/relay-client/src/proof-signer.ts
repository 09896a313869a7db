/**
 * What the client needs of a device key: a fresh DPoP proof (RFC 9449) per request. Any signer
 * of this shape works — `createDpopSigner` from `@fluxel/license` is one — so this package
 * depends on no license library.
 */

/** What one proof is for. */
export interface ProofRequest {
  /** HTTP method, e.g. `POST`. */
  readonly method: string;
  /** The full request URL. */
  readonly url: string;
  /** The access token sent with the request, to be bound as `ath`. */
  readonly accessToken?: string;
  /** The latest `DPoP-Nonce` the relay sent. */
  readonly nonce?: string;
  /**
   * The exact request body, to be bound as `cdg` (base64url SHA-256 of these bytes) — the one
   * rule beyond RFC 9449 the relay enforces.
   */
  readonly body?: Uint8Array;
}

/** Signs DPoP proofs with the device key. */
export interface ProofSigner {
  /** A fresh proof (new `jti`, current `iat`) for one request. */
  proof(request: ProofRequest): Promise<string>;
}
