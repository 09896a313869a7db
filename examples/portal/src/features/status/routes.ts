/**
 * Status page over HTTP: the routes of `statusContract`, each a call of `StatusService`
 * (authorize and parse are serveAll's). The public answer may be cached for a few seconds.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { serveAll } from '../../server/route.ts';
import type { BodyOf } from '../../shared/contract.ts';
import { statusContract } from './contract.ts';
import { STATUS_CACHE_SECONDS, StatusService } from './service.ts';
import type { MaintenanceInput, NoteInput } from './store.ts';

const WINDOW_ID = /^mw_[A-Za-z0-9_-]{1,32}$/;
const NOTE_ID = /^sn_[A-Za-z0-9_-]{1,32}$/;

export function statusRoutes(app: FastifyInstance, ctx: Context): void {
  const status = new StatusService(ctx);

  const windowInput = (body: BodyOf<typeof statusContract.createWindow>): MaintenanceInput => ({
    title: body.title,
    body: body.body,
    startsAt: Date.parse(body.startsAt),
    endsAt: Date.parse(body.endsAt),
    components: body.components,
  });

  const noteInput = (body: BodyOf<typeof statusContract.createNote>): NoteInput => ({
    title: body.title,
    body: body.body,
    severity: body.severity,
    publishedAt: body.publishedAt ? Date.parse(body.publishedAt) : ctx.now(),
  });

  serveAll(app, ctx, statusContract, {
    status: async ({ reply }) => {
      void reply.header(
        'cache-control',
        `public, max-age=${STATUS_CACHE_SECONDS}, stale-if-error=${STATUS_CACHE_SECONDS * 6}`,
      );
      return status.publicStatus();
    },
    system: async () => status.system(),
    createWindow: async ({ req, principal, body }) => ({
      maintenance: await status.createWindow(req, principal, windowInput(body)),
    }),
    updateWindow: async ({ req, principal, params, body }) => {
      if (!WINDOW_ID.test(params.id)) return fail(404, 'not_found', 'not found');
      const updated = await status.updateWindow(req, principal, params.id, windowInput(body));
      if (!updated) return fail(404, 'not_found', 'not found');
      return { maintenance: updated };
    },
    deleteWindow: async ({ req, principal, params }) => {
      if (!WINDOW_ID.test(params.id) || !(await status.deleteWindow(req, principal, params.id)))
        fail(404, 'not_found', 'not found');
    },
    createNote: async ({ req, principal, body }) => ({
      note: await status.createNote(req, principal, noteInput(body)),
    }),
    updateNote: async ({ req, principal, params, body }) => {
      if (!NOTE_ID.test(params.id)) return fail(404, 'not_found', 'not found');
      const updated = await status.updateNote(req, principal, params.id, noteInput(body));
      if (!updated) return fail(404, 'not_found', 'not found');
      return { note: updated };
    },
    deleteNote: async ({ req, principal, params }) => {
      if (!NOTE_ID.test(params.id) || !(await status.deleteNote(req, principal, params.id)))
        fail(404, 'not_found', 'not found');
    },
  });
}
