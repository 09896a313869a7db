/**
 * GDPR: consent records, data export, erasure with grace period and crypto-shredding.
 *
 * - `GET/POST /api/privacy/consents` — own consents per purpose (`privacy.self`);
 * - `GET /api/privacy/export` — own data as a zip (re-authentication first);
 *   `POST /api/privacy/users/:id/export` — an administrator's export for a user (`privacy.manage`);
 * - `GET/POST /api/privacy/erasure` — own erasure status / request (re-authentication first);
 *   `POST /api/privacy/erasure/cancel { token }` — cancel by the mailed link (no session needed);
 *   `GET /api/privacy/erasures`, `POST /api/privacy/users/:id/erasure[/cancel]` — administrators.
 *
 * A timer runs the due erasures (`runErasures`) every 15 minutes while the server is up.
 */
import { randomBytes } from 'node:crypto';
import type { AuditEvent, PrivacyTransform } from '@fluxel/audit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  authorize,
  type Context,
  type Principal,
  reachableTenants,
  record,
  requireReauth,
  requireTenant,
  type UserRecord,
  userById,
} from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import { portalAuditPrivacy, readableEvent } from './audit-privacy.ts';
import {
  type ConsentList,
  cancelErasureBody,
  consentBody,
  type ErasureRow,
  type ErasureStatus,
} from './contract.ts';
import {
  cancelErasure,
  DEFAULT_GRACE_MS,
  runErasures,
  scheduleErasure,
  startErasureTimer,
} from './erasure.ts';
import { type AuditQueryable, collectPersonData, exportZip } from './export.ts';
import { openPersonal, sealPersonal } from './person-keys.ts';
import { PURPOSES, purposeById } from './purposes.ts';

export { runErasures };

/** What the privacy feature offers the host app (timers, tests, scripts) on `app.privacy`. */
export interface PrivacyHandle {
  /** Runs the erasures due at `now` (default: the portal's clock); returns the erased ids. */
  runErasures(now?: number): Promise<string[]>;
  sealPersonal(userId: string, field: string, value: string): Promise<string>;
  openPersonal(userId: string, field: string, text: string): Promise<string>;
  /** The audit log's privacy transform (see `privacy/audit-privacy.ts`), and its reader. */
  auditPrivacy(pseudonymKey: Uint8Array): PrivacyTransform;
  readableEvent(event: AuditEvent): Promise<AuditEvent>;
}

declare module 'fastify' {
  interface FastifyInstance {
    privacy: PrivacyHandle;
  }
}

export interface PrivacyOptions {
  /** Grace period before an erasure runs; default 30 days (`PORTAL_ERASURE_GRACE_DAYS`). */
  readonly graceMs?: number;
  /** How often due erasures are run; default 15 min, 0 = never (`PORTAL_ERASURE_INTERVAL_MS`). */
  readonly intervalMs?: number;
}

const iso = (ms: number | null | undefined) =>
  ms == null ? undefined : new Date(Number(ms)).toISOString();

