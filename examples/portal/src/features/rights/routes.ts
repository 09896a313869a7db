/**
 * "Request more rights" over HTTP (use cases in `service.ts`):
 *
 * - `POST /api/rights/requests {role, reason}` (`rights.request`) → 201
 * - `GET  /api/rights/requests/mine`, `POST /api/rights/requests/:id/withdraw` — the requester.
 * - `GET  /api/rights/requests[?status=]` (`rights.approve`)
 * - `POST /api/rights/requests/:id/approve {note?}`, `POST …/:id/reject {reason}` (`rights.approve`)
 */
import type { FastifyInstance } from 'fastify';
import { authorize, type Context } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import {
  rightsDecisionBody,
  rightsQuery,
  rightsRejectBody,
  rightsRequestBody,
} from './contract.ts';
import * as rights from './service.ts';

export function rightsRoutes(app: FastifyInstance, ctx: Context): void {
  app.post('/api/rights/requests', async (req, reply) => {
    const body = parse(rightsRequestBody, req.body);
    const p = await authorize(ctx, req, 'rights.request');
    const request = await rights.requestRights(ctx, req, p, body);
    return reply.code(201).send({ request });
  });

  app.get('/api/rights/requests/mine', async (req) => {
    const p = await authorize(ctx, req, 'rights.request');
    return { requests: await rights.myRequests(ctx, p) };
  });

  app.post<{ Params: { id: string } }>('/api/rights/requests/:id/withdraw', async (req) => {
    const p = await authorize(ctx, req, 'rights.request');
    return { request: await rights.withdraw(ctx, req, p, req.params.id) };
  });

  app.get('/api/rights/requests', async (req) => {
    const p = await authorize(ctx, req, 'rights.approve');
    const q = parse(rightsQuery, req.query);
    return { requests: await rights.requestsToDecide(ctx, p, q.status) };
  });

  app.post<{ Params: { id: string } }>('/api/rights/requests/:id/approve', async (req) => {
    const body = parse(rightsDecisionBody, req.body);
    const p = await authorize(ctx, req, 'rights.approve');
    return { request: await rights.approve(ctx, req, p, req.params.id, body.note) };
  });

  app.post<{ Params: { id: string } }>('/api/rights/requests/:id/reject', async (req) => {
    const body = parse(rightsRejectBody, req.body);
    const p = await authorize(ctx, req, 'rights.approve');
    return { request: await rights.reject(ctx, req, p, req.params.id, body.reason) };
  });
}
