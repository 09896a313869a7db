/** The licenses feature's HTTP routes: authorize → parse → service → reply. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authorize, type Context } from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import {
  CONNECTION_PATTERN,
  createLicenseBody,
  credentialsBody,
  lockBody,
} from '../../shared/api.ts';
import * as licenses from './service.ts';

const listQuery = z.object({ tenantId: z.string().optional() });

export function licensesRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/api/licenses', async (req) => {
    const p = await authorize(ctx, req, 'license.read');
    const q = listQuery.safeParse(req.query);
    return {
      licenses: await licenses.listLicenses(ctx, req, p, q.success ? q.data.tenantId : undefined),
    };
  });

  app.get<{ Params: { id: string } }>('/api/licenses/:id', async (req) => {
    const p = await authorize(ctx, req, 'license.read');
    return { license: await licenses.getLicense(ctx, req, p, req.params.id) };
  });

  app.post('/api/licenses', async (req) => {
    const body = parse(createLicenseBody, req.body);
    const p = await authorize(ctx, req, 'license.create');
    return licenses.createLicense(ctx, req, p, body);
  });

  app.post<{ Params: { id: string } }>('/api/licenses/:id/lock', async (req) => {
    const body = parse(lockBody, req.body);
    const p = await authorize(ctx, req, 'license.lock');
    return licenses.lockLicense(ctx, req, p, req.params.id, body.reason);
  });

  app.post<{ Params: { id: string } }>('/api/licenses/:id/unlock', async (req) => {
    const p = await authorize(ctx, req, 'license.lock');
    return licenses.unlockLicense(ctx, req, p, req.params.id);
  });

  app.post<{ Params: { id: string } }>('/api/licenses/:id/rebind', async (req) => {
    const p = await authorize(ctx, req, 'license.rebind');
    return licenses.rebindLicense(ctx, req, p, req.params.id);
  });

  app.get<{ Params: { id: string } }>('/api/licenses/:id/connections', async (req) => {
    const p = await authorize(ctx, req, 'credentials.read');
    return { connections: await licenses.listConnections(ctx, req, p, req.params.id) };
  });

  app.put<{ Params: { id: string; connection: string } }>(
    '/api/licenses/:id/connections/:connection/credentials',
    async (req, reply) => {
      const body = parse(credentialsBody, req.body);
      const p = await authorize(ctx, req, 'credentials.write');
      if (!CONNECTION_PATTERN.test(req.params.connection))
        return fail(400, 'bad_request', 'invalid connection name');
      await licenses.putCredentials(ctx, req, p, req.params.id, req.params.connection, body);
      return reply.code(204).send();
    },
  );
}
