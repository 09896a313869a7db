/**
 * A user's own account: enrolling second factors (mandatory before anything else), recovery
 * codes, profile, password and e-mail changes (re-authentication first), own sessions.
 */
import { randomBytes } from 'node:crypto';
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { consumeCode, openSecret, sealSecret, sendCode } from '../../features/auth/factors.ts';
import { checkPasswordPolicy, hashPassword } from '../../features/auth/password.ts';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
} from '../../features/auth/recovery.ts';
import { sessionInfo } from '../../features/auth/service.ts';
import { replaceRecoveryCodes as storeRecoveryCodes } from '../../features/auth/store.ts';
import { generateTotpSecret, otpauthUrl, qrSvg, verifyTotp } from '../../features/auth/totp.ts';
import {
  changeEmailBody,
  changePasswordBody,
  type EnrolDone,
  emailConfirmBody,
  passkeyRegisterBody,
  profileBody,
  type SessionRow,
  smsConfirmBody,
  smsStartBody,
  type TotpStart,
  totpConfirmBody,
} from '../../shared/api.ts';
import { changeEmail } from '../auth/accounts.ts';
import { removeFactor } from '../auth/factor-removal.ts';
import { confirmTotpSetup, pendingTotpSetup, startTotpSetup } from '../auth/totp-setup-store.ts';
import {
  type Context,
  meOf,
  principal,
  record,
  requireReauth,
  type UserRecord,
  userByEmail,
  userById,
} from '../context.ts';
import { fail, failWeakPassword, parse } from '../http.ts';
import type { Session } from '../sessions.ts';

const factorId = () => `fac_${randomBytes(12).toString('base64url')}`;

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

