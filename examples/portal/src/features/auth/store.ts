/**
 * The auth feature's SQL: throttle records, the send limit and the one-time codes of e-mail/SMS
 * codes, the second factors a sign-in checks (`portal_factors`), the sign-in passkey
 * challenges, recovery codes and password-reset tokens. Each section's comment says why its
 * statements are shaped the way they are (most decide and record in one statement, so
 * concurrent requests cannot beat a limit).
 */
import type { Database } from '../../server/db.ts';
import { sha256 as hash } from '../../server/sessions.ts';
import type { SecondFactorMethod } from '../../shared/api.ts';
import { type SendDecision, type SendPolicy, sendAllowed } from './codes.ts';
import { type ThrottlePolicy, type ThrottleRecord, throttleState } from './throttle.ts';

type Sql = Pick<Database, 'query'>;

// ------------------------------------------------------------ throttle

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

// ------------------------------------------------------------ code send limit

/**
 * The send limit of e-mail/SMS codes (`sendAllowed` in `codes.ts`) kept atomically in
 * `portal_code_send_slots`: one `INSERT … ON CONFLICT DO UPDATE … WHERE <the policy allows a
 * send> RETURNING` both decides and records the send, so of N code requests at once exactly
 * as many go out as the policy allows (one per 30 s). The `WHERE` is the SQL form of
 * `sendAllowed`; the pure function still words the refusal (`retryAfterMs`).
 */

export const SEND_POLICY: Required<SendPolicy> = Object.freeze({
  perWindow: 3,
  windowMs: 15 * 60_000,
  minIntervalMs: 30_000,
});

// $1 user, $2 channel, $3 now, $4 windowMs, $5 minIntervalMs, $6 perWindow; `s` the stored row.
const RECENT_SEND = 'x > $3::bigint - $4::bigint AND x <= $3::bigint';
const RESERVE_SEND = `INSERT INTO portal_code_send_slots AS s (user_id, channel, sends)
  VALUES ($1, $2, ARRAY[$3::bigint])
  ON CONFLICT (user_id, channel) DO UPDATE SET
    sends = ARRAY(SELECT x FROM unnest(s.sends) AS x WHERE ${RECENT_SEND} ORDER BY x) || $3::bigint
  WHERE NOT EXISTS (SELECT 1 FROM unnest(s.sends) AS x WHERE x > $3::bigint - $5::bigint AND x <= $3::bigint)
    AND (SELECT count(*) FROM unnest(s.sends) AS x WHERE ${RECENT_SEND}) < $6::int
  RETURNING user_id`;

/** Records a send of a code to `userId` on `channel` if the policy allows one now. */
export async function reserveSend(
  db: Sql,
  userId: string,
  channel: string,
  now: number,
  policy: Required<SendPolicy> = SEND_POLICY,
): Promise<SendDecision> {
  const { rows } = await db.query(RESERVE_SEND, [
    userId,
    channel,
    now,
    policy.windowMs,
    policy.minIntervalMs,
    policy.perWindow,
  ]);
  if (rows.length === 1) return { ok: true };
  // Only to word the answer: the decision is already taken.
  const { rows: stored } = await db.query(
    'SELECT sends FROM portal_code_send_slots WHERE user_id = $1 AND channel = $2',
    [userId, channel],
  );
  const sends = ((stored[0]?.sends as unknown[] | undefined) ?? []).map(Number);
  const decision = sendAllowed(sends, now, policy);
  return decision.ok ? { ok: false, retryAfterMs: 1000 } : decision;
}

// ------------------------------------------------------------ recovery codes

/**
 * A user's recovery codes in `portal_recovery_codes`, one valid set at a time.
 *
 * Replacing a set is a race when done as "delete the old codes, insert the new ones": two
 * regenerations at once can each delete before either inserts, and both new sets stay valid
 * (20 codes while the user keeps only the 10 shown last). Locking the user row does not help
 * on its own: in READ COMMITTED the rest of a statement still reads the codes as of its start,
 * so the second regeneration cannot see — and delete — the first one's codes.
 *
 * So validity is not "the row exists" but a generation number: `replaceRecoveryCodes` raises
 * `portal_users.recovery_generation` and inserts the new codes with that generation in one
 * statement (the increment locks the user row: regenerations at once get distinct, ordered
 * generations), and a code counts — for use, for the count shown, for the sign-in methods —
 * only while its generation is the user's current one. Of N regenerations at once exactly the
 * set with the highest generation works; older sets are deleted afterwards (tidying, not
 * correctness: a leftover row of an older generation is never accepted). Codes from before
 * the generation existed have generation 0, like every user: they stay valid.
 */

/** The generation that counts: the user's current one. `$1` is the user id. */
const CURRENT = '(SELECT recovery_generation FROM portal_users WHERE id = $1)';

// $1 user id, $2 code hashes. One statement: the new generation and its codes commit together.
const REPLACE = `WITH generation AS (
    UPDATE portal_users SET recovery_generation = recovery_generation + 1
    WHERE id = $1 RETURNING recovery_generation
  ), added AS (
    INSERT INTO portal_recovery_codes (user_id, code_hash, generation)
    SELECT $1, hash, g.recovery_generation FROM generation g, unnest($2::text[]) AS hash
    RETURNING 1
  )
  SELECT g.recovery_generation AS generation, (SELECT count(*) FROM added)::int AS added
  FROM generation g`;