function envNumber(name: string): number | undefined {
  // eslint-disable-next-line security/detect-object-injection -- name is a constant of this file, not request data
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

const idParams = z.object({ id: z.string().min(1).max(100) });

export function privacyRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: PrivacyOptions = {},
): void {
  const graceDaysEnv = envNumber('PORTAL_ERASURE_GRACE_DAYS');
  const graceMs =
    options.graceMs ?? (graceDaysEnv !== undefined ? graceDaysEnv * 86_400_000 : DEFAULT_GRACE_MS);
  const intervalMs = options.intervalMs ?? envNumber('PORTAL_ERASURE_INTERVAL_MS') ?? 15 * 60_000;

  app.decorate('privacy', {
    runErasures: (now?: number) => runErasures(ctx, now ?? ctx.now()),
    sealPersonal: (userId: string, field: string, value: string) =>
      sealPersonal(ctx, userId, field, value),
    openPersonal: (userId: string, field: string, text: string) =>
      openPersonal(ctx, userId, field, text),
    auditPrivacy: (pseudonymKey: Uint8Array) => portalAuditPrivacy(ctx, pseudonymKey),
    readableEvent: (event: AuditEvent) => readableEvent(ctx, event),
  } satisfies PrivacyHandle);

  let stopTimer = () => {};
  app.addHook('onReady', async () => {
    stopTimer = startErasureTimer(ctx, intervalMs, (error) =>
      app.log.error({ err: { message: (error as Error).message } }, 'erasure run failed'),
    );
  });
  app.addHook('onClose', async () => stopTimer());

  const audit = (
    req: FastifyRequest,
    p: Principal,
    action: string,
    extra: {
      tenant?: string;
      target?: { type: string; id: string };
      data?: Record<string, unknown>;
    } = {},
  ) =>
    record(ctx, req, {
      tenant: extra.tenant ?? p.user.tenantId,
      actor: { type: 'user', id: p.user.id },
      action,
      outcome: 'success',
      ...(extra.target ? { target: extra.target } : {}),
      ...(extra.data ? { data: extra.data } : {}),
    });

  // ------------------------------------------------------------ consents

  const consentList = async (userId: string): Promise<ConsentList> => {
    const { rows } = await ctx.db.query(
      'SELECT purpose, version, granted, at, source FROM portal_consents WHERE user_id = $1 ORDER BY at, id',
      [userId],
    );
    const history = rows.map((r) => ({
      purpose: String(r.purpose),
      version: String(r.version),
      granted: Boolean(r.granted),
      at: iso(Number(r.at)) as string,
      source: String(r.source) as 'web' | 'api' | 'admin',
    }));
    return {
      consents: PURPOSES.map((p) => {
        const last = history.filter((h) => h.purpose === p.id).at(-1);
        return {
          purpose: p.id,
          version: p.version,
          title: p.title,
          text: p.text,
          // A consent counts only for the text version it was given to.
          granted: last?.granted === true && last.version === p.version,
          ...(last ? { decidedVersion: last.version, decidedAt: last.at } : {}),
        };
      }),
      history,
    };
  };

  app.get('/api/privacy/consents', async (req) => {
    const p = await authorize(ctx, req, 'privacy.self');
    return consentList(p.user.id);
  });

  app.post('/api/privacy/consents', async (req) => {
    const body = parse(consentBody, req.body);
    const p = await authorize(ctx, req, 'privacy.self');
    const purpose = purposeById(body.purpose);
    if (!purpose)
      return fail(400, 'bad_request', 'unknown purpose', {
        fields: [{ path: 'purpose', message: 'unknown purpose' }],
      });
    if (body.version !== purpose.version)
      return fail(409, 'conflict', 'the purpose text has changed; please read it again', {
        detail: `current version ${purpose.version}`,
      });
    const current = (await consentList(p.user.id)).consents.find((c) => c.purpose === purpose.id);
    if (current?.granted === body.granted && current.decidedVersion === purpose.version)
      return consentList(p.user.id);
    const id = `cns_${randomBytes(12).toString('base64url')}`;
    const evidence = await sealPersonal(
      ctx,
      p.user.id,
      'consent-evidence',
      JSON.stringify({
        ip: req.ip,
        userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200),
      }),
    );
    await ctx.db.query(
      `INSERT INTO portal_consents (id, user_id, purpose, version, granted, at, source, evidence)
       VALUES ($1, $2, $3, $4, $5, $6, 'web', $7)`,
      [id, p.user.id, purpose.id, purpose.version, body.granted, ctx.now(), evidence],
    );
    await audit(req, p, body.granted ? 'privacy.consent.granted' : 'privacy.consent.withdrawn', {
      target: { type: 'consent', id },
      data: { purpose: purpose.id, version: purpose.version },
    });
    return consentList(p.user.id);
  });

  // ------------------------------------------------------------ export

  const sendExport = async (reply: FastifyReply, user: UserRecord) => {
    const store = ctx.audit.store as unknown as Partial<AuditQueryable>;
    if (typeof store.query !== 'function') return fail(500, 'internal', 'audit log not queryable');
    const data = await collectPersonData(ctx, store as AuditQueryable, user);
    const day = data.exportedAt.slice(0, 10);
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="fluxel-data-${day}.zip"`)
      .send(Buffer.from(exportZip(data)));
  };

  app.get('/api/privacy/export', async (req, reply) => {
    const p = await authorize(ctx, req, 'privacy.self');
    requireReauth(ctx, p.session);
    await audit(req, p, 'privacy.exported', { target: { type: 'user', id: p.user.id } });
    return sendExport(reply, p.user);
  });

  /** A user an administrator may act on: exists, in a reachable tenant (else 404), not self. */
  const subject = async (req: FastifyRequest, p: Principal): Promise<UserRecord> => {
    const { id } = parse(idParams, req.params);
    const target = await userById(ctx, id);
    if (!target) return fail(404, 'not_found', 'not found');
    await requireTenant(ctx, req, p.user, target.tenantId);
    return target;
  };

  app.post('/api/privacy/users/:id/export', async (req, reply) => {
    const p = await authorize(ctx, req, 'privacy.manage');
    requireReauth(ctx, p.session);
    const target = await subject(req, p);
    await audit(req, p, 'privacy.exported', {
      tenant: target.tenantId,
      target: { type: 'user', id: target.id },
      data: { onBehalf: true },
    });
    return sendExport(reply, target);
  });

  // ------------------------------------------------------------ erasure

  const statusOf = async (userId: string): Promise<ErasureStatus> => {
    const { rows } = await ctx.db.query(
      'SELECT state, requested_at, due_at FROM portal_erasures WHERE user_id = $1',
      [userId],
    );
    const row = rows[0];
    const graceDays = Math.round(graceMs / 86_400_000);
    if (!row) return { userId, state: 'none', graceDays };
    return {
      userId,
      state: row.state as ErasureStatus['state'],
      graceDays,
      ...(iso(Number(row.requested_at)) ? { requestedAt: iso(Number(row.requested_at)) } : {}),
      ...(row.state === 'scheduled' ? { dueAt: iso(Number(row.due_at)) as string } : {}),
    } as ErasureStatus;
  };

  const notify = async (user: UserRecord, dueAt: number, token: string) => {
    const link = `${ctx.origin()}/privacy/cancel/${token}`;
    const day = new Date(dueAt).toISOString().slice(0, 10);
    try {
      await ctx.mail.send({
        to: user.email,
        subject: 'Löschung Ihres Fluxel-Kontos / Deletion of your Fluxel account',
        text: `Ihr Konto im Fluxel-Portal wurde gesperrt und wird am ${day} endgültig gelöscht.\nBis dahin können Sie die Löschung hier abbrechen: ${link}\n\nYour Fluxel portal account has been disabled and will be deleted for good on ${day}.\nUntil then you can cancel the deletion here: ${link}\n`,
      });
    } catch {
      // The erasure stands; an administrator can still cancel it.
    }
  };

  app.get('/api/privacy/erasure', async (req) => {
    const p = await authorize(ctx, req, 'privacy.self');
    return statusOf(p.user.id);
  });

  app.post('/api/privacy/erasure', async (req, reply) => {
    const p = await authorize(ctx, req, 'privacy.self');
    requireReauth(ctx, p.session);
    const scheduled = await scheduleErasure(ctx, p.user, p.user.id, graceMs);
    if (!scheduled) return fail(409, 'conflict', 'an erasure is already scheduled');
    await audit(req, p, 'privacy.erasure.scheduled', {
      target: { type: 'user', id: p.user.id },
      data: { dueAt: iso(scheduled.dueAt) },
    });
    await notify(p.user, scheduled.dueAt, scheduled.cancelToken);
    await ctx.sessions.end(req, reply);
    return statusOf(p.user.id);
  });

  app.post('/api/privacy/erasure/cancel', async (req, reply) => {
    const { token } = parse(cancelErasureBody, req.body);
    const userId = await cancelErasure(ctx, { token }, 'self');
    if (!userId) return fail(404, 'token_invalid', 'the link is not valid (any more)');
    const user = await userById(ctx, userId);
    await record(ctx, req, {
      tenant: user?.tenantId ?? 'fluxel-operator',
      actor: { type: 'user', id: userId },
      action: 'privacy.erasure.cancelled',
      outcome: 'success',
      target: { type: 'user', id: userId },
    });
    return reply.code(204).send();
  });

  app.get('/api/privacy/erasures', async (req) => {
    const p = await authorize(ctx, req, 'privacy.manage');
    const tenants = (await reachableTenants(ctx, p.user)).map((t) => t.id);
    const { rows } = await ctx.db.query(
      `SELECT e.user_id, e.requested_at, e.requested_by, e.due_at, u.email, u.name, u.tenant_id
       FROM portal_erasures e JOIN portal_users u ON u.id = e.user_id
       WHERE e.state = 'scheduled' AND u.tenant_id = ANY($1::text[]) ORDER BY e.due_at`,
      [tenants],
    );
    return {
      erasures: rows.map(
        (r): ErasureRow => ({
          userId: String(r.user_id),
          email: String(r.email),
          name: String(r.name),
          tenantId: String(r.tenant_id),
          requestedAt: iso(Number(r.requested_at)) as string,
          dueAt: iso(Number(r.due_at)) as string,
          requestedBy: r.requested_by === r.user_id ? 'self' : 'admin',
        }),
      ),
    };
  });

  app.post('/api/privacy/users/:id/erasure', async (req) => {
    const p = await authorize(ctx, req, 'privacy.manage');
    requireReauth(ctx, p.session);
    const target = await subject(req, p);
    if (target.id === p.user.id)
      return fail(409, 'conflict', 'request your own erasure on your privacy page');
    const scheduled = await scheduleErasure(ctx, target, p.user.id, graceMs);
    if (!scheduled) return fail(409, 'conflict', 'an erasure is already scheduled');
    await audit(req, p, 'privacy.erasure.scheduled', {
      tenant: target.tenantId,
      target: { type: 'user', id: target.id },
      data: { dueAt: iso(scheduled.dueAt), onBehalf: true },
    });
    await notify(target, scheduled.dueAt, scheduled.cancelToken);
    return statusOf(target.id);
  });

  app.post('/api/privacy/users/:id/erasure/cancel', async (req) => {
    const p = await authorize(ctx, req, 'privacy.manage');
    const target = await subject(req, p);
    const cancelled = await cancelErasure(ctx, { userId: target.id }, p.user.id);
    if (!cancelled) return fail(409, 'conflict', 'no erasure is scheduled');
    await audit(req, p, 'privacy.erasure.cancelled', {
      tenant: target.tenantId,
      target: { type: 'user', id: target.id },
    });
    return statusOf(target.id);
  });
}
