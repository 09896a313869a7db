/**
 * The users feature's HTTP routes: authorize → parse → service → reply. Every route scopes by
 * tenant on the server; a user or invitation of a tenant out of reach answers 404.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authorize, type Context } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import { inviteBody, updateUserBody } from '../../shared/api.ts';
import * as users from './service.ts';

const listQuery = z.object({ tenantId: z.string().optional() });
const tenantOf = (query: unknown) => {
  const q = listQuery.safeParse(query);
  return q.success ? q.data.tenantId : undefined;
};

export function usersRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/api/users', async (req) => {
    const p = await authorize(ctx, req, 'users.read');
    return { users: await users.listUsers(ctx, req, p, tenantOf(req.query)) };
  });

  app.post('/api/invitations', async (req) => {
    const body = parse(inviteBody, req.body);
    const p = await authorize(ctx, req, 'users.invite');
    return users.invite(ctx, req, p, body);
  });

  app.get('/api/invitations', async (req) => {
    const p = await authorize(ctx, req, 'users.read');
    return { invitations: await users.listInvitations(ctx, req, p, tenantOf(req.query)) };
  });

  app.post<{ Params: { id: string } }>('/api/invitations/:id/resend', async (req) => {
    const p = await authorize(ctx, req, 'users.invite');
    return users.resendInvitation(ctx, req, p, req.params.id);
  });

  app.delete<{ Params: { id: string } }>('/api/invitations/:id', async (req, reply) => {
    const p = await authorize(ctx, req, 'users.invite');
    await users.revokeInvitation(ctx, req, p, req.params.id);
    return reply.code(204).send();
  });

  app.patch<{ Params: { id: string } }>('/api/users/:id', async (req) => {
    const body = parse(updateUserBody, req.body);
    const p = await authorize(ctx, req, 'users.manage');
    return users.updateUser(ctx, req, p, req.params.id, body);
  });

  app.post<{ Params: { id: string } }>('/api/users/:id/sessions/revoke', async (req) => {
    const p = await authorize(ctx, req, 'users.manage');
    return users.endSessions(ctx, req, p, req.params.id);
  });
}
