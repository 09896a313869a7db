/**
 * Sign-in: password (throttled per account and per IP), then a second factor — always; a user
 * without one is sent to enrolment. Passkeys sign in on their own (user verification is
 * required, so a passkey is two factors). Password reset never signs in. Accepting an
 * invitation creates the account and starts its enrolment.
 *
 * The use cases take the request (its IP and agent go into the audit event, its cookie names
 * the session) and the reply (a new session sets its cookie); the HTTP shape is routes.ts'.
 */

import { createHmac, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { type Context, meOf, OPERATOR_TENANT, record } from '../../server/context.ts';
import { fail, failWeakPassword } from '../../server/http.ts';
import { type Session, sha256 } from '../../server/sessions.ts';
import type {
  acceptInvitationBody,
  InvitationInfo,
  loginBody,
  reauthBody,
  resetConfirmBody,
  SessionInfo,
  secondFactorBody,
} from '../../shared/api.ts';
import type { Role } from '../../shared/permissions.ts';
import { tenantById } from '../tenants/store.ts';
import { failReplacedInvitation } from '../users/service.ts';
import {
  acceptInvitation as createInvitedAccount,
  openInvitation,
  recordSignIn,
  setPasswordHash,
  type UserRecord,
  userByEmail,
  userById,
} from '../users/store.ts';
import { ensureAnonymousCsrf } from './csrf.ts';
import { methodsOf, sendCode, verifySecondFactor } from './factors.ts';
import { resetMail } from './mails.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './password.ts';
import {
  clearAttempts,
  confirmedFactorId,
  notePasskeyUse,
  passkeyByCredential,
  passkeyCredentialIds,
  type Reservation,
  refundAttempt,
  reserveAttempt,
  resetTokenOwner,
  spendResetToken,
  storeResetToken,
  storeSignInChallenge,
  type ThrottleKey,
  takeSignInChallenge,
} from './store.ts';
import { ACCOUNT_POLICY, IP_POLICY } from './throttle.ts';

const DUMMY_HASH = hashPassword('fluxel-timing-equaliser-not-a-password');
const RESET_TTL_MS = 30 * 60_000;

/** Where the request's visitor stands: anonymous, second factor pending, enrolling, signed in. */
export async function sessionInfo(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  session: Session | undefined,
): Promise<SessionInfo> {
  if (!session) return { stage: 'anonymous', csrfToken: ensureAnonymousCsrf(req, reply) };
  const user = await userById(ctx.db, session.userId);
  if (!user || user.status !== 'active') {
    await ctx.sessions.end(req, reply);
    return sessionInfo(ctx, req, reply, undefined);
  }
  if (session.stage === 'password')
    return {
      stage: 'password',
      csrfToken: session.csrf,
      methods: await methodsOf(ctx, user.id),
    };
  return { stage: session.stage, csrfToken: session.csrf, user: await meOf(ctx, user, session) };
}

function throttled(hit: Reservation & { allowed: false }): never {
  const retryAfter = Math.ceil(hit.retryAfterMs / 1000);
  return hit.locked
    ? fail(429, 'locked_out', 'too many failed attempts; the account is locked for a while', {
        retryAfter,
      })
    : fail(429, 'throttled', 'too many attempts; please wait', { retryAfter });
}

/** After a complete sign-in: a fresh full session, last sign-in recorded, audited. */
async function finishSignIn(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  user: UserRecord,
  method: string,
  upgrade = false,
): Promise<SessionInfo> {
  // `upgrade`: spends the pending session, so two factors sent at once for it cannot both
  // sign in.
  const session = await ctx.sessions.start(req, reply, user.id, 'full', { upgrade });
  await recordSignIn(ctx.db, user.id, ctx.now());
  await clearAttempts(ctx.db, `2fa:${user.id}`);
  await record(ctx, req, {
    tenant: user.tenantId,
    actor: { type: 'user', id: user.id },
    action: 'auth.signin',
    outcome: 'success',
    data: { method },
  });
  return sessionInfo(ctx, req, reply, session);
}

/** The password step: a session at `password` (second factor pending) or `enrol`. */
export async function signIn(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  body: z.output<typeof loginBody>,
): Promise<SessionInfo> {
  const account: ThrottleKey = { key: `account:${body.email}`, policy: ACCOUNT_POLICY };
  const ip: ThrottleKey = { key: `ip:${req.ip}`, policy: IP_POLICY };
  const user = await userByEmail(ctx.db, body.email);
  const tenant = user?.tenantId ?? OPERATOR_TENANT;
  // Unknown accounts: a keyed hash, so nobody without the pepper links it to an address.
  const unknown = createHmac('sha256', ctx.pepper)
    .update(`unknown-account\0${body.email}`)
    .digest('hex');
  const actor = { type: 'user' as const, id: user?.id ?? `unknown:${unknown.slice(0, 24)}` };
  // Counted before the password is checked (a failure until it succeeds), so concurrent
  // guesses cannot all pass a check made before any of them was counted.
  const hit = await reserveAttempt(ctx.db, [account, ip], ctx.now());
  if (!hit.allowed) {
    await record(ctx, req, {
      tenant,
      actor,
      action: 'auth.login',
      outcome: 'denied',
      reason: hit.locked ? 'locked out' : 'throttled',
    });
    throttled(hit);
  }
  const check = await verifyPassword(user?.passwordHash ?? (await DUMMY_HASH), body.password);
  if (!user || !check.ok || user.status !== 'active') {
    await record(ctx, req, {
      tenant,
      actor,
      action: 'auth.login',
      outcome: 'failure',
      reason: !user ? 'unknown account' : user.status !== 'active' ? 'disabled' : 'wrong password',
    });
    return fail(401, 'invalid_credentials', 'e-mail address or password is wrong');
  }
  // A success clears the account's failures; the IP keeps its own (one valid account must not
  // wipe an address's record), only this attempt is taken back.
  await clearAttempts(ctx.db, account.key);
  await refundAttempt(ctx.db, ip);
  if (check.needsRehash)
    await setPasswordHash(ctx.db, user.id, await hashPassword(body.password, ctx.passwordParams));
  const methods = await methodsOf(ctx, user.id);
  const stage = methods.length === 0 ? 'enrol' : 'password';
  const session = await ctx.sessions.start(req, reply, user.id, stage);
  await record(ctx, req, {
    tenant,
    actor,
    action: 'auth.login',
    outcome: 'success',
    data: { next: stage === 'enrol' ? 'enrolment' : 'second-factor' },
  });
  return sessionInfo(ctx, req, reply, session);
}

/** The request's session at any stage and its active user, or 401. */
async function pending(ctx: Context, req: FastifyRequest) {
  const session = await ctx.sessions.read(req);
  if (!session) return fail(401, 'unauthenticated', 'please sign in');
  const user = await userById(ctx.db, session.userId);
  if (!user || user.status !== 'active') return fail(401, 'unauthenticated', 'please sign in');
  return { session, user };
}

/** Sends the e-mail or SMS code of the pending sign-in (or re-authentication). */
export async function sendSignInCode(
  ctx: Context,
  req: FastifyRequest,
  method: 'email' | 'sms',
): Promise<void> {
  const { user } = await pending(ctx, req);
  if (!(await confirmedFactorId(ctx.db, user.id, method)))
    return fail(400, 'bad_request', 'that method is not set up');
  if (method === 'sms' && !user.phone) return fail(400, 'bad_request', 'no verified number');
  await sendCode(
    ctx,
    user,
    method,
    `signin-${method}`,
    method === 'email' ? user.email : (user.phone as string),
  );
  await record(ctx, req, {
    tenant: user.tenantId,
    actor: { type: 'user', id: user.id },
    action: 'auth.code.sent',
    outcome: 'success',
    data: { channel: method },
  });
}

/** The second step: the pending session becomes a full one (throttled per account). */
export async function secondFactor(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  body: z.output<typeof secondFactorBody>,
): Promise<SessionInfo> {
  const { session, user } = await pending(ctx, req);
  if (session.stage !== 'password') return fail(409, 'conflict', 'no second factor is pending');
  const hit = await reserveAttempt(
    ctx.db,
    [{ key: `2fa:${user.id}`, policy: ACCOUNT_POLICY }],
    ctx.now(),
  );
  if (!hit.allowed) {
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.second-factor',
      outcome: 'denied',
      reason: 'throttled',
    });
    throttled(hit);
  }
  try {
    await verifySecondFactor(ctx, user, body.method, body.code);
  } catch (error) {
    // The attempt is counted already; finishSignIn clears the key on success.
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.second-factor',
      outcome: 'failure',
      data: { method: body.method },
    });
    throw error;
  }
  return finishSignIn(ctx, req, reply, user, body.method, true);
}

