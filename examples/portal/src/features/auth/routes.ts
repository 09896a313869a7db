/**
 * The sign-in routes: the session endpoint, password and second factor, passkeys, sign-out,
 * re-authentication, password reset, and accepting an invitation. Public by nature (the
 * visitor is not signed in yet); each step reads the session it needs itself.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import {
  acceptInvitationBody,
  loginBody,
  passkeyOptionsBody,
  passkeyVerifyBody,
  reauthBody,
  resetConfirmBody,
  resetRequestBody,
  secondFactorBody,
  sendCodeBody,
} from '../../shared/api.ts';
import * as auth from './service.ts';

export function authRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/api/session', async (req, reply) =>
    auth.sessionInfo(ctx, req, reply, await ctx.sessions.read(req)),
  );

  app.post('/api/auth/login', async (req, reply) =>
    auth.signIn(ctx, req, reply, parse(loginBody, req.body)),
  );

  app.post('/api/auth/code/send', async (req, reply) => {
    const { method } = parse(sendCodeBody, req.body);
    await auth.sendSignInCode(ctx, req, method);
    return reply.code(204).send();
  });

  app.post('/api/auth/second-factor', async (req, reply) =>
    auth.secondFactor(ctx, req, reply, parse(secondFactorBody, req.body)),
  );

  app.post('/api/auth/passkey/options', async (req) =>
    auth.passkeyOptions(ctx, parse(passkeyOptionsBody, req.body).email),
  );

  app.post('/api/auth/passkey/verify', async (req, reply) =>
    auth.passkeySignIn(ctx, req, reply, parse(passkeyVerifyBody, req.body).response),
  );

  app.post('/api/auth/logout', async (req, reply) => {
    await auth.signOut(ctx, req, reply);
    return reply.code(204).send();
  });

  app.post('/api/auth/reauth', async (req) =>
    auth.reauthenticate(ctx, req, parse(reauthBody, req.body)),
  );

  app.post('/api/auth/reset/request', async (req, reply) => {
    await auth.requestReset(ctx, req, parse(resetRequestBody, req.body).email);
    return reply.code(204).send();
  });

  app.post('/api/auth/reset/confirm', async (req, reply) => {
    await auth.confirmReset(ctx, req, parse(resetConfirmBody, req.body));
    return reply.code(204).send();
  });

  app.get<{ Params: { token: string } }>('/api/invitations/:token', async (req) =>
    auth.invitationInfo(ctx, req.params.token),
  );

  app.post<{ Params: { token: string } }>('/api/invitations/:token/accept', async (req, reply) =>
    auth.acceptInvitation(ctx, req, reply, req.params.token, parse(acceptInvitationBody, req.body)),
  );
}
