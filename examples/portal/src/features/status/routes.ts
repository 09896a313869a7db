/**
 * Status page over HTTP (use cases in `service.ts`): public JSON for monitors
 * (`GET /api/status`, cacheable for a few seconds), the system view for administrators
 * (`GET /api/status/system`) and maintenance windows and security notes
 * (`POST/PUT/DELETE /api/status/maintenance[/:id]`, `…/notes[/:id]`, `status.manage`).
 */
import type { FastifyInstance } from 'fastify';
import { authorize, type Context } from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import { maintenanceBody, type SystemInfo, securityNoteBody } from './contract.ts';
import { STATUS_CACHE_SECONDS, StatusService } from './service.ts';

const WINDOW_ID = /^mw_[A-Za-z0-9_-]{1,32}$/;
const NOTE_ID = /^sn_[A-Za-z0-9_-]{1,32}$/;

export function statusRoutes(app: FastifyInstance, ctx: Context): void {
  const status = new StatusService(ctx);

  const windowInput = (value: unknown) => {
    const body = parse(maintenanceBody, value);
    return {
      title: body.title,
      body: body.body,
      startsAt: Date.parse(body.startsAt),
      endsAt: Date.parse(body.endsAt),
      components: body.components,
    };
  };

  const noteInput = (value: unknown) => {
    const body = parse(securityNoteBody, value);
    return {
      title: body.title,
      body: body.body,
      severity: body.severity,
      publishedAt: body.publishedAt ? Date.parse(body.publishedAt) : ctx.now(),
    };
  };

  app.get('/api/status', async (_req, reply) => {
    void reply.header(
      'cache-control',
      `public, max-age=${STATUS_CACHE_SECONDS}, stale-if-error=${STATUS_CACHE_SECONDS * 6}`,
    );
    return status.publicStatus();
  });

  app.get('/api/status/system', async (req): Promise<SystemInfo> => {
    await authorize(ctx, req, 'status.manage');
    return status.system();
  });

  app.post('/api/status/maintenance', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    return { maintenance: await status.createWindow(req, p, windowInput(req.body)) };
  });

  app.put<{ Params: { id: string } }>('/api/status/maintenance/:id', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!WINDOW_ID.test(req.params.id)) return fail(404, 'not_found', 'not found');
    const updated = await status.updateWindow(req, p, req.params.id, windowInput(req.body));
    if (!updated) return fail(404, 'not_found', 'not found');
    return { maintenance: updated };
  });

  app.delete<{ Params: { id: string } }>('/api/status/maintenance/:id', async (req, reply) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!WINDOW_ID.test(req.params.id) || !(await status.deleteWindow(req, p, req.params.id)))
      return fail(404, 'not_found', 'not found');
    return reply.code(204).send();
  });

  app.post('/api/status/notes', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    return { note: await status.createNote(req, p, noteInput(req.body)) };
  });

  app.put<{ Params: { id: string } }>('/api/status/notes/:id', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!NOTE_ID.test(req.params.id)) return fail(404, 'not_found', 'not found');
    const updated = await status.updateNote(req, p, req.params.id, noteInput(req.body));
    if (!updated) return fail(404, 'not_found', 'not found');
    return { note: updated };
  });

  app.delete<{ Params: { id: string } }>('/api/status/notes/:id', async (req, reply) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!NOTE_ID.test(req.params.id) || !(await status.deleteNote(req, p, req.params.id)))
      return fail(404, 'not_found', 'not found');
    return reply.code(204).send();
  });
}
