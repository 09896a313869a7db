/**
 * The sign-in routes of `authContract`: the session endpoint, password and second factor,
 * passkeys, sign-out, re-authentication, password reset, and accepting an invitation. All
 * public (the visitor is not signed in yet); each step reads the session it needs itself.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { authContract } from './contract.ts';
import * as auth from './service.ts';

export function authRoutes(app: FastifyInstance, ctx: Context): void {
  serveAll(app, ctx, authContract, {
    session: async ({ req, reply }) =>
      auth.sessionInfo(ctx, req, reply, await ctx.sessions.read(req)),
    login: async ({ req, reply, body }) => auth.signIn(ctx, req, reply, body),
    sendCode: async ({ req, body }) => auth.sendSignInCode(ctx, req, body.method),
    secondFactor: async ({ req, reply, body }) => auth.secondFactor(ctx, req, reply, body),
    passkeyOptions: async ({ body }) => auth.passkeyOptions(ctx, body.email),
    passkeyVerify: async ({ req, reply, body }) =>
      auth.passkeySignIn(ctx, req, reply, body.response),
    logout: async ({ req, reply }) => auth.signOut(ctx, req, reply),
    reauth: async ({ req, body }) => auth.reauthenticate(ctx, req, body),
    resetRequest: async ({ req, body }) => auth.requestReset(ctx, req, body.email),
    resetConfirm: async ({ req, body }) => auth.confirmReset(ctx, req, body),
    invitation: async ({ params }) => auth.invitationInfo(ctx, params.token),
    acceptInvitation: async ({ req, reply, params, body }) =>
      auth.acceptInvitation(ctx, req, reply, params.token, body),
  });
}
