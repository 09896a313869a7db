/**
 * One-time codes sent by e-mail or SMS (sign-in second factor, address verification), and the
 * rate limit for sending them.
 *
 * Hashing choice: HMAC-SHA-256 keyed with a server-side pepper (a secret the caller keeps
 * outside the database, ≥ 32 bytes). A 6-digit code has only 10^6 values, so a salted plain
 * hash would fall to brute force the moment the database leaks; with the pepper, a leaked
 * database alone reveals nothing. An optional `context` (e.g. `login:<userId>` or
 * `verify-email:<address>`) is mixed in, so a code issued for one purpose or recipient cannot
 * be used for another.
 *
 * Stateless: the caller stores `{ hash, expiresAt, attempts }`, increments `attempts` after
 * every failed check, and deletes the record after a successful one (single use). Comparison
 * is constant time. `sendAllowed` decides from the caller's list of previous send times.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export const ONE_TIME_CODE_TTL_MS = 10 * 60_000;

export interface OneTimeCodeKey {
  /** Server secret (≥ 32 bytes), not stored in the database. */
  readonly pepper: string | Uint8Array;
  /** Binds the code to a purpose / recipient; the same value must be given to check it. */
  readonly context?: string;
}

export interface NewOneTimeCodeOptions extends OneTimeCodeKey {
  /** Current time in ms. */
  readonly now: number;
  /** Lifetime; default 10 minutes. */
  readonly ttlMs?: number;
  /** Number of digits, 4..10; default 6. */
  readonly digits?: number;
}

export interface OneTimeCode {
  /** To send to the user; never store it. */
  readonly code: string;
  /** HMAC-SHA-256 (hex) to store. */
  readonly hash: string;
  /** Expiry time in ms. */
  readonly expiresAt: number;
}

function checkPepper(pepper: string | Uint8Array): void {
  const length = typeof pepper === 'string' ? Buffer.byteLength(pepper) : pepper.length;
  if (length < 32) throw new RangeError('pepper must be at least 32 bytes');
}

/** HMAC-SHA-256(pepper, context ‖ 0x00 ‖ code), hex. */
export function hashOneTimeCode(code: string, key: OneTimeCodeKey): string {
  checkPepper(key.pepper);
  return createHmac('sha256', key.pepper)
    .update(`${key.context ?? ''}\0${code}`, 'utf8')
    .digest('hex');
}

/** A fresh uniformly random numeric code with its hash and expiry. */
export function newOneTimeCode(options: NewOneTimeCodeOptions): OneTimeCode {
  const digits = options.digits ?? 6;
  if (!Number.isInteger(digits) || digits < 4 || digits > 10) {
    throw new RangeError('digits must be 4..10');
  }
  const code = String(randomInt(0, 10 ** digits)).padStart(digits, '0');
  return {
    code,
    hash: hashOneTimeCode(code, options),
    expiresAt: options.now + (options.ttlMs ?? ONE_TIME_CODE_TTL_MS),
  };
}

export interface StoredOneTimeCode {
  readonly hash: string;
  readonly expiresAt: number;
  /** Failed checks so far. */
  readonly attempts: number;
}

export interface CheckOneTimeCodeOptions extends OneTimeCodeKey {
  readonly now: number;
  /** Failed checks allowed before the code is dead; default 5. */
  readonly maxAttempts?: number;
}

export type CheckOneTimeCodeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'expired' | 'invalid' | 'too_many_attempts' };

/**
 * Checks a typed code. Order: `too_many_attempts` (attempts ≥ maxAttempts), `expired`
 * (now ≥ expiresAt), then the constant-time comparison. Spaces and dashes in the input are
 * ignored. After any `ok: false` the caller increments `attempts`; after `ok` it deletes the code.
 */
export function checkOneTimeCode(
  stored: StoredOneTimeCode,
  input: string,
  options: CheckOneTimeCodeOptions,
): CheckOneTimeCodeResult {
  if (stored.attempts >= (options.maxAttempts ?? 5)) {
    return { ok: false, reason: 'too_many_attempts' };
  }
  if (options.now >= stored.expiresAt) return { ok: false, reason: 'expired' };
  const presented = Buffer.from(hashOneTimeCode(input.replace(/[\s-]/g, ''), options), 'hex');
  const expected = Buffer.from(stored.hash, 'hex');
  const ok = expected.length === presented.length && timingSafeEqual(expected, presented);
  return ok ? { ok: true } : { ok: false, reason: 'invalid' };
}

export interface SendPolicy {
  /** Sends allowed within `windowMs`; default 3. */
  readonly perWindow?: number;
  /** Default 15 minutes. */
  readonly windowMs?: number;
  /** Minimum gap between two sends; default 30 s. */
  readonly minIntervalMs?: number;
}

export type SendDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterMs: number };

/**
 * May another code be sent now, given the times of previous sends (any order; times outside
 * the window are ignored, so the caller may keep just the last `windowMs` of history)?
 * Refused while the last send is younger than `minIntervalMs`, or while `perWindow` sends fall
 * within the last `windowMs`; `retryAfterMs` is when both limits next allow a send.
 */
export function sendAllowed(
  history: readonly number[],
  now: number,
  policy: SendPolicy = {},
): SendDecision {
  const perWindow = policy.perWindow ?? 3;
  const windowMs = policy.windowMs ?? 15 * 60_000;
  const minIntervalMs = policy.minIntervalMs ?? 30_000;
  const recent = history.filter((t) => t > now - windowMs && t <= now).sort((a, b) => a - b);
  let retryAfterMs = 0;
  const last = recent.at(-1);
  if (last !== undefined && now - last < minIntervalMs) {
    retryAfterMs = last + minIntervalMs - now;
  }
  if (recent.length >= perWindow) {
    // The send that must leave the window before one more fits.
    const oldest = recent[recent.length - perWindow] as number;
    retryAfterMs = Math.max(retryAfterMs, oldest + windowMs - now);
  }
  return retryAfterMs > 0 ? { ok: false, retryAfterMs } : { ok: true };
}
