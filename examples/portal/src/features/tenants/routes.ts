/** The tenants feature's HTTP route: the tenants the signed-in user reaches. */
import type { FastifyInstance } from 'fastify';
import { authorize, type Context } from '../../server/context.ts';
import { listTenants } from './service.ts';

export function tenantsRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/api/tenants', async (req) => {
    const p = await authorize(ctx, req, 'tenants.read');
    return { tenants: await listTenants(ctx, p) };
  });
}
