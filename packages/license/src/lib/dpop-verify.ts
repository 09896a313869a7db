/**
 * DPoP proof verification (RFC 9449 §4.3), server side. Checks, in order: one well-formed
 * proof JWT; `typ` `dpop+jwt`; an allowed algorithm matching an embedded public key without
 * private members; `htm` and `htu` match the request; `iat` inside the window; the server
 * nonce when required; `ath` when an access token is presented; `cdg` when the request has a
 * body; the signature; and finally that the `jti` was not seen before (replay).
 *
 * The key import for a proof header is cached (keyed by the exact header segment, which is a
 * pure function of the key), so a device's steady-state requests cost one signature check.
 */

import { algorithmOf, jwkThumbprint, type PublicJwk, toPublicJwk } from '../jwk.js';
import {
  createVerifier,
  isCompactVerifier,
  type SignatureBackend,
  type Verifier,
  type VerifierFactory,
} from '../sig.js';
import { type DeviceDescription, deviceFromClaim } from './device-description.js';
import { accessTokenHash, bodyDigest } from './dpop.js';
import {
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopChallengeOptions,
  dpopChallenge,
} from './dpop-challenge.js';
import { LicenseError, type LicenseErrorCode } from './errors.js';
import { htu as normaliseHtu } from './http.js';
import {
  isCanonicalSegment,
  MAX_JWS_LENGTH,
  parseObject,
  segmentBytes,
  signingBytes,
} from './jws.js';
import type { NonceSource } from './nonce.js';
import type { ReplayAnswer, ReplayStore } from './replay.js';

/**
 * The request a proof is checked against.
 *
 * @example
 * ```ts
 * import { createDpopSigner, createDpopVerifier, generateKeyPair, MemoryReplayStore, type DpopVerifyInput } from '@fluxel/license/server';
 *
 * const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const url = 'https://relay.example/v1/orders';
 * const body = new TextEncoder().encode('{"id":7}');
 * const proof = await device.proof({ method: 'POST', url, body });
 * const input: DpopVerifyInput = { method: 'POST', url, proof, body }; // proof: the DPoP header
 * console.log((await verifier.verify(input)).jkt === device.jkt); // true
 * ```
 */
export interface DpopVerifyInput {
  /** HTTP method of the request. */
  readonly method: string;
  /** Full URL of the request as the server received it (scheme and host included). */
  readonly url: string | URL;
  /** The `DPoP` header value; `undefined` when absent. */
  readonly proof: string | undefined;
  /** The access token presented with the request (`Authorization: DPoP <token>`). */
  readonly accessToken?: string | undefined;
  /** The exact request body bytes, when the request has one. */
  readonly body?: Uint8Array | undefined;
}

/**
 * A proof that passed every check.
 *
 * @example
 * ```ts
 * import { createDpopSigner, createDpopVerifier, generateKeyPair, MemoryReplayStore, type VerifiedProof } from '@fluxel/license/server';
 *
 * const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const url = 'https://relay.example/v1/orders';
 * const body = new TextEncoder().encode('{"id":7}');
 * const proof = await device.proof({ method: 'POST', url, body });
 * const verified: VerifiedProof = await verifier.verify({ method: 'POST', url, proof, body });
 * console.log(verified.jkt, verified.jti, verified.bodyDigest);
 * ```
 */
export interface VerifiedProof {
  /** Thumbprint of the key that signed the proof. */
  readonly jkt: string;
  /** That public key. */
  readonly jwk: PublicJwk;
  readonly jti: string;
  /** Issued-at, seconds. */
  readonly iat: number;
  /**
   * The request body's SHA-256 (base64url), as the proof's `cdg` bound it and as checked
   * against the body: present when the proof carried one. Reuse it rather than hashing the
   * body again.
   */
  readonly bodyDigest?: string;
  /** The device's description (`dvc`, activation and refresh proofs), when it sent one. */
  readonly device?: DeviceDescription;
}

/**
 * Options of {@link createDpopVerifier}.
 *
 * @example
 * ```ts
 * import {
 *   createDpopVerifier,
 *   createNonceSource,
 *   type DpopVerifierOptions,
 *   MemoryReplayStore,
 * } from '@fluxel/license/server';
 *
 * const options: DpopVerifierOptions = {
 *   replay: new MemoryReplayStore(), // redisReplayStore(...) with several instances
 *   nonces: createNonceSource({ secret: crypto.getRandomValues(new Uint8Array(32)) }),
 *   algorithms: ['ES256', 'EdDSA'],
 *   maxAgeSeconds: 60,
 * };
 * createDpopVerifier(options);
 * ```
 */
