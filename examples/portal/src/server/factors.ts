/**
 * Checking a second factor (TOTP, e-mail or SMS code, recovery code) for sign-in and
 * re-authentication, and sending e-mail/SMS codes. Every check is single use: a TOTP step,
 * a one-time code and a recovery code each work once.
 */

import { openPersonal, sealPersonal } from '../features/privacy/person-keys.ts';
import type { SecondFactorMethod } from '../shared/api.ts';
import { reserveSend } from './auth/code-sends.ts';
import { checkOneTimeCode, newOneTimeCode } from './auth/codes.ts';
import { hashRecoveryCode, normaliseRecoveryCode } from './auth/recovery.ts';
import { recoveryCodesLeft, spendRecoveryCode } from './auth/recovery-store.ts';
import { verifyTotp } from './auth/totp.ts';
import type { Context, UserRecord } from './context.ts';
import { fail } from './http.ts';

/** TOTP seeds are sealed under the person's own key, so erasure crypto-shreds them too. */
export function sealSecret(ctx: Context, userId: string, value: string): Promise<string> {
  return sealPersonal(ctx, userId, 'totp', value);
}

export function openSecret(ctx: Context, userId: string, text: string): Promise<string> {
  return openPersonal(ctx, userId, 'totp', text);
}

/** The methods a user can finish a sign-in with. */
export async function methodsOf(ctx: Context, userId: string): Promise<SecondFactorMethod[]> {
  const { rows } = await ctx.db.query(
    'SELECT DISTINCT type FROM portal_factors WHERE user_id = $1 AND confirmed',
    [userId],
  );
  const types = new Set(rows.map((r) => String(r.type)));
  const methods: SecondFactorMethod[] = [];
  if (types.has('totp')) methods.push('totp');
  if (types.has('email')) methods.push('email');
  if (types.has('sms')) methods.push('sms');
  if ((await recoveryCodesLeft(ctx.db, userId)) > 0) methods.push('recovery');
  return methods;
}

export const CODE_TTL_MS = 10 * 60_000;

/** Sends a one-time code by e-mail or SMS for `purpose`; rate-limited per user and channel. */
export async function sendCode(
  ctx: Context,
  user: UserRecord,
  channel: 'email' | 'sms',
  purpose: string,
  target: string,
): Promise<void> {
  const now = ctx.now();
  // Decided and recorded in one statement: requests at once cannot all pass the limit.
  const allowed = await reserveSend(ctx.db, user.id, channel, now);
  if (!allowed.ok)
    fail(429, 'throttled', 'a code was sent just now; please wait', {
      retryAfter: Math.ceil(allowed.retryAfterMs / 1000),
    });
  const code = newOneTimeCode({
    now,
    ttlMs: CODE_TTL_MS,
    pepper: ctx.pepper,
    context: `${user.id}:${purpose}:${target}`,
  });
  await ctx.db.query(
    `INSERT INTO portal_codes (user_id, purpose, hash, target, expires_at, attempts) VALUES ($1, $2, $3, $4, $5, 0)
     ON CONFLICT (user_id, purpose) DO UPDATE SET hash = EXCLUDED.hash, target = EXCLUDED.target, expires_at = EXCLUDED.expires_at, attempts = 0`,
    [user.id, purpose, code.hash, target, code.expiresAt],
  );
  await ctx.db.query(
    'INSERT INTO portal_code_sends (user_id, channel, sent_at) VALUES ($1, $2, $3)',
    [user.id, channel, now],
  );
  const de = user.locale === 'de';
  if (channel === 'email') {
    await ctx.mail.send({
      to: target,
      subject: de ? `Ihr Fluxel-Bestätigungscode: ${code.code}` : `Your Fluxel code: ${code.code}`,
      text: de
        ? `Ihr Bestätigungscode lautet ${code.code}. Er ist 10 Minuten gültig und nur einmal verwendbar.\nWenn Sie das nicht waren, ändern Sie bitte Ihr Passwort.`
        : `Your code is ${code.code}. It is valid for 10 minutes and works once.\nIf this was not you, please change your password.`,
    });
  } else {
    await ctx.sms.send({
      to: target,
      text: de
        ? `Fluxel-Code: ${code.code} (10 Minuten gültig)`
        : `Fluxel code: ${code.code} (valid 10 minutes)`,
    });
  }
}

