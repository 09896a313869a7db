/** The tenants feature's route (contract.ts): the tenants the signed-in user reaches. */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { tenantsContract } from './contract.ts';
import { listTenants } from './service.ts';

export function tenantsRoutes(app: FastifyInstance, ctx: Context): void {
  serveAll(app, ctx, tenantsContract, {
    list: async ({ principal }) => ({ tenants: await listTenants(ctx, principal) }),
  });
}
