/**
 * Sign-in: password (throttled per account and per IP), then a second factor — always; a user
 * without one is sent to enrolment. Passkeys sign in on their own (user verification is
 * required, so a passkey is two factors). Password reset never signs in.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { failReplacedInvitation } from '../../features/users/service.ts';
import {
  acceptInvitationBody,
  type InvitationInfo,
  loginBody,
  passkeyOptionsBody,
  passkeyVerifyBody,
  reauthBody,
  resetConfirmBody,
  resetRequestBody,
  type SessionInfo,
  secondFactorBody,
  sendCodeBody,
} from '../../shared/api.ts';
import type { Role } from '../../shared/permissions.ts';
import { acceptInvitation } from '../auth/accounts.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../auth/password.ts';
import { resetTokenOwner, spendResetToken, storeResetToken } from '../auth/password-resets.ts';
import { ACCOUNT_POLICY, IP_POLICY } from '../auth/throttle.ts';
import {
  clearAttempts,
  type Reservation,
  refundAttempt,
  reserveAttempt,
  type ThrottleKey,
} from '../auth/throttle-store.ts';
import {
  type Context,
  meOf,
  OPERATOR_TENANT,
  record,
  tenantById,
  type UserRecord,
  userByEmail,
  userById,
} from '../context.ts';
import { methodsOf, sendCode, verifySecondFactor } from '../factors.ts';
import { fail, failWeakPassword, parse } from '../http.ts';
import { type Session, sha256 } from '../sessions.ts';

export const CSRF_COOKIE = '__Host-fluxel_csrf';
const DUMMY_HASH = hashPassword('fluxel-timing-equaliser-not-a-password');

export function anonymousCsrf(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === CSRF_COOKIE && value && /^[A-Za-z0-9_-]{32}$/.test(value)) return value;
  }
  return undefined;
}

export async function sessionInfo(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  session: Session | undefined,
): Promise<SessionInfo> {
  if (!session) {
    let csrf = anonymousCsrf(req);
    if (!csrf) {
      csrf = randomBytes(24).toString('base64url');
      void reply.header(
        'set-cookie',
        `${CSRF_COOKIE}=${csrf}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=3600`,
      );
    }
    return { stage: 'anonymous', csrfToken: csrf };
  }
  const user = await userById(ctx, session.userId);
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
  await ctx.db.query('UPDATE portal_users SET last_sign_in_at = $2 WHERE id = $1', [
    user.id,
    ctx.now(),
  ]);
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

export function authRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/api/session', async (req, reply) =>
    sessionInfo(ctx, req, reply, await ctx.sessions.read(req)),
  );

  app.post('/api/auth/login', async (req, reply) => {
    const body = parse(loginBody, req.body);
    const account: ThrottleKey = { key: `account:${body.email}`, policy: ACCOUNT_POLICY };
    const ip: ThrottleKey = { key: `ip:${req.ip}`, policy: IP_POLICY };
    const user = await userByEmail(ctx, body.email);
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
        reason: !user
          ? 'unknown account'
          : user.status !== 'active'
            ? 'disabled'
            : 'wrong password',
      });
      return fail(401, 'invalid_credentials', 'e-mail address or password is wrong');
    }
    // A success clears the account's failures; the IP keeps its own (one valid account must not
    // wipe an address's record), only this attempt is taken back.
    await clearAttempts(ctx.db, account.key);
    await refundAttempt(ctx.db, ip);
    if (check.needsRehash)
      await ctx.db.query('UPDATE portal_users SET password_hash = $2 WHERE id = $1', [
        user.id,
        await hashPassword(body.password, ctx.passwordParams),
      ]);
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
  });

  const pending = async (req: FastifyRequest) => {
    const session = await ctx.sessions.read(req);
    if (!session) return fail(401, 'unauthenticated', 'please sign in');
    const user = await userById(ctx, session.userId);
    if (!user || user.status !== 'active') return fail(401, 'unauthenticated', 'please sign in');
    return { session, user };
  };

  app.post('/api/auth/code/send', async (req, reply) => {
    const { method } = parse(sendCodeBody, req.body);
    const { user } = await pending(req);
    const { rows } = await ctx.db.query(
      'SELECT 1 FROM portal_factors WHERE user_id = $1 AND type = $2 AND confirmed',
      [user.id, method],
    );
    if (rows.length === 0) return fail(400, 'bad_request', 'that method is not set up');
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
    return reply.code(204).send();
  });

  app.post('/api/auth/second-factor', async (req, reply) => {
    const body = parse(secondFactorBody, req.body);
    const { session, user } = await pending(req);
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
  });

  app.post('/api/auth/passkey/options', async (req) => {
    const body = parse(passkeyOptionsBody, req.body);
    const wa = ctx.webauthn();
    let allow: { id: string }[] | undefined;
    if (body.email) {
      const user = await userByEmail(ctx, body.email);
      const { rows } = user
        ? await ctx.db.query(
            "SELECT credential_id FROM portal_factors WHERE user_id = $1 AND type = 'passkey' AND confirmed",
            [user.id],
          )
        : { rows: [] };
      // Unknown accounts get an empty list too: nothing tells whether the account exists.
      allow = rows.map((r) => ({ id: String(r.credential_id) }));
    }
    const options = await generateAuthenticationOptions({
      rpID: wa.rpId,
      userVerification: 'required',
      ...(allow && allow.length > 0 ? { allowCredentials: allow } : {}),
    });
    await ctx.db.query(
      'INSERT INTO portal_challenges (challenge, purpose, expires_at) VALUES ($1, $2, $3)',
      [options.challenge, 'signin', ctx.now() + 5 * 60_000],
    );
    return options;
  });

  app.post('/api/auth/passkey/verify', async (req, reply) => {
    const { response } = parse(passkeyVerifyBody, req.body);
    const credentialId = typeof response.id === 'string' ? response.id : '';
    const clientData = (response.response as Record<string, unknown> | undefined)?.clientDataJSON;
    let challenge = '';
    try {
      challenge = JSON.parse(
        Buffer.from(String(clientData), 'base64url').toString('utf8'),
      ).challenge;
    } catch {
      return fail(400, 'bad_request', 'not a WebAuthn response');
    }
    const used = await ctx.db.query(
      "DELETE FROM portal_challenges WHERE challenge = $1 AND purpose = 'signin' AND expires_at > $2 RETURNING challenge",
      [String(challenge), ctx.now()],
    );
    const { rows } = await ctx.db.query(
      "SELECT id, user_id, public_key, counter, transports FROM portal_factors WHERE credential_id = $1 AND type = 'passkey' AND confirmed",
      [credentialId],
    );
    const row = rows[0];
    const user = row ? await userById(ctx, String(row.user_id)) : undefined;
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
    if (used.rows.length !== 1) return refuse('unknown or used challenge');
    if (!row || !user || user.status !== 'active') return refuse('unknown passkey');
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
          publicKey: new Uint8Array(Buffer.from(String(row.public_key), 'base64url')),
          counter: Number(row.counter),
        },
      });
    } catch {
      return refuse('verification failed');
    }
    if (!verification.verified) return refuse('verification failed');
    await ctx.db.query('UPDATE portal_factors SET counter = $2, last_used_at = $3 WHERE id = $1', [
      row.id,
      verification.authenticationInfo.newCounter,
      ctx.now(),
    ]);
    return finishSignIn(ctx, req, reply, user, 'passkey');
  });

  app.post('/api/auth/logout', async (req, reply) => {
    const session = await ctx.sessions.read(req);
    if (session) {
      const user = await userById(ctx, session.userId);
      await record(ctx, req, {
        tenant: user?.tenantId ?? OPERATOR_TENANT,
        actor: { type: 'user', id: session.userId },
        action: 'auth.logout',
        outcome: 'success',
      });
    }
    await ctx.sessions.end(req, reply);
    return reply.code(204).send();
  });

  app.post('/api/auth/reauth', async (req) => {
    const body = parse(reauthBody, req.body);
    const session = await ctx.sessions.read(req);
    if (!session || session.stage !== 'full') return fail(401, 'unauthenticated', 'please sign in');
    const user = await userById(ctx, session.userId);
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
  });

  // ------------------------------------------------------------ password reset

  app.post('/api/auth/reset/request', async (req, reply) => {
    const { email } = parse(resetRequestBody, req.body);
    const user = await userByEmail(ctx, email);
    // Every request counts against the IP, counted before anything is sent.
    const hit = await reserveAttempt(
      ctx.db,
      [{ key: `reset-ip:${req.ip}`, policy: IP_POLICY }],
      ctx.now(),
    );
    if (!hit.allowed) throttled(hit);
    if (user && user.status === 'active') {
      const token = randomBytes(32).toString('base64url');
      await storeResetToken(ctx.db, token, user.id, ctx.now() + 30 * 60_000);
      const link = `${ctx.origin()}/reset/${token}`;
      const de = user.locale === 'de';
      await ctx.mail.send({
        to: user.email,
        subject: de ? 'Fluxel: Passwort zurücksetzen' : 'Fluxel: reset your password',
        text: de
          ? `Über diesen Link setzen Sie Ihr Passwort neu (30 Minuten gültig):\n${link}\nDanach melden Sie sich wie gewohnt mit dem zweiten Faktor an.`
          : `Use this link to set a new password (valid 30 minutes):\n${link}\nAfterwards, sign in with your second factor as usual.`,
      });
      await record(ctx, req, {
        tenant: user.tenantId,
        actor: { type: 'user', id: user.id },
        action: 'auth.reset.requested',
        outcome: 'success',
      });
    }
    return reply.code(204).send();
  });

  app.post('/api/auth/reset/confirm', async (req, reply) => {
    const body = parse(resetConfirmBody, req.body);
    const invalid = () => fail(400, 'token_invalid', 'the link is not valid (any more)');
    // The password is judged before the token is spent, so a weak one leaves it usable
    // without ever handing it back (a claimed token is never released again).
    const ownerId = await resetTokenOwner(ctx.db, body.token, ctx.now());
    const owner = ownerId ? await userById(ctx, ownerId) : undefined;
    if (!owner) return invalid();
    const policy = checkPasswordPolicy(body.password, { email: owner.email, name: owner.name });
    if (!policy.ok) return failWeakPassword(policy.reason);
    // Compare-and-set: of concurrent confirmations of one token exactly one claims it.
    const spentBy = await spendResetToken(ctx.db, body.token, ctx.now());
    const user = spentBy ? await userById(ctx, spentBy) : undefined;
    if (!user) return invalid();
    await ctx.db.query('UPDATE portal_users SET password_hash = $2 WHERE id = $1', [
      user.id,
      await hashPassword(body.password, ctx.passwordParams),
    ]);
    const ended = await ctx.sessions.revokeAll(user.id);
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.reset.completed',
      outcome: 'success',
      data: { sessionsEnded: ended },
    });
    // Deliberately no session: the user signs in with password and second factor.
    return reply.code(204).send();
  });

  // ------------------------------------------------------------ invitations

  const invitation = async (token: string) => {
    const { rows } = await ctx.db.query(
      'SELECT * FROM portal_invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
      [sha256(token), ctx.now()],
    );
    return rows[0];
  };

  app.get<{ Params: { token: string } }>('/api/invitations/:token', async (req) => {
    const row = await invitation(req.params.token);
    if (!row) {
      // A link of an invitation sent again says so (410 `invitation_replaced`).
      await failReplacedInvitation(ctx, req.params.token);
      return fail(404, 'invitation_invalid', 'the invitation is not valid (any more)');
    }
    const tenant = await tenantById(ctx, String(row.tenant_id));
    return {
      email: String(row.email),
      tenantName: tenant?.name ?? String(row.tenant_id),
      role: row.role as Role,
      expiresAt: new Date(Number(row.expires_at)).toISOString(),
    } satisfies InvitationInfo;
  });

  app.post<{ Params: { token: string } }>('/api/invitations/:token/accept', async (req, reply) => {
    const body = parse(acceptInvitationBody, req.body);
    const row = await invitation(req.params.token);
    if (!row) return fail(404, 'invitation_invalid', 'the invitation is not valid (any more)');
    const email = String(row.email);
    const policy = checkPasswordPolicy(body.password, { email, name: body.name });
    if (!policy.ok) return failWeakPassword(policy.reason);
    // One statement creates the account and spends the invitation, or does neither: the
    // address's UNIQUE decides between invitations for one address accepted at once, and the
    // loser's invitation stays unspent.
    const id = `usr_${randomBytes(12).toString('base64url')}`;
    const outcome = await acceptInvitation(
      ctx.db,
      {
        invitationId: String(row.id),
        userId: id,
        name: body.name,
        locale: body.locale ?? 'de',
        passwordHash: await hashPassword(body.password, ctx.passwordParams),
      },
      ctx.now(),
    );
    if (outcome === 'invalid')
      return fail(404, 'invitation_invalid', 'the invitation is not valid (any more)');
    if (outcome === 'taken') {
      await record(ctx, req, {
        tenant: String(row.tenant_id),
        actor: { type: 'user', id: 'unknown' },
        action: 'user.signup',
        outcome: 'failure',
        reason: 'an account with the address exists',
        target: { type: 'invitation', id: String(row.id) },
      });
      return fail(
        409,
        'email_taken',
        'an account with this e-mail address exists already; sign in with it (the invitation was not used)',
      );
    }
    await record(ctx, req, {
      tenant: String(row.tenant_id),
      actor: { type: 'user', id },
      action: 'user.signup',
      outcome: 'success',
      target: { type: 'invitation', id: String(row.id) },
      data: { role: String(row.role), invitedBy: String(row.invited_by ?? '') },
    });
    const session = await ctx.sessions.start(req, reply, id, 'enrol');
    return sessionInfo(ctx, req, reply, session);
  });
}
