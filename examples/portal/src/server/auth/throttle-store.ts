/**
 * The throttle records of `throttle.ts` in `portal_throttle`, changed only atomically.
 *
 * An attempt is counted before it is evaluated: `reserveAttempt` is one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE <the policy allows another attempt> RETURNING`, which
 * adds the attempt as a failure and answers whether it may be evaluated at all. PostgreSQL
 * locks the row and re-checks the `WHERE` on its newest version, so of N attempts arriving at
 * once only as many are let through as the policy allows (after a back-off: exactly one), and
 * the counter equals the attempts let through — no read-evaluate-write window. Works the same
 * on PGlite (one connection) and on a PostgreSQL pool; no transaction needed.
 *
 * After the evaluation: a failure needs nothing more (it is counted already); a success
 * `clearAttempts` the key (account, second factor, re-authentication) or `refundAttempt`s it
 * (the IP key, whose history a success must not wipe). The `WHERE` and `SET` clauses are the
 * SQL form of `throttleState` / `recordFailure`; `test/auth-throttle.test.ts` checks that both
 * agree on the same sequences.
 */
import type { Database } from '../db.ts';
import { type ThrottlePolicy, type ThrottleRecord, throttleState } from './throttle.ts';

type Sql = Pick<Database, 'query'>;

export interface ThrottleKey {
  readonly key: string;
  readonly policy: ThrottlePolicy;
}

export type Reservation =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** The key that refused. */
      readonly key: string;
      /** Locked out (rather than backing off). */
      readonly locked: boolean;
      readonly retryAfterMs: number;
    };

// $1 key, $2 now, $3 freeAttempts, $4 baseDelayMs, $5 maxDelayMs, $6 lockoutAfter,
// $7 lockoutMs, $8 resetAfterMs. `t` is the stored row.
const NOW = '$2::bigint';
const NOT_LOCKED = `(t.locked_until IS NULL OR ${NOW} >= t.locked_until)`;
/** `current()` of throttle.ts: an empty or stale, unlocked record counts as empty. */
const STALE = `(t.failures <= 0 OR (${NOT_LOCKED} AND ${NOW} - t.last_failure_at >= $8::bigint))`;
const BACKOFF = `(CASE WHEN t.failures < $3::int THEN 0
  ELSE LEAST($4::bigint * power(2, LEAST(t.failures - $3::int, 40)), $5::bigint) END)`;
/** `throttleState(...).allowed`. */
const ALLOWED = `(${STALE} OR (${NOT_LOCKED} AND ${NOW} >= t.last_failure_at + ${BACKOFF}))`;
/** `recordFailure(...)`: failures and lockedUntil. */
const FAILURES = `(CASE WHEN ${STALE} THEN 1 ELSE t.failures + 1 END)`;
const LOCK = `GREATEST(CASE WHEN ${STALE} THEN 0 ELSE COALESCE(t.locked_until, 0) END,
  CASE WHEN ${FAILURES} >= $6::int THEN ${NOW} + $7::bigint ELSE 0 END)`;

const RESERVE = `INSERT INTO portal_throttle AS t (key, failures, last_failure_at, locked_until)
  VALUES ($1, 1, ${NOW}, CASE WHEN 1 >= $6::int THEN ${NOW} + $7::bigint END)
  ON CONFLICT (key) DO UPDATE SET
    failures = ${FAILURES},
    last_failure_at = ${NOW},
    locked_until = CASE WHEN ${LOCK} > ${NOW} THEN ${LOCK} END
  WHERE ${ALLOWED}
  RETURNING failures`;

function toRecord(r: Record<string, unknown>): ThrottleRecord {
  return {
    failures: Number(r.failures),
    lastFailureAt: Number(r.last_failure_at),
    ...(r.locked_until == null ? {} : { lockedUntil: Number(r.locked_until) }),
  };
}

/** The stored record of `key`, if any. */
export async function readThrottle(db: Sql, key: string): Promise<ThrottleRecord | undefined> {
  const { rows } = await db.query(
    'SELECT failures, last_failure_at, locked_until FROM portal_throttle WHERE key = $1',
    [key],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Counts one attempt against `key` if the policy allows one now; false when it does not. */
async function reserveOne(db: Sql, { key, policy }: ThrottleKey, now: number): Promise<boolean> {
  const { rows } = await db.query(RESERVE, [
    key,
    now,
    policy.freeAttempts,
    policy.baseDelayMs,
    policy.maxDelayMs,
    policy.lockoutAfter,
    policy.lockoutMs,
    policy.resetAfterMs,
  ]);
  return rows.length === 1;
}

/**
 * Counts one attempt (as a failure, until the caller says otherwise) against every key, in
 * order, if each policy allows it now. When a key refuses, the attempts already counted
 * against the keys before it are refunded (this attempt is not evaluated) and the refusal says
 * how long to wait.
 */
export async function reserveAttempt(
  db: Sql,
  keys: readonly ThrottleKey[],
  now: number,
): Promise<Reservation> {
  const reserved: ThrottleKey[] = [];
  for (const k of keys) {
    if (await reserveOne(db, k, now)) {
      reserved.push(k);
      continue;
    }
    for (const r of reserved) await refundAttempt(db, r);
    // Only to word the answer: the decision is already taken.
    const rec = await readThrottle(db, k.key);
    const state = throttleState(rec, now, k.policy);
    return {
      allowed: false,
      key: k.key,
      locked: rec?.lockedUntil !== undefined && rec.lockedUntil > now,
      retryAfterMs: Math.max(1000, state.retryAfterMs),
    };
  }
  return { allowed: true };
}

/**
 * Takes back one attempt counted by `reserveAttempt` (it succeeded, or was not evaluated).
 * A lockout is lifted only when the failures left are below the policy's threshold.
 */
export async function refundAttempt(db: Sql, { key, policy }: ThrottleKey): Promise<void> {
  await db.query(
    `UPDATE portal_throttle SET failures = failures - 1,
       locked_until = CASE WHEN failures - 1 >= $2::int THEN locked_until END
     WHERE key = $1 AND failures > 0`,
    [key, policy.lockoutAfter],
  );
}

/** Forgets every attempt of `key` (after a success on an account-like key). */
export async function clearAttempts(db: Sql, key: string): Promise<void> {
  await db.query('DELETE FROM portal_throttle WHERE key = $1', [key]);
}
