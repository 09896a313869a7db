/** The audit viewer's routes: a page of events, the CSV export, and the chain's verification. */
import type { FastifyInstance } from 'fastify';
import { authorize, type Context } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import { auditQuery } from '../../shared/api.ts';
import { auditCsv, auditPage, verifyAudit } from './service.ts';

export function auditRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/api/audit', async (req) => {
    const p = await authorize(ctx, req, 'audit.read');
    return auditPage(ctx, req, p, parse(auditQuery, req.query));
  });

  app.get('/api/audit.csv', async (req, reply) => {
    const p = await authorize(ctx, req, 'audit.read');
    const csv = await auditCsv(ctx, req, p, parse(auditQuery, req.query));
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="fluxel-audit.csv"')
      .send(csv);
  });

  app.post('/api/audit/verify', async (req) => {
    const p = await authorize(ctx, req, 'audit.read');
    return verifyAudit(ctx, req, p);
  });
}