/** WebAuthn request options for a passkey sign-in; the challenge is stored, single use. */
export async function passkeyOptions(ctx: Context, email: string | undefined) {
  const wa = ctx.webauthn();
  let allow: { id: string }[] | undefined;
  if (email) {
    const user = await userByEmail(ctx.db, email);
    // Unknown accounts get an empty list too: nothing tells whether the account exists.
    const ids = user ? await passkeyCredentialIds(ctx.db, user.id) : [];
    allow = ids.map((id) => ({ id }));
  }
  const options = await generateAuthenticationOptions({
    rpID: wa.rpId,
    userVerification: 'required',
    ...(allow && allow.length > 0 ? { allowCredentials: allow } : {}),
  });
  await storeSignInChallenge(ctx.db, options.challenge, ctx.now() + 5 * 60_000);
  // The descriptors as WebAuthn types them (the library's own type says only `string`).
  const { allowCredentials, ...rest } = options;
  return {
    ...rest,
    ...(allowCredentials
      ? {
          allowCredentials: allowCredentials.map(({ id }) => ({ id, type: 'public-key' as const })),
        }
      : {}),
  };
}

/** A passkey sign-in: the browser's assertion checked against a stored challenge and key. */
export async function passkeySignIn(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  response: Record<string, unknown>,
): Promise<SessionInfo> {
  const credentialId = typeof response.id === 'string' ? response.id : '';
  const clientData = (response.response as Record<string, unknown> | undefined)?.clientDataJSON;
  let challenge = '';
  try {
    challenge = JSON.parse(Buffer.from(String(clientData), 'base64url').toString('utf8')).challenge;
  } catch {
    return fail(400, 'bad_request', 'not a WebAuthn response');
  }
  const fresh = await takeSignInChallenge(ctx.db, String(challenge), ctx.now());
  const passkey = await passkeyByCredential(ctx.db, credentialId);
  const user = passkey ? await userById(ctx.db, passkey.userId) : undefined;
  const refuse = async (reason: string) => {
    await record(ctx, req, {
      tenant: user?.tenantId ?? OPERATOR_TENANT,
      actor: { type: 'user', id: user?.id ?? 'unknown' },
      action: 'auth.login',
      outcome: 'failure',
      reason,
      data: { method: 'passkey' },
    });
    return fail(401, 'invalid_credentials', 'the passkey was not accepted');
  };
  if (!fresh) return refuse('unknown or used challenge');
  if (!passkey || !user || user.status !== 'active') return refuse('unknown passkey');
  const wa = ctx.webauthn();
  let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verification = await verifyAuthenticationResponse({
      response: response as unknown as Parameters<
        typeof verifyAuthenticationResponse
      >[0]['response'],
      expectedChallenge: String(challenge),
      expectedOrigin: wa.origin,
      expectedRPID: wa.rpId,
      requireUserVerification: true,
      credential: {
        id: credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: passkey.counter,
      },
    });
  } catch {
    return refuse('verification failed');
  }
  if (!verification.verified) return refuse('verification failed');
  await notePasskeyUse(ctx.db, passkey.id, verification.authenticationInfo.newCounter, ctx.now());
  return finishSignIn(ctx, req, reply, user, 'passkey');
}

