/**
 * Checking a second factor (TOTP, e-mail or SMS code, recovery code) for sign-in and
 * re-authentication, and sending e-mail/SMS codes. Every check is single use: a TOTP step,
 * a one-time code and a recovery code each work once.
 */
import type { Context } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import type { SecondFactorMethod } from '../../shared/api.ts';
import { openPersonal, sealPersonal } from '../privacy/person-keys.ts';
import type { UserRecord } from '../users/store.ts';
import { checkOneTimeCode, newOneTimeCode } from './codes.ts';
import { codeMail, codeSms } from './mails.ts';
import { hashRecoveryCode, normaliseRecoveryCode } from './recovery.ts';
import {
  confirmedFactorId,
  confirmedFactorTypes,
  confirmedTotps,
  countCodeCheck,
  recoveryCodesLeft,
  reserveSend,
  spendCode,
  spendRecoveryCode,
  spendTotpStep,
  storeCode,
  touchFactor,
} from './store.ts';
import { verifyTotp } from './totp.ts';

/** TOTP seeds are sealed under the person's own key, so erasure crypto-shreds them too. */
export function sealSecret(ctx: Context, userId: string, value: string): Promise<string> {
  return sealPersonal(ctx, userId, 'totp', value);
}

export function openSecret(ctx: Context, userId: string, text: string): Promise<string> {
  return openPersonal(ctx, userId, 'totp', text);
}

/** The methods a user can finish a sign-in with. */
export async function methodsOf(ctx: Context, userId: string): Promise<SecondFactorMethod[]> {
  const types = await confirmedFactorTypes(ctx.db, userId);
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
  await storeCode(
    ctx.db,
    { userId: user.id, purpose, channel, hash: code.hash, target, expiresAt: code.expiresAt },
    now,
  );
  const minutes = CODE_TTL_MS / 60_000;
  if (channel === 'email') await ctx.mail.send(codeMail(user.locale, target, code.code, minutes));
  else await ctx.sms.send({ to: target, text: codeSms(user.locale, code.code, minutes) });
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
  const stored = await countCodeCheck(ctx.db, userId, purpose, CODE_MAX_ATTEMPTS, now);
  if (!stored) return invalid();
  const { target } = stored;
  const result = checkOneTimeCode(
    // The attempts before this one: the check judges this attempt, already counted.
    { ...stored, attempts: stored.attempts - 1 },
    input,
    {
      now,
      pepper: ctx.pepper,
      context: `${userId}:${purpose}:${target}`,
      maxAttempts: CODE_MAX_ATTEMPTS,
    },
  );
  if (!result.ok) return invalid();
  if (!(await spendCode(ctx.db, userId, purpose, stored.hash))) return invalid();
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
    for (const factor of await confirmedTotps(ctx.db, user.id)) {
      const secret = await openSecret(ctx, user.id, factor.secret);
      const result = verifyTotp(secret, code, { now, lastUsedStep: factor.lastStep });
      // Compare-and-set: a concurrent use of the same step loses.
      if (result.ok && (await spendTotpStep(ctx.db, factor.id, result.step, now))) return;
    }
    return fail(401, 'invalid_code', 'the code is not valid');
  }
  if (method === 'recovery') {
    const hash = hashRecoveryCode(normaliseRecoveryCode(code));
    // Spent in one statement, and only from the current set (an older one never works).
    if (await spendRecoveryCode(ctx.db, user.id, hash, now)) return;
    return fail(401, 'invalid_code', 'the code is not valid');
  }
  const factorId = await confirmedFactorId(ctx.db, user.id, method);
  if (!factorId) return fail(401, 'invalid_code', 'the code is not valid');
  await consumeCode(ctx, user.id, `signin-${method}`, code);
  await touchFactor(ctx.db, factorId, now);
}
