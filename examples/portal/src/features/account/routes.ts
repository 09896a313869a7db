/**
 * The own account's HTTP routes: second-factor enrolment (`/api/enrol/*`), and under
 * `/api/me` the profile, password, e-mail, factors, recovery codes and sessions. Thin:
 * authorize → parse → `service.ts` → reply.
 */
import type { FastifyInstance } from 'fastify';
import { type Context, meOf, principal } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import {
  changeEmailBody,
  changePasswordBody,
  emailConfirmBody,
  passkeyRegisterBody,
  profileBody,
  smsConfirmBody,
  smsStartBody,
  totpConfirmBody,
} from '../../shared/api.ts';
import * as account from './service.ts';

export function accountRoutes(app: FastifyInstance, ctx: Context): void {
  app.post('/api/enrol/totp/start', async (req) =>
    account.startTotp(ctx, await account.enrolling(ctx, req)),
  );

  app.post('/api/enrol/totp/confirm', async (req, reply) => {
    const body = parse(totpConfirmBody, req.body);
    return account.confirmTotp(ctx, req, reply, await account.enrolling(ctx, req), body);
  });

  app.post('/api/enrol/email/start', async (req, reply) => {
    await account.startEmailFactor(ctx, await account.enrolling(ctx, req));
    return reply.code(204).send();
  });

  app.post('/api/enrol/email/confirm', async (req, reply) => {
    const body = parse(emailConfirmBody, req.body);
    const who = await account.enrolling(ctx, req);
    return account.confirmEmailFactor(ctx, req, reply, who, body.code);
  });

  app.post('/api/enrol/sms/start', async (req, reply) => {
    const body = parse(smsStartBody, req.body);
    await account.startSmsFactor(ctx, await account.enrolling(ctx, req), body.phone);
    return reply.code(204).send();
  });

  app.post('/api/enrol/sms/confirm', async (req, reply) => {
    const body = parse(smsConfirmBody, req.body);
    const who = await account.enrolling(ctx, req);
    return account.confirmSmsFactor(ctx, req, reply, who, body.code);
  });

  app.post('/api/enrol/passkey/options', async (req) =>
    account.passkeyOptions(ctx, await account.enrolling(ctx, req)),
  );

  app.post('/api/enrol/passkey/verify', async (req, reply) => {
    const body = parse(passkeyRegisterBody, req.body);
    return account.verifyPasskey(ctx, req, reply, await account.enrolling(ctx, req), body);
  });

  app.delete<{ Params: { id: string } }>('/api/me/factors/:id', async (req, reply) => {
    await account.removeOwnFactor(ctx, req, await principal(ctx, req), req.params.id);
    return reply.code(204).send();
  });

  app.post('/api/me/recovery-codes', async (req) =>
    account.regenerateRecoveryCodes(ctx, req, await principal(ctx, req)),
  );

  app.get('/api/me', async (req) => {
    const { session, user } = await principal(ctx, req);
    return meOf(ctx, user, session);
  });

  app.patch('/api/me', async (req) => {
    const body = parse(profileBody, req.body);
    return account.changeProfile(ctx, req, await principal(ctx, req), body);
  });

  app.post('/api/me/password', async (req, reply) => {
    const body = parse(changePasswordBody, req.body);
    await account.changePassword(ctx, req, await principal(ctx, req), body.password);
    return reply.code(204).send();
  });

  app.post('/api/me/email', async (req, reply) => {
    const body = parse(changeEmailBody, req.body);
    await account.changeOwnEmail(ctx, req, await principal(ctx, req), body.email);
    return reply.code(204).send();
  });

  app.get('/api/me/sessions', async (req) => ({
    sessions: await account.sessionsOf(ctx, await principal(ctx, req)),
  }));

  app.delete<{ Params: { id: string } }>('/api/me/sessions/:id', async (req, reply) => {
    await account.endSession(ctx, req, await principal(ctx, req), req.params.id);
    return reply.code(204).send();
  });
}