/** Ends the request's session (audited when there was one). */
export async function signOut(ctx: Context, req: FastifyRequest, reply: FastifyReply) {
  const session = await ctx.sessions.read(req);
  if (session) {
    const user = await userById(ctx.db, session.userId);
    await record(ctx, req, {
      tenant: user?.tenantId ?? OPERATOR_TENANT,
      actor: { type: 'user', id: session.userId },
      action: 'auth.logout',
      outcome: 'success',
    });
  }
  await ctx.sessions.end(req, reply);
}

/** Password and second factor again: sensitive changes are allowed for a few minutes. */
export async function reauthenticate(
  ctx: Context,
  req: FastifyRequest,
  body: z.output<typeof reauthBody>,
): Promise<{ reauthUntil: string }> {
  const session = await ctx.sessions.read(req);
  if (!session || session.stage !== 'full') return fail(401, 'unauthenticated', 'please sign in');
  const user = await userById(ctx.db, session.userId);
  if (!user) return fail(401, 'unauthenticated', 'please sign in');
  const key = `reauth:${user.id}`;
  const hit = await reserveAttempt(ctx.db, [{ key, policy: ACCOUNT_POLICY }], ctx.now());
  if (!hit.allowed) throttled(hit);
  const ok = (await verifyPassword(user.passwordHash, body.password)).ok;
  try {
    if (!ok) fail(401, 'invalid_credentials', 'the password is wrong');
    await verifySecondFactor(ctx, user, body.method, body.code);
  } catch (error) {
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.reauth',
      outcome: 'failure',
    });
    throw error;
  }
  await clearAttempts(ctx.db, key);
  const until = await ctx.sessions.setReauth(session);
  await record(ctx, req, {
    tenant: user.tenantId,
    actor: { type: 'user', id: user.id },
    action: 'auth.reauth',
    outcome: 'success',
  });
  return { reauthUntil: new Date(until).toISOString() };
}

// ------------------------------------------------------------ password reset

