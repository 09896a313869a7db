/**
 * The own account's HTTP routes (`contract.ts`): second-factor enrolment and `/api/me`. Thin:
 * `serveAll` authorizes and parses, the service does the rest.
 */
import type { FastifyInstance } from 'fastify';
import { type Context, meOf } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { accountContract } from './contract.ts';
import * as account from './service.ts';

export function accountRoutes(app: FastifyInstance, ctx: Context): void {
  const enrolling = account.enrolling.bind(undefined, ctx);
  serveAll(app, ctx, accountContract, {
    totpStart: async ({ req }) => account.startTotp(ctx, await enrolling(req)),
    totpConfirm: async ({ req, reply, body }) =>
      account.confirmTotp(ctx, req, reply, await enrolling(req), body),
    emailStart: async ({ req }) => account.startEmailFactor(ctx, await enrolling(req)),
    emailConfirm: async ({ req, reply, body }) =>
      account.confirmEmailFactor(ctx, req, reply, await enrolling(req), body.code),
    smsStart: async ({ req, body }) =>
      account.startSmsFactor(ctx, await enrolling(req), body.phone),
    smsConfirm: async ({ req, reply, body }) =>
      account.confirmSmsFactor(ctx, req, reply, await enrolling(req), body.code),
    passkeyOptions: async ({ req }) => account.passkeyOptions(ctx, await enrolling(req)),
    passkeyVerify: async ({ req, reply, body }) =>
      account.verifyPasskey(ctx, req, reply, await enrolling(req), body),
    removeFactor: async ({ req, principal, params }) =>
      account.removeOwnFactor(ctx, req, principal, params.id),
    recoveryCodes: async ({ req, principal }) =>
      account.regenerateRecoveryCodes(ctx, req, principal),
    me: async ({ principal }) => meOf(ctx, principal.user, principal.session),
    updateProfile: async ({ req, principal, body }) =>
      account.changeProfile(ctx, req, principal, body),
    changePassword: async ({ req, principal, body }) =>
      account.changePassword(ctx, req, principal, body.password),
    changeEmail: async ({ req, principal, body }) =>
      account.changeOwnEmail(ctx, req, principal, body.email),
    sessions: async ({ principal }) => ({ sessions: await account.sessionsOf(ctx, principal) }),
    endSession: async ({ req, principal, params }) =>
      account.endSession(ctx, req, principal, params.id),
  });
}
