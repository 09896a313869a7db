/** The audit viewer's routes: a page of events, the CSV export, and the chain's verification. */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { auditContract } from './contract.ts';
import { auditCsv, auditPage, auditTenants, verifyAudit } from './service.ts';

export function auditRoutes(app: FastifyInstance, ctx: Context): void {
  serveAll(app, ctx, auditContract, {
    scope: async ({ principal }) => auditTenants(ctx, principal),
    page: async ({ req, principal, query }) => auditPage(ctx, req, principal, query),
    csv: async ({ req, reply, principal, query }) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="fluxel-audit.csv"')
        .send(await auditCsv(ctx, req, principal, query)),
    verify: async ({ req, principal }) => verifyAudit(ctx, req, principal),
  });
}
