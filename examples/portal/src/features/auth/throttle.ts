/**
 * Login throttling as pure decisions over a per-key failure record (key = account or client
 * IP; the caller stores one record per key and checks both before verifying a password).
 *
 * Policy: the first `freeAttempts` failures cost nothing; after that each attempt must wait
 * `baseDelayMs · 2^(failures − freeAttempts)` after the last failure (1 s, 2 s, 4 s … capped at
 * `maxDelayMs`, 60 s). Reaching `lockoutAfter` failures locks the key for `lockoutMs`; failures
 * keep counting, so each failure after a lockout locks again. A record whose last failure is
 * older than `resetAfterMs` (and that is not locked) is forgotten. `ACCOUNT_POLICY` is strict,
 * `IP_POLICY` looser (many users may share an address).
 *
 * Usage: `throttleState` → refuse with `retryAfterMs` when not allowed (without checking the
 * password); on a wrong password store `recordFailure(...)`; on success store
 * `recordSuccess()` for the account key. Do not reset the IP key on success: an attacker with
 * one valid account could otherwise clear the IP's failures at will.
 */

export interface ThrottleRecord {
  readonly failures: number;
  /** Time of the last failure, ms. */
  readonly lastFailureAt: number;
  /** Locked until this time, ms. */
  readonly lockedUntil?: number;
}

export interface ThrottlePolicy {
  readonly freeAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly lockoutAfter: number;
  readonly lockoutMs: number;
  readonly resetAfterMs: number;
}

export interface ThrottleDecision {
  readonly allowed: boolean;
  /** 0 when allowed. */
  readonly retryAfterMs: number;
}

/** Per account: 3 free, backoff 1 s … 60 s, 15 min lockout after 10, forgotten after 1 h. */
export const ACCOUNT_POLICY: ThrottlePolicy = Object.freeze({
  freeAttempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  lockoutAfter: 10,
  lockoutMs: 15 * 60_000,
  resetAfterMs: 60 * 60_000,
});

/** Per client IP: 10 free, backoff 1 s … 60 s, 15 min lockout after 50, forgotten after 1 h. */
export const IP_POLICY: ThrottlePolicy = Object.freeze({
  freeAttempts: 10,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  lockoutAfter: 50,
  lockoutMs: 15 * 60_000,
  resetAfterMs: 60 * 60_000,
});

const EMPTY: ThrottleRecord = Object.freeze({ failures: 0, lastFailureAt: 0 });

function locked(record: ThrottleRecord, now: number): boolean {
  return record.lockedUntil !== undefined && now < record.lockedUntil;
}

/** The record with stale failures forgotten. */
function current(
  record: ThrottleRecord | null | undefined,
  now: number,
  policy: ThrottlePolicy,
): ThrottleRecord {
  if (!record || record.failures <= 0) return EMPTY;
  if (!locked(record, now) && now - record.lastFailureAt >= policy.resetAfterMs) return EMPTY;
  return record;
}

/** Delay required after the last failure before the next attempt. */
export function backoffDelay(failures: number, policy: ThrottlePolicy): number {
  if (failures < policy.freeAttempts) return 0;
  const exponent = Math.min(failures - policy.freeAttempts, 40);
  return Math.min(policy.baseDelayMs * 2 ** exponent, policy.maxDelayMs);
}

/** May the key try now? When not, `retryAfterMs` says how long to wait. */
export function throttleState(
  record: ThrottleRecord | null | undefined,
  now: number,
  policy: ThrottlePolicy = ACCOUNT_POLICY,
): ThrottleDecision {
  const r = current(record, now, policy);
  if (r.lockedUntil !== undefined && now < r.lockedUntil) {
    return { allowed: false, retryAfterMs: r.lockedUntil - now };
  }
  const wait = r.lastFailureAt + backoffDelay(r.failures, policy) - now;
  return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true, retryAfterMs: 0 };
}

/** The record after one more failure at `now`. */
export function recordFailure(
  record: ThrottleRecord | null | undefined,
  now: number,
  policy: ThrottlePolicy = ACCOUNT_POLICY,
): ThrottleRecord {
  const r = current(record, now, policy);
  const failures = r.failures + 1;
  const lockedUntil = Math.max(
    r.lockedUntil ?? 0,
    failures >= policy.lockoutAfter ? now + policy.lockoutMs : 0,
  );
  return lockedUntil > now
    ? { failures, lastFailureAt: now, lockedUntil }
    : { failures, lastFailureAt: now };
}

/** The record after a successful sign-in: empty. */
export function recordSuccess(): ThrottleRecord {
  return EMPTY;
}