export interface DpopVerifierOptions {
  /** Where proof identifiers are remembered. */
  readonly replay: ReplayStore;
  /** When set, every proof must carry a valid nonce from this source. */
  readonly nonces?: NonceSource;
  /** How old a proof may be. Default 60 s. */
  readonly maxAgeSeconds?: number;
  /** Tolerated clock difference. Default 5 s. */
  readonly clockSkewSeconds?: number;
  /**
   * Accepted proof algorithms. Default ES256, EdDSA and Ed25519. `EdDSA` with an Ed25519 key
   * and the fully-specified `Ed25519` (RFC 9864) are the same algorithm: naming either
   * accepts both.
   */
  readonly algorithms?: readonly DpopAlgorithm[];
  /** Require `cdg` on requests with a non-empty body. Default true. */
  readonly requireBodyDigest?: boolean;
  /** Upper bound on cached proof keys. Default 10 000. */
  readonly keyCacheSize?: number;
  /** Where signatures are checked: in this thread (`auto`, `node`, `web`) or a {@link VerifierFactory}. */
  readonly backend?: SignatureBackend | VerifierFactory;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * Verifies DPoP proofs.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createDpopSigner, createDpopVerifier, createNonceSource, generateKeyPair, MemoryReplayStore, type DpopVerifier } from '@fluxel/license/server';
 *
 * const verifier: DpopVerifier = createDpopVerifier({
 *   replay: new MemoryReplayStore(),
 *   nonces: createNonceSource({ secret: crypto.getRandomValues(new Uint8Array(32)) }),
 * });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const url = 'https://relay.example/v1/mailbox';
 * const first = await device.proof({ method: 'GET', url });
 * await assert.rejects(verifier.verify({ method: 'GET', url, proof: first }), {
 *   code: 'ERR_DPOP_NONCE_REQUIRED', // answer 401 with DPoP-Nonce: verifier.nonce()
 * });
 * const nonce = verifier.nonce();
 * const retry = await device.proof({ method: 'GET', url, ...(nonce ? { nonce } : {}) });
 * await verifier.verify({ method: 'GET', url, proof: retry });
 * ```
 */
export interface DpopVerifier {
  verify(input: DpopVerifyInput): Promise<VerifiedProof>;
  /** The nonce to send in `DPoP-Nonce`, when nonces are on. */
  nonce(): string | undefined;
  /** The proof algorithms accepted, as in the challenge's `algs`. */
  readonly algorithms: readonly DpopAlgorithm[];
  /** A `WWW-Authenticate` challenge naming the accepted algorithms ({@link dpopChallenge}). */
  challenge(options?: Omit<DpopChallengeOptions, 'algorithms'>): string;
}

interface CachedKey {
  readonly jwk: PublicJwk;
  readonly jkt: string;
  readonly verifier: Verifier;
}

const JTI_MAX = 128;

/**
 * Creates a DPoP proof verifier.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createDpopSigner, createDpopVerifier, generateKeyPair, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const url = 'https://relay.example/v1/orders';
 * const body = new TextEncoder().encode('{"id":7}');
 * const proof = await device.proof({ method: 'POST', url, body });
 * const verified = await verifier.verify({ method: 'POST', url, proof, body });
 * assert.equal(verified.jkt, device.jkt);
 * // the same proof again is a replay
 * await assert.rejects(verifier.verify({ method: 'POST', url, proof, body }), { code: 'ERR_DPOP_REPLAY' });
 * ```
 */
