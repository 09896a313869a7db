/**
 * A user's own account: enrolling second factors (mandatory before anything else), recovery
 * codes, profile, password and e-mail changes (re-authentication first), own sessions.
 */
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Context, meOf, type Principal, record, requireReauth } from '../../server/context.ts';
import { fail, failWeakPassword } from '../../server/http.ts';
import type { Session } from '../../server/sessions.ts';
import type { Locale } from '../../shared/api.ts';
import { consumeCode, openSecret, sealSecret, sendCode } from '../auth/factors.ts';
import { checkPasswordPolicy, hashPassword } from '../auth/password.ts';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
} from '../auth/recovery.ts';
import { sessionInfo } from '../auth/service.ts';
import { replaceRecoveryCodes as storeRecoveryCodes } from '../auth/store.ts';
import { generateTotpSecret, otpauthUrl, qrSvg, verifyTotp } from '../auth/totp.ts';
import {
  changeEmail,
  setLastSignIn,
  setPasswordHash,
  setPhone,
  type UserRecord,
  updateProfile,
  userByEmail,
  userById,
} from '../users/store.ts';
import type { EnrolDone, Me, PasskeyCreationOptions, SessionRow, TotpStart } from './contract.ts';
import { emailChangedMail } from './mails.ts';
import {
  addPasskey,
  confirmTotpSetup,
  hasStrongFactor,
  newFactorId,
  passkeyCredentialIds,
  pendingTotpSetup,
  removeFactor,
  replaceCodeFactor,
  startTotpSetup,
} from './store.ts';

/** Who is setting up a factor: a session at stage `enrol` or `full`, and its user. */
export interface Enrolling {
  readonly session: Session;
  readonly user: UserRecord;
}

/** The user's own action, audited as the user in their tenant. */
function recordOwn(
  ctx: Context,
  req: FastifyRequest,
  user: UserRecord,
  action: string,
  outcome: 'success' | 'failure' = 'success',
  data?: Record<string, unknown>,
): Promise<void> {
  return record(ctx, req, {
    tenant: user.tenantId,
    actor: { type: 'user', id: user.id },
    action,
    outcome,
    ...(data ? { data } : {}),
  });
}

/**
 * A new set of 10 recovery codes; the earlier set stops working. Regenerations at once (also
 * the first enrolment's) leave exactly one valid set: see `recovery-store.ts`.
 */
async function replaceRecoveryCodes(ctx: Context, userId: string): Promise<string[]> {
  const codes = generateRecoveryCodes(10);
  const hashes = codes.map((code) => hashRecoveryCode(normaliseRecoveryCode(code)));
  if (!(await storeRecoveryCodes(ctx.db, userId, hashes)))
    return fail(401, 'unauthenticated', 'please sign in');
  return codes;
}

/**
 * Enrolment is open to a session at stage `enrol` (first factor) or `full` with a recent
 * re-authentication (adding one more).
 */
export async function enrolling(ctx: Context, req: FastifyRequest): Promise<Enrolling> {
  const session = await ctx.sessions.read(req);
  if (!session || session.stage === 'password')
    return fail(401, 'unauthenticated', 'please sign in');
  const user = await userById(ctx.db, session.userId);
  if (!user || user.status !== 'active') return fail(401, 'unauthenticated', 'please sign in');
  if (session.stage === 'full') requireReauth(ctx, session);
  return { session, user };
}

/** The factor is confirmed: first one → recovery codes + a full session (new id). */
async function enrolled(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  { session, user }: Enrolling,
  type: string,
): Promise<EnrolDone> {
  await recordOwn(ctx, req, user, 'auth.factor.enrolled', 'success', { type });
  if (session.stage === 'enrol') {
    // Spends the enrolment session: two first factors confirmed at once sign in once, and
    // only that one makes recovery codes (a refused one never shows codes that still work).
    const full = await ctx.sessions.start(req, reply, user.id, 'full', { upgrade: true });
    const recoveryCodes = await replaceRecoveryCodes(ctx, user.id);
    await setLastSignIn(ctx.db, user.id, ctx.now());
    await recordOwn(ctx, req, user, 'auth.signin', 'success', { method: `enrol-${type}` });
    return { session: await sessionInfo(ctx, req, reply, full), recoveryCodes };
  }
  return { session: await sessionInfo(ctx, req, reply, session) };
}

export async function startTotp(ctx: Context, { user }: Enrolling): Promise<TotpStart> {
  const secret = generateTotpSecret();
  // Replaces any set-up in progress in one statement: set-ups started at once leave one.
  await startTotpSetup(ctx.db, {
    id: newFactorId(),
    userId: user.id,
    label: 'Authenticator',
    sealedSecret: await sealSecret(ctx, user.id, secret),
    now: ctx.now(),
  });
  const url = otpauthUrl({ secret, account: user.email, issuer: 'Fluxel' });
  return { secret, otpauthUrl: url, qrSvg: await qrSvg(url) };
}