/** Mails a reset link when the account exists; the same answer either way. */
export async function requestReset(ctx: Context, req: FastifyRequest, email: string) {
  const user = await userByEmail(ctx.db, email);
  // Every request counts against the IP, counted before anything is sent.
  const hit = await reserveAttempt(
    ctx.db,
    [{ key: `reset-ip:${req.ip}`, policy: IP_POLICY }],
    ctx.now(),
  );
  if (!hit.allowed) throttled(hit);
  if (!user || user.status !== 'active') return;
  const token = randomBytes(32).toString('base64url');
  await storeResetToken(ctx.db, token, user.id, ctx.now() + RESET_TTL_MS);
  const link = `${ctx.origin()}/reset/${token}`;
  await ctx.mail.send(resetMail(user.locale, user.email, link, RESET_TTL_MS / 60_000));
  await record(ctx, req, {
    tenant: user.tenantId,
    actor: { type: 'user', id: user.id },
    action: 'auth.reset.requested',
    outcome: 'success',
  });
}

/** Sets the new password and ends every session; deliberately signs nobody in. */
export async function confirmReset(
  ctx: Context,
  req: FastifyRequest,
  body: z.output<typeof resetConfirmBody>,
): Promise<void> {
  const invalid = () => fail(400, 'token_invalid', 'the link is not valid (any more)');
  // The password is judged before the token is spent, so a weak one leaves it usable
  // without ever handing it back (a claimed token is never released again).
  const ownerId = await resetTokenOwner(ctx.db, body.token, ctx.now());
  const owner = ownerId ? await userById(ctx.db, ownerId) : undefined;
  if (!owner) return invalid();
  const policy = checkPasswordPolicy(body.password, { email: owner.email, name: owner.name });
  if (!policy.ok) return failWeakPassword(policy.reason);
  // Compare-and-set: of concurrent confirmations of one token exactly one claims it.
  const spentBy = await spendResetToken(ctx.db, body.token, ctx.now());
  const user = spentBy ? await userById(ctx.db, spentBy) : undefined;
  if (!user) return invalid();
  await setPasswordHash(ctx.db, user.id, await hashPassword(body.password, ctx.passwordParams));
  const ended = await ctx.sessions.revokeAll(user.id);
  await record(ctx, req, {
    tenant: user.tenantId,
    actor: { type: 'user', id: user.id },
    action: 'auth.reset.completed',
    outcome: 'success',
    data: { sessionsEnded: ended },
  });
}

// ------------------------------------------------------------ invitations

const invitationInvalid = () =>
  fail(404, 'invitation_invalid', 'the invitation is not valid (any more)');

/** What an open invitation offers (for the page that accepts it). */
export async function invitationInfo(ctx: Context, token: string): Promise<InvitationInfo> {
  const invitation = await openInvitation(ctx.db, sha256(token), ctx.now());
  if (!invitation) {
    // A link of an invitation sent again says so (410 `invitation_replaced`).
    await failReplacedInvitation(ctx, token);
    return invitationInvalid();
  }
  const tenant = await tenantById(ctx.db, invitation.tenantId);
  return {
    email: invitation.email,
    tenantName: tenant?.name ?? invitation.tenantId,
    role: invitation.role as Role,
    expiresAt: new Date(invitation.expiresAt).toISOString(),
  };
}

/** Creates the invited account and starts its enrolment session. */
export async function acceptInvitation(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  token: string,
  body: z.output<typeof acceptInvitationBody>,
): Promise<SessionInfo> {
  const invitation = await openInvitation(ctx.db, sha256(token), ctx.now());
  if (!invitation) return invitationInvalid();
  const policy = checkPasswordPolicy(body.password, { email: invitation.email, name: body.name });
  if (!policy.ok) return failWeakPassword(policy.reason);
  // One statement creates the account and spends the invitation, or does neither: the
  // address's UNIQUE decides between invitations for one address accepted at once, and the
  // loser's invitation stays unspent.
  const id = `usr_${randomBytes(12).toString('base64url')}`;
  const outcome = await createInvitedAccount(
    ctx.db,
    {
      invitationId: invitation.id,
      userId: id,
      name: body.name,
      locale: body.locale ?? 'de',
      passwordHash: await hashPassword(body.password, ctx.passwordParams),
    },
    ctx.now(),
  );
  if (outcome === 'invalid') return invitationInvalid();
  if (outcome === 'taken') {
    await record(ctx, req, {
      tenant: invitation.tenantId,
      actor: { type: 'user', id: 'unknown' },
      action: 'user.signup',
      outcome: 'failure',
      reason: 'an account with the address exists',
      target: { type: 'invitation', id: invitation.id },
    });
    return fail(
      409,
      'email_taken',
      'an account with this e-mail address exists already; sign in with it (the invitation was not used)',
    );
  }
  await record(ctx, req, {
    tenant: invitation.tenantId,
    actor: { type: 'user', id },
    action: 'user.signup',
    outcome: 'success',
    target: { type: 'invitation', id: invitation.id },
    data: { role: invitation.role, invitedBy: invitation.invitedBy },
  });
  const session = await ctx.sessions.start(req, reply, id, 'enrol');
  return sessionInfo(ctx, req, reply, session);
}
