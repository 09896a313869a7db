/**
 * The `WWW-Authenticate` challenge of the DPoP scheme (RFC 9449 §7.1): `DPoP`, the error code
 * when there is one (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`), and `algs`, the
 * proof algorithms the server accepts, so a client knows which key to sign with.
 */
import { LicenseError } from './errors.js';

/**
 * The proof algorithms a DPoP verifier accepts unless told otherwise.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DPOP_ALGORITHMS } from '@fluxel/license/server';
 *
 * assert.deepEqual(DPOP_ALGORITHMS, ['ES256', 'EdDSA', 'Ed25519']);
 * ```
 */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519'] as const;

/**
 * A proof algorithm: `EdDSA` and `Ed25519` (RFC 9864) both mean Ed25519 here.
 *
 * @example
 * ```ts
 * import { createDpopVerifier, type DpopAlgorithm, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const algorithms: DpopAlgorithm[] = ['ES256']; // accept P-256 proofs only
 * const verifier = createDpopVerifier({ replay: new MemoryReplayStore(), algorithms });
 * console.log(verifier.challenge()); // 'DPoP algs="ES256"'
 * ```
 */
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/**
 * Error codes of a DPoP challenge (RFC 6750 §3.1, RFC 9449 §7.1 and §8).
 *
 * @example
 * ```ts
 * import { type DpopChallengeError, dpopChallenge } from '@fluxel/license/server';
 *
 * const error: DpopChallengeError = 'invalid_dpop_proof';
 * const header = dpopChallenge({ error }); // the WWW-Authenticate value of a 401
 * console.log(header);
 * ```
 */
export type DpopChallengeError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/**
 * Options of {@link dpopChallenge}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type DpopChallengeOptions, dpopChallenge } from '@fluxel/license/server';
 *
 * const options: DpopChallengeOptions = {
 *   error: 'invalid_token',
 *   description: 'the access token expired',
 *   algorithms: ['EdDSA'],
 * };
 * assert.equal(
 *   dpopChallenge(options),
 *   'DPoP error="invalid_token", error_description="the access token expired", algs="EdDSA"',
 * );
 * ```
 */
export interface DpopChallengeOptions {
  /** The error code; none for a request that carried no credentials at all. */
  readonly error?: DpopChallengeError | undefined;
  /** A human-readable description (printable ASCII without `"` and `\`). */
  readonly description?: string | undefined;
  /** The accepted proof algorithms. Default {@link DPOP_ALGORITHMS}. */
  readonly algorithms?: readonly string[] | undefined;
}

const ERRORS = new Set<string>([
  'invalid_request',
  'invalid_token',
  'insufficient_scope',
  'invalid_dpop_proof',
  'use_dpop_nonce',
]);

/**
 * The value of a `WWW-Authenticate` header that challenges for DPoP.
 *
 * @example
 * ```ts
 * import { dpopChallenge } from '@fluxel/license/server';
 * dpopChallenge(); // 'DPoP algs="ES256 EdDSA Ed25519"'
 * dpopChallenge({ error: 'use_dpop_nonce' }); // 'DPoP error="use_dpop_nonce", algs="ES256 EdDSA Ed25519"'
 * ```
 */
export function dpopChallenge(options: DpopChallengeOptions = {}): string {
  const params: string[] = [];
  if (options.error !== undefined) {
    if (!ERRORS.has(options.error)) invalid(`error must be one of ${[...ERRORS].join(', ')}`);
    params.push(`error="${options.error}"`);
  }
  if (options.description !== undefined) {
    if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}$/.test(options.description))
      invalid('description must be 1 to 200 printable ASCII characters without " and \\');
    params.push(`error_description="${options.description}"`);
  }
  const algorithms = options.algorithms ?? DPOP_ALGORITHMS;
  if (algorithms.length === 0 || !algorithms.every((a) => /^[A-Za-z0-9_-]{1,32}$/.test(a)))
    invalid('algorithms must be a non-empty list of algorithm names');
  params.push(`algs="${algorithms.join(' ')}"`);
  return `DPoP ${params.join(', ')}`;
}

/**
 * The challenge error code for a refusal of `@fluxel/license`: `use_dpop_nonce` for
 * `ERR_DPOP_NONCE_REQUIRED`, `invalid_dpop_proof` for the other proof errors, `invalid_token`
 * for token errors, `undefined` for anything else (no credentials, or not a 401 at all).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { dpopChallengeError, LicenseError } from '@fluxel/license/server';
 *
 * const refused = new LicenseError('ERR_DPOP_NONCE_REQUIRED', 'send the DPoP-Nonce');
 * assert.equal(dpopChallengeError(refused), 'use_dpop_nonce');
 * assert.equal(dpopChallengeError(new Error('other')), undefined);
 * ```
 */
export function dpopChallengeError(error: unknown): DpopChallengeError | undefined {
  if (!LicenseError.isInstance(error)) return undefined;
  switch (error.code) {
    case 'ERR_DPOP_NONCE_REQUIRED':
      return 'use_dpop_nonce';
    case 'ERR_DPOP_INVALID_PROOF':
    case 'ERR_DPOP_REPLAY':
    case 'ERR_DPOP_STALE':
    case 'ERR_DPOP_BODY_MISMATCH':
      return 'invalid_dpop_proof';
    case 'ERR_LICENSE_INVALID_TOKEN':
    case 'ERR_LICENSE_TOKEN_EXPIRED':
    case 'ERR_LICENSE_TOKEN_BINDING':
      return 'invalid_token';
    default:
      return undefined;
  }
}

function invalid(message: string): never {
  throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', message);
}