// $1 user id, $2 the generation just made. Runs after REPLACE committed, with a fresh view:
// every lower generation has committed by then (they got their numbers before this one).
const TIDY = 'DELETE FROM portal_recovery_codes WHERE user_id = $1 AND generation < $2';

// $1 user id, $2 code hash, $3 now.
const USE = `UPDATE portal_recovery_codes SET used_at = $3
  WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL AND generation = ${CURRENT}
  RETURNING code_hash`;

const LEFT = `SELECT count(*)::int AS n FROM portal_recovery_codes
  WHERE user_id = $1 AND used_at IS NULL AND generation = ${CURRENT}`;

/**
 * Makes `hashes` the user's only valid recovery codes (replacing any earlier set). Returns
 * false when the user does not exist (nothing stored).
 */
export async function replaceRecoveryCodes(
  db: Sql,
  userId: string,
  hashes: readonly string[],
): Promise<boolean> {
  const { rows } = await db.query(REPLACE, [userId, [...hashes]]);
  const row = rows[0];
  if (!row) return false;
  await db.query(TIDY, [userId, Number(row.generation)]);
  return true;
}

/** Spends the user's unused code `hash` of the current set; true once per code, also at once. */
export async function spendRecoveryCode(
  db: Sql,
  userId: string,
  hash: string,
  now: number,
): Promise<boolean> {
  const { rows } = await db.query(USE, [userId, hash, now]);
  return rows.length === 1;
}

/** How many codes of the user's current set are still unused. */
export async function recoveryCodesLeft(db: Sql, userId: string): Promise<number> {
  const { rows } = await db.query(LEFT, [userId]);
  return Number(rows[0]?.n ?? 0);
}

// ------------------------------------------------------------ password resets

/**
 * Password-reset tokens in `portal_password_resets`, stored as SHA-256 hashes. A token is spent
 * by compare-and-set (`UPDATE … WHERE used_at IS NULL … RETURNING`): of concurrent
 * confirmations exactly one claims it, and a claimed token is never released again.
 */

/** Stores a new token for `userId`, valid until `expiresAt` (ms). */
export async function storeResetToken(
  db: Sql,
  token: string,
  userId: string,
  expiresAt: number,
): Promise<void> {
  await db.query(
    'INSERT INTO portal_password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)',
    [hash(token), userId, expiresAt],
  );
}

/** The user a live, unspent token belongs to (without spending it). */
export async function resetTokenOwner(db: Sql, token: string, now: number) {
  const { rows } = await db.query(
    'SELECT user_id FROM portal_password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
    [hash(token), now],
  );
  return rows[0] ? String(rows[0].user_id) : undefined;
}

/** Spends a live token; the user id for the one call that spent it, else undefined. */
export async function spendResetToken(db: Sql, token: string, now: number) {
  const { rows } = await db.query(
    'UPDATE portal_password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id',
    [hash(token), now],
  );
  return rows[0] ? String(rows[0].user_id) : undefined;
}

// ------------------------------------------------------------ one-time codes

/** A one-time code as stored: its HMAC, where it was sent, and the checks it has had. */
export interface StoredCode {
  readonly hash: string;
  readonly target: string;
  readonly expiresAt: number;
  /** Checks so far, this one included. */
  readonly attempts: number;
}

/** Makes `code` the user's one live code for `purpose` (a resend replaces it) and logs the send. */
export async function storeCode(
  db: Sql,
  code: {
    readonly userId: string;
    readonly purpose: string;
    readonly channel: string;
    readonly hash: string;
    readonly target: string;
    readonly expiresAt: number;
  },
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_codes (user_id, purpose, hash, target, expires_at, attempts) VALUES ($1, $2, $3, $4, $5, 0)
     ON CONFLICT (user_id, purpose) DO UPDATE SET hash = EXCLUDED.hash, target = EXCLUDED.target, expires_at = EXCLUDED.expires_at, attempts = 0`,
    [code.userId, code.purpose, code.hash, code.target, code.expiresAt],
  );
  await db.query('INSERT INTO portal_code_sends (user_id, channel, sent_at) VALUES ($1, $2, $3)', [
    code.userId,
    code.channel,
    now,
  ]);
}

/**
 * Counts one check of the live code for `purpose` (`attempts + 1 WHERE attempts < max`): of N
 * guesses at once at most the tries left get the code back to be checked at all.
 */
export async function countCodeCheck(
  db: Sql,
  userId: string,
  purpose: string,
  maxAttempts: number,
  now: number,
): Promise<StoredCode | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_codes SET attempts = attempts + 1
     WHERE user_id = $1 AND purpose = $2 AND attempts < $3 AND expires_at > $4
     RETURNING hash, target, expires_at, attempts`,
    [userId, purpose, maxAttempts, now],
  );
  const row = rows[0];
  return row
    ? {
        hash: String(row.hash),
        target: String(row.target ?? ''),
        expiresAt: Number(row.expires_at),
        attempts: Number(row.attempts),
      }
    : undefined;
}

