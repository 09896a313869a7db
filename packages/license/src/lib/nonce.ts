/**
 * Server nonces for DPoP (RFC 9449 §8) without shared state: a nonce is a timestamp and an
 * HMAC of it under a secret all relay instances share, so any instance accepts a nonce any
 * other instance issued, for `lifetimeSeconds`. A nonce's MAC is checked once (the few
 * nonces that passed are remembered with their timestamp); its age on every use.
 */
import { b64u, equalBytes, fromB64u } from '../../../internal/src/base64url.js';
import { hmacSha256 } from '../hash.js';
import { LicenseError } from './errors.js';

/**
 * Issues and checks nonces.
 *
 * @example
 * ```ts
 * import { createNonceSource, type NonceSource } from '@fluxel/license/server';
 *
 * const nonces: NonceSource = createNonceSource({ secret: crypto.getRandomValues(new Uint8Array(32)) });
 * const headers = { 'DPoP-Nonce': nonces.current() }; // on every response
 * console.log(nonces.isValid(headers['DPoP-Nonce'])); // true
 * ```
 */
export interface NonceSource {
  /** The nonce to send now in `DPoP-Nonce` (changes every `rotateSeconds`). */
  current(): string;
  /** True when `nonce` was issued by this source (or a sibling with the same secret) and is fresh. */
  isValid(nonce: unknown): boolean;
}

/**
 * Options of {@link createNonceSource}.
 *
 * @example
 * ```ts
 * import { createNonceSource, type NonceSourceOptions } from '@fluxel/license/server';
 *
 * const options: NonceSourceOptions = {
 *   secret: crypto.getRandomValues(new Uint8Array(32)), // the same on every instance
 *   lifetimeSeconds: 120,
 *   rotateSeconds: 30,
 * };
 * createNonceSource(options);
 * ```
 */
export interface NonceSourceOptions {
  /** At least 32 random bytes, the same on every instance. */
  readonly secret: Uint8Array;
  /** How long a nonce is accepted. Default 300 s. */
  readonly lifetimeSeconds?: number;
  /** How often a new nonce is issued. Default 60 s. */
  readonly rotateSeconds?: number;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

const MAC_BYTES = 16;

/**
 * Creates a stateless nonce source.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createNonceSource } from '@fluxel/license/server';
 *
 * const secret = crypto.getRandomValues(new Uint8Array(32));
 * const instanceA = createNonceSource({ secret });
 * const instanceB = createNonceSource({ secret });
 * assert.equal(instanceB.isValid(instanceA.current()), true); // no shared state needed
 * assert.equal(instanceB.isValid('made-up'), false);
 * ```
 */
export function createNonceSource(options: NonceSourceOptions): NonceSource {
  if (!(options.secret instanceof Uint8Array) || options.secret.length < 32) {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'the nonce secret must be at least 32 bytes',
    );
  }
  const secret = options.secret;
  const lifetime = options.lifetimeSeconds ?? 300;
  const rotate = options.rotateSeconds ?? 60;
  const now = options.now ?? Date.now;
  const mac = (stamp: Uint8Array) => hmacSha256(secret, stamp).subarray(0, MAC_BYTES);
  let cache = { step: -1, nonce: '' };
  // Nonces whose MAC checked out, with their issue time. Only nonces this secret issued get
  // in (one per rotation step), so a handful cover the lifetime; cleared when full.
  const checked = new Map<string, number>();
  return {
    current() {
      const seconds = Math.floor(now() / 1000);
      const step = Math.floor(seconds / rotate);
      if (step !== cache.step) {
        const stamp = encodeStamp(step * rotate);
        const bytes = new Uint8Array(6 + MAC_BYTES);
        bytes.set(stamp);
        bytes.set(mac(stamp), 6);
        cache = { step, nonce: b64u(bytes) };
      }
      return cache.nonce;
    },
    isValid(nonce) {
      if (typeof nonce !== 'string' || nonce.length > 64) return false;
      let issued = checked.get(nonce);
      if (issued === undefined) {
        const bytes = fromB64u(nonce);
        if (!bytes || bytes.length !== 6 + MAC_BYTES) return false;
        const stamp = bytes.subarray(0, 6);
        if (!equalBytes(mac(stamp), bytes.subarray(6))) return false;
        issued = decodeStamp(stamp);
        if (checked.size >= 16) checked.clear();
        checked.set(nonce, issued);
      }
      const seconds = now() / 1000;
      return issued <= seconds + 5 && seconds - issued <= lifetime;
    },
  };
}

function encodeStamp(seconds: number): Uint8Array {
  const out = new Uint8Array(6);
  let value = seconds;
  for (let i = 5; i >= 0; i--) {
    out[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return out;
}

function decodeStamp(bytes: Uint8Array): number {
  let value = 0;
  for (const byte of bytes) value = value * 256 + byte;
  return value;
}
