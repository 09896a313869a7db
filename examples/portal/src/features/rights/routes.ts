/**
 * "Request more rights" over HTTP: the routes of `rightsContract`, each a call of the use case
 * in `service.ts` (authorize and parse are serveAll's).
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { rightsContract } from './contract.ts';
import * as rights from './service.ts';

export function rightsRoutes(app: FastifyInstance, ctx: Context): void {
  serveAll(app, ctx, rightsContract, {
    request: async ({ req, reply, principal, body }) => {
      const request = await rights.requestRights(ctx, req, principal, body);
      void reply.code(201);
      return { request };
    },
    mine: async ({ principal }) => ({ requests: await rights.myRequests(ctx, principal) }),
    withdraw: async ({ req, principal, params }) => ({
      request: await rights.withdraw(ctx, req, principal, params.id),
    }),
    list: async ({ principal, query }) => ({
      requests: await rights.requestsToDecide(ctx, principal, query.status),
    }),
    approve: async ({ req, principal, params, body }) => ({
      request: await rights.approve(ctx, req, principal, params.id, body.note),
    }),
    reject: async ({ req, principal, params, body }) => ({
      request: await rights.reject(ctx, req, principal, params.id, body.reason),
    }),
  });
}
