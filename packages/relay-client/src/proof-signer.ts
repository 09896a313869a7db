/**
 * What the client needs of a device key: a fresh DPoP proof (RFC 9449) per request. Any signer
 * of this shape works — `createDpopSigner` from `@fluxel/license` is one — so this package
 * depends on no license library.
 */

/**
 * What one proof is for.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { ProofRequest } from '@fluxel/relay-client';
 *
 * const body = new TextEncoder().encode('{"ids":["evt-1"]}');
 * const request: ProofRequest = { method: 'POST', url: 'https://relay.example/v1/mailbox/ack', accessToken: 'token', body };
 * assert.equal(request.body?.length, body.length); // bound into the proof as cdg
 * ```
 */
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

/**
 * Signs DPoP proofs with the device key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { ProofRequest, ProofSigner } from '@fluxel/relay-client';
 *
 * // In practice: createDpopSigner(privateJwk) from @fluxel/license.
 * const seen: ProofRequest[] = [];
 * const signer: ProofSigner = { proof: async (request) => (seen.push(request), 'header.payload.signature') };
 * assert.equal(await signer.proof({ method: 'GET', url: 'https://relay.example/v1/status' }), 'header.payload.signature');
 * assert.equal(seen[0]?.method, 'GET');
 * ```
 */
export interface ProofSigner {
  /** A fresh proof (new `jti`, current `iat`) for one request. */
  proof(request: ProofRequest): Promise<string>;
}