/** Spends the code by compare-and-delete: true for exactly one of concurrent spends of `hash`. */
export async function spendCode(
  db: Sql,
  userId: string,
  purpose: string,
  codeHash: string,
): Promise<boolean> {
  const { rows } = await db.query(
    'DELETE FROM portal_codes WHERE user_id = $1 AND purpose = $2 AND hash = $3 RETURNING target',
    [userId, purpose, codeHash],
  );
  return rows.length === 1;
}

// ------------------------------------------------------------ second factors

/** The types of the user's confirmed factors (`totp`, `email`, `sms`, `passkey`). */
export async function confirmedFactorTypes(db: Sql, userId: string): Promise<Set<string>> {
  const { rows } = await db.query(
    'SELECT DISTINCT type FROM portal_factors WHERE user_id = $1 AND confirmed',
    [userId],
  );
  return new Set(rows.map((r) => String(r.type)));
}

/** The id of a confirmed factor of `type`, if the user has one. */
export async function confirmedFactorId(
  db: Sql,
  userId: string,
  type: Exclude<SecondFactorMethod, 'recovery'> | 'passkey',
): Promise<string | undefined> {
  const { rows } = await db.query(
    'SELECT id FROM portal_factors WHERE user_id = $1 AND type = $2 AND confirmed',
    [userId, type],
  );
  return rows[0] ? String(rows[0].id) : undefined;
}

/** Notes that factor `id` was just used. */
export async function touchFactor(db: Sql, id: string, now: number): Promise<void> {
  await db.query('UPDATE portal_factors SET last_used_at = $2 WHERE id = $1', [id, now]);
}

export interface TotpFactor {
  readonly id: string;
  /** The sealed secret, as stored. */
  readonly secret: string;
  readonly lastStep: number;
}

/** The user's confirmed TOTP factors. */
export async function confirmedTotps(db: Sql, userId: string): Promise<TotpFactor[]> {
  const { rows } = await db.query(
    "SELECT id, secret, last_step FROM portal_factors WHERE user_id = $1 AND type = 'totp' AND confirmed",
    [userId],
  );
  return rows.map((r) => ({
    id: String(r.id),
    secret: String(r.secret),
    lastStep: Number(r.last_step),
  }));
}

/** Records `step` as the factor's last one (compare-and-set: a concurrent use of it loses). */
export async function spendTotpStep(db: Sql, id: string, step: number, now: number) {
  const { rows } = await db.query(
    'UPDATE portal_factors SET last_step = $2, last_used_at = $3 WHERE id = $1 AND last_step < $2 RETURNING id',
    [id, step, now],
  );
  return rows.length === 1;
}

// ------------------------------------------------------------ passkeys at sign-in

/** The credential ids of the user's passkeys (the `allowCredentials` of a sign-in). */
export async function passkeyCredentialIds(db: Sql, userId: string): Promise<string[]> {
  const { rows } = await db.query(
    "SELECT credential_id FROM portal_factors WHERE user_id = $1 AND type = 'passkey' AND confirmed",
    [userId],
  );
  return rows.map((r) => String(r.credential_id));
}

export interface StoredPasskey {
  readonly id: string;
  readonly userId: string;
  /** base64url COSE public key. */
  readonly publicKey: string;
  readonly counter: number;
}

/** The confirmed passkey with this credential id, if any. */
export async function passkeyByCredential(
  db: Sql,
  credentialId: string,
): Promise<StoredPasskey | undefined> {
  const { rows } = await db.query(
    "SELECT id, user_id, public_key, counter FROM portal_factors WHERE credential_id = $1 AND type = 'passkey' AND confirmed",
    [credentialId],
  );
  const r = rows[0];
  return r
    ? {
        id: String(r.id),
        userId: String(r.user_id),
        publicKey: String(r.public_key),
        counter: Number(r.counter),
      }
    : undefined;
}

/** Stores the authenticator's new signature counter after a sign-in. */
export async function notePasskeyUse(db: Sql, id: string, counter: number, now: number) {
  await db.query('UPDATE portal_factors SET counter = $2, last_used_at = $3 WHERE id = $1', [
    id,
    counter,
    now,
  ]);
}

/** A sign-in challenge handed out, valid until `expiresAt`. */
export async function storeSignInChallenge(db: Sql, challenge: string, expiresAt: number) {
  await db.query(
    'INSERT INTO portal_challenges (challenge, purpose, expires_at) VALUES ($1, $2, $3)',
    [challenge, 'signin', expiresAt],
  );
}

/** Spends a live sign-in challenge: true for exactly one of concurrent spends. */
export async function takeSignInChallenge(db: Sql, challenge: string, now: number) {
  const { rows } = await db.query(
    "DELETE FROM portal_challenges WHERE challenge = $1 AND purpose = 'signin' AND expires_at > $2 RETURNING challenge",
    [challenge, now],
  );
  return rows.length === 1;
}