export async function confirmTotp(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  who: Enrolling,
  body: { code: string; label?: string | undefined },
): Promise<EnrolDone> {
  const { user } = who;
  const setup = await pendingTotpSetup(ctx.db, user.id);
  if (!setup) return fail(409, 'conflict', 'start the set-up first');
  const secret = await openSecret(ctx, user.id, setup.secret);
  const result = verifyTotp(secret, body.code, { now: ctx.now(), lastUsedStep: 0 });
  if (!result.ok) {
    await recordOwn(ctx, req, user, 'auth.factor.enrolled', 'failure', { type: 'totp' });
    return fail(401, 'invalid_code', 'the code is not valid');
  }
  // Compare-and-set: of concurrent confirmations of one set-up exactly one confirms it, and
  // a set-up replaced by a new start meanwhile (new id) is not confirmed with the old code.
  const confirmed = await confirmTotpSetup(
    ctx.db,
    setup.id,
    user.id,
    result.step,
    body.label ?? 'Authenticator',
  );
  if (!confirmed) return fail(409, 'conflict', 'start the set-up first');
  return enrolled(ctx, req, reply, who, 'totp');
}

export async function startEmailFactor(ctx: Context, { user }: Enrolling): Promise<void> {
  await sendCode(ctx, user, 'email', 'enrol-email', user.email);
}

export async function confirmEmailFactor(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  who: Enrolling,
  code: string,
): Promise<EnrolDone> {
  const { user } = who;
  await consumeCode(ctx, user.id, 'enrol-email', code);
  await replaceCodeFactor(ctx.db, {
    userId: user.id,
    type: 'email',
    label: user.email,
    now: ctx.now(),
  });
  return enrolled(ctx, req, reply, who, 'email');
}

/** SMS only next to a stronger factor (TOTP or passkey), to a number verified by a code. */
export async function startSmsFactor(
  ctx: Context,
  { user }: Enrolling,
  phone: string,
): Promise<void> {
  if (!(await hasStrongFactor(ctx.db, user.id)))
    return fail(409, 'conflict', 'SMS is offered only next to an authenticator app or a passkey');
  await sendCode(ctx, user, 'sms', 'enrol-sms', phone);
}

export async function confirmSmsFactor(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  who: Enrolling,
  code: string,
): Promise<EnrolDone> {
  const { user } = who;
  const phone = await consumeCode(ctx, user.id, 'enrol-sms', code);
  await setPhone(ctx.db, user.id, phone);
  await replaceCodeFactor(ctx.db, {
    userId: user.id,
    type: 'sms',
    label: `…${phone.slice(-4)}`,
    now: ctx.now(),
  });
  return enrolled(ctx, req, reply, who, 'sms');
}

export async function passkeyOptions(
  ctx: Context,
  { session, user }: Enrolling,
): Promise<PasskeyCreationOptions> {
  const wa = ctx.webauthn();
  const registered = await passkeyCredentialIds(ctx.db, user.id);
  const options = await generateRegistrationOptions({
    rpName: wa.rpName,
    rpID: wa.rpId,
    userName: user.email,
    userDisplayName: user.name,
    userID: new TextEncoder().encode(user.id),
    attestationType: 'none',
    excludeCredentials: registered.map((id) => ({ id })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  await ctx.sessions.setChallenge(session, options.challenge);
  // The library types a descriptor's `type` as any string; it is always 'public-key'. No
  // transports: only ids were given.
  const excludeCredentials = (options.excludeCredentials ?? []).map((c) => ({
    id: c.id,
    type: 'public-key' as const,
  }));
  return { ...options, excludeCredentials };
}

export async function verifyPasskey(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  who: Enrolling,
  body: { response: Record<string, unknown>; label?: string | undefined },
): Promise<EnrolDone> {
  const { session, user } = who;
  // Spent before anything is verified: one registration per challenge, also at once.
  const challenge = await ctx.sessions.takeChallenge(session);
  if (!challenge) return fail(409, 'conflict', 'start the set-up first');
  const wa = ctx.webauthn();
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: body.response as unknown as Parameters<
        typeof verifyRegistrationResponse
      >[0]['response'],
      expectedChallenge: challenge,
      expectedOrigin: wa.origin,
      expectedRPID: wa.rpId,
      requireUserVerification: true,
    });
  } catch {
    return fail(400, 'invalid_code', 'the passkey could not be registered');
  }
  if (!verification.verified || !verification.registrationInfo)
    return fail(400, 'invalid_code', 'the passkey could not be registered');
  const { credential } = verification.registrationInfo;
  const added = await addPasskey(ctx.db, {
    userId: user.id,
    label: body.label ?? 'Passkey',
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: credential.transports ?? [],
    now: ctx.now(),
  });
  if (!added)
    return fail(409, 'conflict', 'this passkey is registered already; use a different one');
  return enrolled(ctx, req, reply, who, 'passkey');
}

