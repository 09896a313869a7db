/**
 * GDPR: consent records, data export, erasure with grace period and crypto-shredding. Thin:
 * authorize → parse → service (`service.ts`) → reply.
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
import type { AuditEvent, PrivacyTransform } from '@fluxel/audit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { type Context, requireReauth } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import { serveAll } from '../../server/route.ts';
import { portalAuditPrivacy, readableEvent } from './audit-privacy.ts';
import { privacyContract } from './contract.ts';
import { DEFAULT_GRACE_MS, runErasures, startErasureTimer } from './erasure.ts';
import { openPersonal, sealPersonal } from './person-keys.ts';
import { privacyService } from './service.ts';

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

  const service = privacyService(ctx, graceMs);

  const sendZip = (reply: FastifyReply, file: { fileName: string; zip: Uint8Array }) =>
    reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="${file.fileName}"`)
      .send(Buffer.from(file.zip));

  serveAll(app, ctx, privacyContract, {
    consents: async ({ principal }) => service.consentList(principal.user.id),
    decideConsent: async ({ req, principal, body }) => service.decideConsent(req, principal, body),
    export: async ({ req, reply, principal }) => {
      requireReauth(ctx, principal.session);
      return sendZip(reply, await service.exportOwn(req, principal));
    },
    exportFor: async ({ req, reply, principal, params }) => {
      requireReauth(ctx, principal.session);
      const target = await service.subject(req, principal, parse(idParams, params).id);
      return sendZip(reply, await service.exportFor(req, principal, target));
    },
    erasure: async ({ principal }) => service.statusOf(principal.user.id),
    requestErasure: async ({ req, reply, principal }) => {
      requireReauth(ctx, principal.session);
      await service.requestOwnErasure(req, principal);
      await ctx.sessions.end(req, reply);
      return service.statusOf(principal.user.id);
    },
    cancelByToken: async ({ req, body }) => service.cancelByToken(req, body.token),
    erasures: async ({ principal }) => ({ erasures: await service.scheduled(principal) }),
    scheduleFor: async ({ req, principal, params }) => {
      requireReauth(ctx, principal.session);
      const target = await service.subject(req, principal, parse(idParams, params).id);
      return service.scheduleFor(req, principal, target);
    },
    cancelFor: async ({ req, principal, params }) => {
      const target = await service.subject(req, principal, parse(idParams, params).id);
      return service.cancelFor(req, principal, target);
    },
  });
}
