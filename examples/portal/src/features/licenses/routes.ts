/**
 * The licenses feature's routes (contract.ts): each handler hands the principal and the parsed
 * input to the service. A license of a tenant out of reach answers 404.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { serveAll } from '../../server/route.ts';
import { CONNECTION_PATTERN } from '../../shared/api.ts';
import { licensesContract } from './contract.ts';
import * as licenses from './service.ts';

export function licensesRoutes(app: FastifyInstance, ctx: Context): void {
  serveAll(app, ctx, licensesContract, {
    list: async ({ req, principal, query }) => ({
      licenses: await licenses.listLicenses(ctx, req, principal, query.tenantId),
    }),
    get: async ({ req, principal, params }) => ({
      license: await licenses.getLicense(ctx, req, principal, params.id),
    }),
    create: ({ req, principal, body }) => licenses.createLicense(ctx, req, principal, body),
    lock: ({ req, principal, params, body }) =>
      licenses.lockLicense(ctx, req, principal, params.id, body.reason),
    unlock: ({ req, principal, params }) => licenses.unlockLicense(ctx, req, principal, params.id),
    rebind: ({ req, principal, params }) => licenses.rebindLicense(ctx, req, principal, params.id),
    connections: async ({ req, principal, params }) => ({
      connections: await licenses.listConnections(ctx, req, principal, params.id),
    }),
    putCredentials: async ({ req, principal, params, body }) => {
      if (!CONNECTION_PATTERN.test(params.connection))
        return fail(400, 'bad_request', 'invalid connection name');
      await licenses.putCredentials(ctx, req, principal, params.id, params.connection, body);
    },
  });
}