export function createDpopVerifier(options: DpopVerifierOptions): DpopVerifier {
  if (typeof options?.replay?.remember !== 'function') {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'replay is required: a ReplayStore for proof ids (new MemoryReplayStore(), or redisReplayStore(client))',
    );
  }
  const maxAge = options.maxAgeSeconds ?? 60;
  const skew = options.clockSkewSeconds ?? 5;
  const algorithms = acceptedAlgorithms(options.algorithms);
  const requireDigest = options.requireBodyDigest ?? true;
  const cacheSize = options.keyCacheSize ?? 10_000;
  const backend = options.backend ?? 'auto';
  const now = options.now ?? Date.now;
  const keys = new Map<string, CachedKey>();
  // Small memo tables for values that repeat across requests (bounded, cleared when full).
  const htuMemo = new Map<string, string>();
  const athMemo = new Map<string, string>();

  function keyFor(headerSegment: string): CachedKey {
    const cached = keys.get(headerSegment);
    if (cached) return cached;
    const header = parseObject(headerSegment);
    if (!header) throw fail('ERR_DPOP_INVALID_PROOF', 'the DPoP proof is not a well-formed JWT');
    if (header.typ !== 'dpop+jwt')
      throw fail(
        'ERR_DPOP_INVALID_PROOF',
        'the proof is not of type dpop+jwt ("typ" header)',
        'typ',
      );
    const jwk = toPublicJwk(header.jwk);
    if (!jwk)
      throw fail(
        'ERR_DPOP_INVALID_PROOF',
        'the proof does not carry a usable public key ("jwk" header)',
        'jwk',
      );
    const alg = header.alg;
    // RFC 9864: `Ed25519` is the fully-specified name of EdDSA with an Ed25519 key.
    const keyAlg = alg === 'Ed25519' ? 'EdDSA' : alg;
    if (
      typeof alg !== 'string' ||
      !algorithms.includes(alg as DpopAlgorithm) ||
      algorithmOf(jwk) !== keyAlg
    ) {
      throw fail(
        'ERR_DPOP_INVALID_PROOF',
        `the proof algorithm ("alg" header) is not accepted; use one of ${algorithms.join(', ')} with a matching "jwk"`,
        'alg',
      );
    }
    let verifier: Verifier;
    try {
      verifier = createVerifier(jwk, backend);
    } catch {
      throw fail(
        'ERR_DPOP_INVALID_PROOF',
        'the proof does not carry a usable public key ("jwk" header)',
        'jwk',
      );
    }
    const entry = { jwk, jkt: jwkThumbprint(jwk), verifier };
    if (keys.size >= cacheSize) keys.clear();
    keys.set(headerSegment, entry);
    return entry;
  }

  function requestHtu(url: string | URL): string {
    return typeof url === 'string' ? memo(htuMemo, url, normaliseHtu) : normaliseHtu(url);
  }

  return {
    nonce: () => options.nonces?.current(),
    algorithms,
    challenge: (challenge = {}) => dpopChallenge({ ...challenge, algorithms }),
    async verify(input) {
      if (input.proof === undefined || input.proof === '') {
        throw fail('ERR_DPOP_MISSING', 'the request carries no DPoP proof');
      }
      const proof = input.proof;
      const first = proof.indexOf('.');
      const second = proof.indexOf('.', first + 1);
      if (
        proof.length > MAX_JWS_LENGTH ||
        first < 1 ||
        second < 0 ||
        proof.indexOf('.', second + 1) >= 0
      )
        throw malformed();
      const key = keyFor(proof.slice(0, first));
      const claims = parseObject(proof.slice(first + 1, second));
      const signature = proof.slice(second + 1);
      if (!claims || !isCanonicalSegment(signature)) throw malformed();
      const { jti, htm, iat } = claims;
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > JTI_MAX) {
        throw fail('ERR_DPOP_INVALID_PROOF', 'the proof has no valid "jti" claim', 'jti');
      }
      if (htm !== input.method.toUpperCase()) {
        throw fail(
          'ERR_DPOP_INVALID_PROOF',
          'the proof is for another HTTP method ("htm" claim)',
          'htm',
        );
      }
      if (
        typeof claims.htu !== 'string' ||
        memo(htuMemo, claims.htu, safeHtu) !== requestHtu(input.url)
      ) {
        throw fail('ERR_DPOP_INVALID_PROOF', 'the proof is for another URL ("htu" claim)', 'htu');
      }
      const nowSeconds = now() / 1000;
      if (typeof iat !== 'number' || !Number.isFinite(iat)) {
        throw fail('ERR_DPOP_INVALID_PROOF', 'the proof has no valid "iat" claim', 'iat');
      }
      if (iat > nowSeconds + skew || iat < nowSeconds - maxAge - skew) {
        throw fail(
          'ERR_DPOP_STALE',
          'the proof is too old or from the future ("iat" claim); check the device clock',
          'iat',
        );
      }
      if (options.nonces && !options.nonces.isValid(claims.nonce)) {
        throw fail(
          'ERR_DPOP_NONCE_REQUIRED',
          'the proof must carry the current server nonce (DPoP-Nonce) in its "nonce" claim',
          'nonce',
        );
      }
      if (input.accessToken !== undefined) {
        if (
          typeof claims.ath !== 'string' ||
          !equalText(claims.ath, memo(athMemo, input.accessToken, accessTokenHash))
        ) {
          throw fail(
            'ERR_DPOP_INVALID_PROOF',
            'the proof is not bound to the presented access token ("ath" claim)',
            'ath',
          );
        }
      }
      const device = deviceFromClaim(claims.dvc);
      const hasBody = input.body !== undefined && input.body.length > 0;
      let digest: string | undefined;
      if (claims.cdg !== undefined || (hasBody && requireDigest)) {
        const expected = bodyDigest(input.body ?? new Uint8Array(0));
        digest = expected;
        if (typeof claims.cdg !== 'string' || !equalText(claims.cdg, expected)) {
          throw fail(
            'ERR_DPOP_BODY_MISMATCH',
            'the request body is not the one the proof was made for ("cdg" claim)',
            'cdg',
          );
        }
      }
      const { verifier } = key;
      let valid = isCompactVerifier(verifier)
        ? verifier.verifyCompact(proof, second)
        : verifier.verify(
            signingBytes(proof.slice(0, second)),
            segmentBytes(signature) ?? new Uint8Array(0),
          );
      if (valid instanceof Promise) valid = await valid;
      if (!valid) throw fail('ERR_DPOP_INVALID_PROOF', 'the proof signature is not valid');
      let answer = options.replay.remember(`${key.jkt}:${jti}`, maxAge + 2 * skew);
      if (answer instanceof Promise) answer = await answer;
      if (!(typeof answer === 'boolean' ? answer : answer.fresh))
        throw fail(
          'ERR_DPOP_REPLAY',
          'this proof was used before; make a new proof for every request',
        );
      if (typeof answer === 'object') refuseBeforeMemory(iat, answer.since, skew, now());
      return {
        jkt: key.jkt,
        jwk: key.jwk,
        jti,
        iat,
        ...(digest ? { bodyDigest: digest } : {}),
        ...(device ? { device } : {}),
      };
    },
  };
}