export function accountRoutes(app: FastifyInstance, ctx: Context): void {
  /**
   * Enrolment is open to a session at stage `enrol` (first factor) or `full` with a recent
   * re-authentication (adding one more).
   */
  const enrolling = async (
    req: FastifyRequest,
  ): Promise<{ session: Session; user: UserRecord }> => {
    const session = await ctx.sessions.read(req);
    if (!session || session.stage === 'password')
      return fail(401, 'unauthenticated', 'please sign in');
    const user = await userById(ctx, session.userId);
    if (!user || user.status !== 'active') return fail(401, 'unauthenticated', 'please sign in');
    if (session.stage === 'full') requireReauth(ctx, session);
    return { session, user };
  };

  /** The factor is confirmed: first one → recovery codes + a full session (new id). */
  const enrolled = async (
    req: FastifyRequest,
    reply: FastifyReply,
    session: Session,
    user: UserRecord,
    type: string,
  ): Promise<EnrolDone> => {
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.factor.enrolled',
      outcome: 'success',
      data: { type },
    });
    if (session.stage === 'enrol') {
      // Spends the enrolment session: two first factors confirmed at once sign in once, and
      // only that one makes recovery codes (a refused one never shows codes that still work).
      const full = await ctx.sessions.start(req, reply, user.id, 'full', { upgrade: true });
      const recoveryCodes = await replaceRecoveryCodes(ctx, user.id);
      await ctx.db.query('UPDATE portal_users SET last_sign_in_at = $2 WHERE id = $1', [
        user.id,
        ctx.now(),
      ]);
      await record(ctx, req, {
        tenant: user.tenantId,
        actor: { type: 'user', id: user.id },
        action: 'auth.signin',
        outcome: 'success',
        data: { method: `enrol-${type}` },
      });
      return { session: await sessionInfo(ctx, req, reply, full), recoveryCodes };
    }
    return { session: await sessionInfo(ctx, req, reply, session) };
  };

  app.post('/api/enrol/totp/start', async (req) => {
    const { user } = await enrolling(req);
    const secret = generateTotpSecret();
    // Replaces any set-up in progress in one statement: set-ups started at once leave one.
    await startTotpSetup(ctx.db, {
      id: factorId(),
      userId: user.id,
      label: 'Authenticator',
      sealedSecret: await sealSecret(ctx, user.id, secret),
      now: ctx.now(),
    });
    const url = otpauthUrl({ secret, account: user.email, issuer: 'Fluxel' });
    return { secret, otpauthUrl: url, qrSvg: await qrSvg(url) } satisfies TotpStart;
  });

  app.post('/api/enrol/totp/confirm', async (req, reply) => {
    const body = parse(totpConfirmBody, req.body);
    const { session, user } = await enrolling(req);
    const setup = await pendingTotpSetup(ctx.db, user.id);
    if (!setup) return fail(409, 'conflict', 'start the set-up first');
    const secret = await openSecret(ctx, user.id, setup.secret);
    const result = verifyTotp(secret, body.code, { now: ctx.now(), lastUsedStep: 0 });
    if (!result.ok) {
      await record(ctx, req, {
        tenant: user.tenantId,
        actor: { type: 'user', id: user.id },
        action: 'auth.factor.enrolled',
        outcome: 'failure',
        data: { type: 'totp' },
      });
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
    return enrolled(req, reply, session, user, 'totp');
  });

  app.post('/api/enrol/email/start', async (req, reply) => {
    const { user } = await enrolling(req);
    await sendCode(ctx, user, 'email', 'enrol-email', user.email);
    return reply.code(204).send();
  });

  app.post('/api/enrol/email/confirm', async (req, reply) => {
    const body = parse(emailConfirmBody, req.body);
    const { session, user } = await enrolling(req);
    await consumeCode(ctx, user.id, 'enrol-email', body.code);
    await ctx.db.query("DELETE FROM portal_factors WHERE user_id = $1 AND type = 'email'", [
      user.id,
    ]);
    await ctx.db.query(
      `INSERT INTO portal_factors (id, user_id, type, label, confirmed, created_at) VALUES ($1, $2, 'email', $3, true, $4)`,
      [factorId(), user.id, user.email, ctx.now()],
    );
    return enrolled(req, reply, session, user, 'email');
  });

  /** SMS only next to a stronger factor (TOTP or passkey), to a number verified by a code. */
  app.post('/api/enrol/sms/start', async (req, reply) => {
    const body = parse(smsStartBody, req.body);
    const { user } = await enrolling(req);
    const { rows } = await ctx.db.query(
      "SELECT 1 FROM portal_factors WHERE user_id = $1 AND type IN ('totp', 'passkey') AND confirmed",
      [user.id],
    );
    if (rows.length === 0)
      return fail(409, 'conflict', 'SMS is offered only next to an authenticator app or a passkey');
    await sendCode(ctx, user, 'sms', 'enrol-sms', body.phone);
    return reply.code(204).send();
  });

  app.post('/api/enrol/sms/confirm', async (req, reply) => {
    const body = parse(smsConfirmBody, req.body);
    const { session, user } = await enrolling(req);
    const phone = await consumeCode(ctx, user.id, 'enrol-sms', body.code);
    await ctx.db.query('UPDATE portal_users SET phone = $2 WHERE id = $1', [user.id, phone]);
    await ctx.db.query("DELETE FROM portal_factors WHERE user_id = $1 AND type = 'sms'", [user.id]);
    await ctx.db.query(
      `INSERT INTO portal_factors (id, user_id, type, label, confirmed, created_at) VALUES ($1, $2, 'sms', $3, true, $4)`,
      [factorId(), user.id, `…${phone.slice(-4)}`, ctx.now()],
    );
    return enrolled(req, reply, session, user, 'sms');
  });

  app.post('/api/enrol/passkey/options', async (req) => {
    const { session, user } = await enrolling(req);
    const wa = ctx.webauthn();
    const { rows } = await ctx.db.query(
      "SELECT credential_id FROM portal_factors WHERE user_id = $1 AND type = 'passkey' AND confirmed",
      [user.id],
    );
    const options = await generateRegistrationOptions({
      rpName: wa.rpName,
      rpID: wa.rpId,
      userName: user.email,
      userDisplayName: user.name,
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: rows.map((r) => ({ id: String(r.credential_id) })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    await ctx.sessions.setChallenge(session, options.challenge);
    return options;
  });

  app.post('/api/enrol/passkey/verify', async (req, reply) => {
    const body = parse(passkeyRegisterBody, req.body);
    const { session, user } = await enrolling(req);
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
    // A credential id is registered once, to one account (UNIQUE): a second registration of
    // it — replayed, or a forged response naming someone else's credential — is refused.
    const added = await ctx.db.query(
      `INSERT INTO portal_factors (id, user_id, type, label, credential_id, public_key, counter, transports, confirmed, created_at)
       VALUES ($1, $2, 'passkey', $3, $4, $5, $6, $7, true, $8)
       ON CONFLICT (credential_id) DO NOTHING RETURNING id`,
      [
        factorId(),
        user.id,
        body.label ?? 'Passkey',
        credential.id,
        Buffer.from(credential.publicKey).toString('base64url'),
        credential.counter,
        (credential.transports ?? []).join(','),
        ctx.now(),
      ],
    );
    if (added.rows.length !== 1)
      return fail(409, 'conflict', 'this passkey is registered already; use a different one');
    return enrolled(req, reply, session, user, 'passkey');
  });

  app.delete<{ Params: { id: string } }>('/api/me/factors/:id', async (req, reply) => {
    const { session, user } = await principal(ctx, req);
    requireReauth(ctx, session);
    // Checked and deleted in one statement over the locked factors: two removals at once
    // cannot each leave only the other one, and so none.
    const removed = await removeFactor(ctx.db, user.id, req.params.id);
    if (!removed.ok && removed.reason === 'not_found') return fail(404, 'not_found', 'not found');
    if (!removed.ok)
      return fail(409, 'conflict', 'the last (or only strong) factor cannot be removed');
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.factor.removed',
      outcome: 'success',
      data: { type: removed.type },
    });
    return reply.code(204).send();
  });

  app.post('/api/me/recovery-codes', async (req) => {
    const { session, user } = await principal(ctx, req);
    requireReauth(ctx, session);
    const recoveryCodes = await replaceRecoveryCodes(ctx, user.id);
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.recovery-codes.regenerated',
      outcome: 'success',
    });
    return { recoveryCodes };
  });

  app.get('/api/me', async (req) => {
    const { session, user } = await principal(ctx, req);
    return meOf(ctx, user, session);
  });

  app.patch('/api/me', async (req) => {
    const body = parse(profileBody, req.body);
    const { session, user } = await principal(ctx, req);
    if (body.name !== undefined)
      await ctx.db.query('UPDATE portal_users SET name = $2 WHERE id = $1', [user.id, body.name]);
    if (body.locale !== undefined)
      await ctx.db.query('UPDATE portal_users SET locale = $2 WHERE id = $1', [
        user.id,
        body.locale,
      ]);
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'user.profile.updated',
      outcome: 'success',
      data: { fields: Object.keys(body) },
    });
    return meOf(ctx, (await userById(ctx, user.id)) as UserRecord, session);
  });

  app.post('/api/me/password', async (req, reply) => {
    const body = parse(changePasswordBody, req.body);
    const { session, user } = await principal(ctx, req);
    requireReauth(ctx, session);
    const policy = checkPasswordPolicy(body.password, { email: user.email, name: user.name });
    if (!policy.ok) return failWeakPassword(policy.reason);
    await ctx.db.query('UPDATE portal_users SET password_hash = $2 WHERE id = $1', [
      user.id,
      await hashPassword(body.password, ctx.passwordParams),
    ]);
    const ended = await ctx.sessions.revokeAll(user.id, session.idHash);
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'user.password.changed',
      outcome: 'success',
      data: { otherSessionsEnded: ended },
    });
    return reply.code(204).send();
  });

  app.post('/api/me/email', async (req, reply) => {
    const body = parse(changeEmailBody, req.body);
    const { session, user } = await principal(ctx, req);
    requireReauth(ctx, session);
    const taken = () =>
      fail(409, 'email_taken', 'that address belongs to another account; choose a different one');
    // A quick answer for an address taken long ago; the UNIQUE decides a race (nothing changes).
    const holder = await userByEmail(ctx, body.email);
    if (holder?.id === user.id)
      return fail(409, 'conflict', "that is this account's address already");
    if (holder) return taken();
    // The e-mail factor follows the address only after a new confirmation: dropped with it.
    const outcome = await changeEmail(ctx.db, user.id, body.email);
    if (outcome === 'taken') return taken();
    if (outcome === 'gone') return fail(401, 'unauthenticated', 'please sign in');
    await ctx.mail.send({
      to: user.email,
      subject:
        user.locale === 'de' ? 'Fluxel: E-Mail-Adresse geändert' : 'Fluxel: e-mail address changed',
      text:
        user.locale === 'de'
          ? `Die Anmelde-Adresse Ihres Kontos wurde in ${body.email} geändert. Waren Sie das nicht, melden Sie sich bitte sofort bei uns.`
          : `Your account's sign-in address was changed to ${body.email}. If this was not you, contact us at once.`,
    });
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'user.email.changed',
      outcome: 'success',
    });
    return reply.code(204).send();
  });

  app.get('/api/me/sessions', async (req) => {
    const { session, user } = await principal(ctx, req);
    const sessions = await ctx.sessions.list(user.id);
    return {
      sessions: sessions.map(
        (s): SessionRow => ({
          id: s.publicId,
          current: s.idHash === session.idHash,
          createdAt: new Date(s.createdAt).toISOString(),
          lastSeenAt: new Date(s.lastSeenAt).toISOString(),
          expiresAt: new Date(s.expiresAt).toISOString(),
          ip: s.ip,
          userAgent: s.userAgent,
        }),
      ),
    };
  });

  app.delete<{ Params: { id: string } }>('/api/me/sessions/:id', async (req, reply) => {
    const { user } = await principal(ctx, req);
    if (!(await ctx.sessions.revoke(user.id, req.params.id)))
      return fail(404, 'not_found', 'not found');
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'session.revoked',
      outcome: 'success',
    });
    return reply.code(204).send();
  });
}
