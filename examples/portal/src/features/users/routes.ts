/**
 * The users feature's routes (contract.ts): each handler hands the principal and the parsed
 * input to the service. A user or invitation of a tenant out of reach answers 404.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { usersContract } from './contract.ts';
import * as users from './service.ts';

export function usersRoutes(app: FastifyInstance, ctx: Context): void {
  serveAll(app, ctx, usersContract, {
    list: async ({ req, principal, query }) => ({
      users: await users.listUsers(ctx, req, principal, query.tenantId),
    }),
    invite: ({ req, principal, body }) => users.invite(ctx, req, principal, body),
    invitations: async ({ req, principal, query }) => ({
      invitations: await users.listInvitations(ctx, req, principal, query.tenantId),
    }),
    resendInvitation: ({ req, principal, params }) =>
      users.resendInvitation(ctx, req, principal, params.id),
    revokeInvitation: ({ req, principal, params }) =>
      users.revokeInvitation(ctx, req, principal, params.id),
    update: ({ req, principal, params, body }) =>
      users.updateUser(ctx, req, principal, params.id, body),
    endSessions: ({ req, principal, params }) => users.endSessions(ctx, req, principal, params.id),
  });
}