/**
 * A replay store that lost its entries (see {@link ReplayAnswer}) cannot tell a proof used
 * before the loss from a new one. A proof accepted before then carries an `iat` at most `skew`
 * seconds after the moment it was used (the future tolerance), and the servers' clocks (the
 * one that started `since` and this one) may differ by `skew` more: proofs made before
 * `since + 2 × skew` are refused, retryably — every new proof made after that is accepted
 * (with the default 5 s skew and whole-second `iat`s, 10–11 s after the loss was noticed).
 */
function refuseBeforeMemory(iat: number, sinceMs: number, skew: number, nowMs: number): void {
  const from = sinceMs / 1000 + 2 * skew;
  if (iat >= from) return;
  throw new LicenseError(
    'ERR_LICENSE_STORAGE',
    `the DPoP replay cache lost its entries and started again at ${new Date(sinceMs).toISOString()}; proofs made before ${new Date(from * 1000).toISOString()} could have been used already and are refused: retry with a new proof`,
    // `iat` is in whole seconds: a retry is made once the second that holds `from` is over.
    { claim: 'iat', retryAfterSeconds: Math.max(1, Math.ceil(Math.ceil(from) - nowMs / 1000)) },
  );
}

function acceptedAlgorithms(
  configured: readonly DpopAlgorithm[] | undefined,
): readonly DpopAlgorithm[] {
  if (configured === undefined) return DPOP_ALGORITHMS;
  if (
    !Array.isArray(configured) ||
    configured.length === 0 ||
    !configured.every((a) => (DPOP_ALGORITHMS as readonly string[]).includes(a))
  ) {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      `algorithms must be a non-empty list of ${DPOP_ALGORITHMS.join(', ')}`,
    );
  }
  const ed = configured.includes('EdDSA') || configured.includes('Ed25519');
  return DPOP_ALGORITHMS.filter((a) => (a === 'ES256' ? configured.includes(a) : ed));
}

function memo(
  table: Map<string, string>,
  input: string,
  compute: (input: string) => string,
): string {
  let value = table.get(input);
  if (value === undefined) {
    value = compute(input);
    if (table.size >= 1024) table.clear();
    table.set(input, value);
  }
  return value;
}

// An unparseable claimed htu never equals a request URL.
function safeHtu(claimed: string): string {
  try {
    return normaliseHtu(claimed);
  } catch {
    return '\u0000invalid';
  }
}

/**
 * Constant-time comparison of a claimed base64url digest with the expected one. Comparing
 * the text is comparing the bytes: the expected value is canonical, and a non-canonical
 * spelling of the same bytes is refused.
 */
function equalText(claimed: string, expected: string): boolean {
  if (claimed.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= claimed.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

function malformed(): LicenseError {
  return fail('ERR_DPOP_INVALID_PROOF', 'the DPoP proof is not a well-formed JWT');
}

function fail(code: LicenseErrorCode, message: string, claim?: string): LicenseError {
  return new LicenseError(code, message, claim === undefined ? undefined : { claim });
}