export async function removeOwnFactor(
  ctx: Context,
  req: FastifyRequest,
  { session, user }: Principal,
  factorId: string,
): Promise<void> {
  requireReauth(ctx, session);
  // Checked and deleted in one statement over the locked factors: two removals at once
  // cannot each leave only the other one, and so none.
  const removed = await removeFactor(ctx.db, user.id, factorId);
  if (!removed.ok && removed.reason === 'not_found') return fail(404, 'not_found', 'not found');
  if (!removed.ok)
    return fail(409, 'conflict', 'the last (or only strong) factor cannot be removed');
  await recordOwn(ctx, req, user, 'auth.factor.removed', 'success', { type: removed.type });
}

export async function regenerateRecoveryCodes(
  ctx: Context,
  req: FastifyRequest,
  { session, user }: Principal,
): Promise<{ recoveryCodes: string[] }> {
  requireReauth(ctx, session);
  const recoveryCodes = await replaceRecoveryCodes(ctx, user.id);
  await recordOwn(ctx, req, user, 'auth.recovery-codes.regenerated');
  return { recoveryCodes };
}

export async function changeProfile(
  ctx: Context,
  req: FastifyRequest,
  { session, user }: Principal,
  profile: { name?: string | undefined; locale?: Locale | undefined },
): Promise<Me> {
  await updateProfile(ctx.db, user.id, profile);
  await recordOwn(ctx, req, user, 'user.profile.updated', 'success', {
    fields: Object.keys(profile),
  });
  const updated = await userById(ctx.db, user.id);
  if (!updated) return fail(401, 'unauthenticated', 'please sign in');
  return meOf(ctx, updated, session);
}

/** A new password ends every other session of the user. */
export async function changePassword(
  ctx: Context,
  req: FastifyRequest,
  { session, user }: Principal,
  password: string,
): Promise<void> {
  requireReauth(ctx, session);
  const policy = checkPasswordPolicy(password, { email: user.email, name: user.name });
  if (!policy.ok) return failWeakPassword(policy.reason);
  await setPasswordHash(ctx.db, user.id, await hashPassword(password, ctx.passwordParams));
  const ended = await ctx.sessions.revokeAll(user.id, session.idHash);
  await recordOwn(ctx, req, user, 'user.password.changed', 'success', {
    otherSessionsEnded: ended,
  });
}

export async function changeOwnEmail(
  ctx: Context,
  req: FastifyRequest,
  { session, user }: Principal,
  email: string,
): Promise<void> {
  requireReauth(ctx, session);
  const taken = () =>
    fail(409, 'email_taken', 'that address belongs to another account; choose a different one');
  // A quick answer for an address taken long ago; the UNIQUE decides a race (nothing changes).
  const holder = await userByEmail(ctx.db, email);
  if (holder?.id === user.id)
    return fail(409, 'conflict', "that is this account's address already");
  if (holder) return taken();
  // The e-mail factor follows the address only after a new confirmation: dropped with it.
  const outcome = await changeEmail(ctx.db, user.id, email);
  if (outcome === 'taken') return taken();
  if (outcome === 'gone') return fail(401, 'unauthenticated', 'please sign in');
  await ctx.mail.send(emailChangedMail(user.locale, user.email, email));
  await recordOwn(ctx, req, user, 'user.email.changed');
}

/**
 * The user's live sessions, the one asking marked `current` and seen now (the stored time of
 * use is refreshed only every 15 s; a session that timed out idle is not listed).
 */
export async function sessionsOf(
  ctx: Context,
  { session, user }: Principal,
): Promise<SessionRow[]> {
  const sessions = await ctx.sessions.list(user.id);
  const now = ctx.now();
  return sessions.map((s) => ({
    id: s.publicId,
    current: s.idHash === session.idHash,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.idHash === session.idHash ? now : s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
  }));
}

/** Signs one of the user's other sessions out (by its public id). */
export async function endSession(
  ctx: Context,
  req: FastifyRequest,
  { user }: Principal,
  publicId: string,
): Promise<void> {
  if (!(await ctx.sessions.revoke(user.id, publicId))) return fail(404, 'not_found', 'not found');
  await recordOwn(ctx, req, user, 'session.revoked');
}
