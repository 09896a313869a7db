/**
 * Status page: components (portal, relay, ACME certificate, relay mailbox), maintenance windows
 * announced by administrators and security notes; public JSON for monitors, a system view for
 * administrators. The public answer carries states, stable note codes and a few numbers —
 * never host names, versions or error texts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  authorize,
  type Context,
  OPERATOR_TENANT,
  type Principal,
  recordUserAction,
} from '../context.ts';
import { fail, parse } from '../http.ts';
import {
  type ComponentStatus,
  type MaintenanceWindow,
  maintenanceBody,
  type PublicStatus,
  type SecurityNote,
  type SystemInfo,
  securityNoteBody,
} from '../status/contract.ts';
import {
  acmeComponent,
  applyMaintenance,
  certificateInfo,
  overallState,
  probeDatabase,
  probeMailbox,
  probeRelay,
} from '../status/probes.ts';
import { statsOf } from '../status/relay-stats.ts';
import { StatusStore } from '../status/store.ts';

/** How long probe results and the public answer may be reused. */
export const STATUS_CACHE_SECONDS = 5;

const WINDOW_ID = /^mw_[A-Za-z0-9_-]{1,32}$/;
const NOTE_ID = /^sn_[A-Za-z0-9_-]{1,32}$/;

export function statusRoutes(app: FastifyInstance, ctx: Context): void {
  const store = new StatusStore(ctx.db, ctx.now);

  // Remote probes (relay, mailbox) are shared for a few seconds and never run twice at once,
  // so a monitor polling every second costs the relay one call per 5 s.
  let remote: { at: number; value: Promise<ComponentStatus[]> } | undefined;
  const remoteProbes = (): Promise<ComponentStatus[]> => {
    const now = Date.now();
    if (remote && now - remote.at < STATUS_CACHE_SECONDS * 1000) return remote.value;
    const value = Promise.all([
      probeRelay((tenant) => ctx.relay.list(tenant)),
      probeMailbox(statsOf(ctx.relay)),
    ]);
    remote = { at: now, value };
    return value;
  };

  const components = async (): Promise<ComponentStatus[]> => {
    const [portal, [relay, mailbox]] = await Promise.all([probeDatabase(ctx.db), remoteProbes()]);
    const acme = acmeComponent(certificateInfo(ctx.tls.current().cert, ctx.now()));
    return [portal, relay as ComponentStatus, acme, mailbox as ComponentStatus];
  };

  const lists = async (): Promise<{ windows: MaintenanceWindow[]; notes: SecurityNote[] }> => {
    try {
      const [windows, notes] = await Promise.all([store.currentAndUpcoming(), store.recentNotes()]);
      return { windows, notes };
    } catch {
      // The database is down: the portal component says so; the lists stay empty.
      return { windows: [], notes: [] };
    }
  };

  const publicStatus = async (): Promise<PublicStatus> => {
    const [probed, { windows, notes }] = await Promise.all([components(), lists()]);
    const shown = applyMaintenance(probed, windows);
    return {
      state: overallState(shown),
      checkedAt: new Date(ctx.now()).toISOString(),
      components: shown,
      maintenance: windows,
      securityNotes: notes,
    };
  };

  app.get('/api/status', async (_req, reply) => {
    void reply.header(
      'cache-control',
      `public, max-age=${STATUS_CACHE_SECONDS}, stale-if-error=${STATUS_CACHE_SECONDS * 6}`,
    );
    return publicStatus();
  });

  app.get('/api/status/system', async (req): Promise<SystemInfo> => {
    await authorize(ctx, req, 'status.manage');
    const { windows } = await lists();
    return {
      tls: certificateInfo(ctx.tls.current().cert, ctx.now()),
      node: process.version,
      uptimeSeconds: Math.floor(process.uptime()),
      database: ctx.db.kind,
      components: applyMaintenance(await components(), windows),
    };
  });

  // ------------------------------------------------------------ administration

  const audit = (
    req: FastifyRequest,
    p: Principal,
    action: string,
    target: { type: string; id: string },
    data?: Record<string, unknown>,
  ) => recordUserAction(ctx, req, p, action, OPERATOR_TENANT, target, data);

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

  const windowData = (w: MaintenanceWindow) => ({
    startsAt: w.startsAt,
    endsAt: w.endsAt,
    components: w.components,
  });

  app.post('/api/status/maintenance', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    const input = windowInput(req.body);
    const created = await store.createWindow(input, p.user.id);
    await audit(
      req,
      p,
      'status.maintenance.created',
      { type: 'maintenance', id: created.id },
      windowData(created),
    );
    return { maintenance: created };
  });

  app.put<{ Params: { id: string } }>('/api/status/maintenance/:id', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!WINDOW_ID.test(req.params.id)) return fail(404, 'not_found', 'not found');
    const input = windowInput(req.body);
    const updated = await store.updateWindow(req.params.id, input);
    if (!updated) return fail(404, 'not_found', 'not found');
    await audit(
      req,
      p,
      'status.maintenance.updated',
      { type: 'maintenance', id: updated.id },
      windowData(updated),
    );
    return { maintenance: updated };
  });

  app.delete<{ Params: { id: string } }>('/api/status/maintenance/:id', async (req, reply) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!WINDOW_ID.test(req.params.id) || !(await store.deleteWindow(req.params.id)))
      return fail(404, 'not_found', 'not found');
    await audit(req, p, 'status.maintenance.deleted', { type: 'maintenance', id: req.params.id });
    return reply.code(204).send();
  });

  app.post('/api/status/notes', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    const created = await store.createNote(noteInput(req.body), p.user.id);
    await audit(
      req,
      p,
      'status.note.created',
      { type: 'security-note', id: created.id },
      { severity: created.severity },
    );
    return { note: created };
  });

  app.put<{ Params: { id: string } }>('/api/status/notes/:id', async (req) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!NOTE_ID.test(req.params.id)) return fail(404, 'not_found', 'not found');
    const updated = await store.updateNote(req.params.id, noteInput(req.body));
    if (!updated) return fail(404, 'not_found', 'not found');
    await audit(
      req,
      p,
      'status.note.updated',
      { type: 'security-note', id: updated.id },
      { severity: updated.severity },
    );
    return { note: updated };
  });

  app.delete<{ Params: { id: string } }>('/api/status/notes/:id', async (req, reply) => {
    const p = await authorize(ctx, req, 'status.manage');
    if (!NOTE_ID.test(req.params.id) || !(await store.deleteNote(req.params.id)))
      return fail(404, 'not_found', 'not found');
    await audit(req, p, 'status.note.deleted', { type: 'security-note', id: req.params.id });
    return reply.code(204).send();
  });
}