/** Failed checks a code survives (the 5-try limit of `checkOneTimeCode`). */
export const CODE_MAX_ATTEMPTS = 5;

/**
 * Checks a one-time code for `purpose`; consumed on success; returns the target it was sent to.
 *
 * Atomic in two steps, so concurrent requests cannot beat the limits: the attempt is counted
 * first (`UPDATE … attempts + 1 WHERE attempts < 5 … RETURNING`: of N guesses at once at most
 * the tries left are checked at all), and a right code is spent by compare-and-delete
 * (`DELETE … WHERE hash = … RETURNING`: of N requests with the same code exactly one removes
 * it and goes on; the others, and a code replaced by a resend meanwhile, are refused).
 */
export async function consumeCode(
  ctx: Context,
  userId: string,
  purpose: string,
  input: string,
): Promise<string> {
  const invalid = () => fail(401, 'invalid_code', 'the code is not valid');
  const now = ctx.now();
  const { rows } = await ctx.db.query(
    `UPDATE portal_codes SET attempts = attempts + 1
     WHERE user_id = $1 AND purpose = $2 AND attempts < $3 AND expires_at > $4
     RETURNING hash, target, expires_at, attempts`,
    [userId, purpose, CODE_MAX_ATTEMPTS, now],
  );
  const row = rows[0];
  if (!row) return invalid();
  const target = String(row.target ?? '');
  const result = checkOneTimeCode(
    // The attempts before this one: the check judges this attempt, already counted.
    {
      hash: String(row.hash),
      expiresAt: Number(row.expires_at),
      attempts: Number(row.attempts) - 1,
    },
    input,
    {
      now,
      pepper: ctx.pepper,
      context: `${userId}:${purpose}:${target}`,
      maxAttempts: CODE_MAX_ATTEMPTS,
    },
  );
  if (!result.ok) return invalid();
  const spent = await ctx.db.query(
    'DELETE FROM portal_codes WHERE user_id = $1 AND purpose = $2 AND hash = $3 RETURNING target',
    [userId, purpose, String(row.hash)],
  );
  if (spent.rows.length !== 1) return invalid();
  return target;
}

/**
 * Verifies a second factor of `user`; throws 401 `invalid_code` when wrong or replayed.
 * TOTP: the step is stored, so the same code (or an older one) never works again.
 */
export async function verifySecondFactor(
  ctx: Context,
  user: UserRecord,
  method: SecondFactorMethod,
  code: string,
): Promise<void> {
  const now = ctx.now();
  if (method === 'totp') {
    const { rows } = await ctx.db.query(
      "SELECT id, secret, last_step FROM portal_factors WHERE user_id = $1 AND type = 'totp' AND confirmed",
      [user.id],
    );
    for (const row of rows) {
      const secret = await openSecret(ctx, user.id, String(row.secret));
      const result = verifyTotp(secret, code, { now, lastUsedStep: Number(row.last_step) });
      if (result.ok) {
        // Compare-and-set: a concurrent use of the same step loses.
        const updated = await ctx.db.query(
          'UPDATE portal_factors SET last_step = $2, last_used_at = $3 WHERE id = $1 AND last_step < $2 RETURNING id',
          [row.id, result.step, now],
        );
        if (updated.rows.length === 1) return;
      }
    }
    return fail(401, 'invalid_code', 'the code is not valid');
  }
  if (method === 'recovery') {
    const hash = hashRecoveryCode(normaliseRecoveryCode(code));
    // Spent in one statement, and only from the current set (an older one never works).
    if (await spendRecoveryCode(ctx.db, user.id, hash, now)) return;
    return fail(401, 'invalid_code', 'the code is not valid');
  }
  const { rows } = await ctx.db.query(
    'SELECT id FROM portal_factors WHERE user_id = $1 AND type = $2 AND confirmed',
    [user.id, method],
  );
  if (rows.length === 0) return fail(401, 'invalid_code', 'the code is not valid');
  await consumeCode(ctx, user.id, `signin-${method}`, code);
  await ctx.db.query('UPDATE portal_factors SET last_used_at = $2 WHERE id = $1', [
    rows[0]?.id,
    now,
  ]);
}
