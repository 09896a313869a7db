/**
 * Privacy use cases (GDPR): consents per purpose, the data export (own, or an administrator's
 * for a user), erasure with a grace period (own or by an administrator; cancelled by the mailed
 * link or an administrator). Every step is audited; SQL lives in the stores.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { type Context, type Principal, record, requireTenant } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { reachableTenants } from '../tenants/store.ts';
import { scheduledErasures, type UserRecord, userById } from '../users/store.ts';
import type { ConsentBody, ConsentList, ErasureRow, ErasureStatus } from './contract.ts';
import { cancelErasure, scheduleErasure } from './erasure.ts';
import { collectPersonData, exportZip } from './export.ts';
import { erasureScheduledMail } from './mails.ts';
import { sealPersonal } from './person-keys.ts';
import { PURPOSES, purposeById } from './purposes.ts';
import { type AuditQueryable, consentsOf, erasureOf, insertConsent } from './store.ts';

const iso = (ms: number) => new Date(ms).toISOString();

type AuditExtra = {
  tenant?: string;
  target?: { type: string; id: string };
  data?: Record<string, unknown>;
};

/** The privacy use cases; `graceMs`: how long an erasure waits before it runs. */
export function privacyService(ctx: Context, graceMs: number) {
  const audit = (req: FastifyRequest, p: Principal, action: string, extra: AuditExtra = {}) =>
    record(ctx, req, {
      tenant: extra.tenant ?? p.user.tenantId,
      actor: { type: 'user', id: p.user.id },
      action,
      outcome: 'success',
      ...(extra.target ? { target: extra.target } : {}),
      ...(extra.data ? { data: extra.data } : {}),
    });

  const consentList = async (userId: string): Promise<ConsentList> => {
    const history = (await consentsOf(ctx.db, userId)).map((r) => ({
      purpose: r.purpose,
      version: r.version,
      granted: r.granted,
      at: iso(r.at),
      source: r.source,
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

  const statusOf = async (userId: string): Promise<ErasureStatus> => {
    const row = await erasureOf(ctx.db, userId);
    const graceDays = Math.round(graceMs / 86_400_000);
    if (!row) return { userId, state: 'none', graceDays };
    return {
      userId,
      state: row.state,
      graceDays,
      ...(row.requestedAt !== undefined ? { requestedAt: iso(row.requestedAt) } : {}),
      ...(row.state === 'scheduled' && row.dueAt !== undefined ? { dueAt: iso(row.dueAt) } : {}),
    };
  };

  const notify = async (user: UserRecord, dueAt: number, token: string) => {
    try {
      await ctx.mail.send(
        erasureScheduledMail(user.email, dueAt, `${ctx.origin()}/privacy/cancel/${token}`),
      );
    } catch {
      // The erasure stands; an administrator can still cancel it.
    }
  };

  const exportOf = async (user: UserRecord) => {
    const store = ctx.audit.store as unknown as Partial<AuditQueryable>;
    if (typeof store.query !== 'function') return fail(500, 'internal', 'audit log not queryable');
    const data = await collectPersonData(ctx, store as AuditQueryable, user);
    return {
      fileName: `fluxel-data-${data.exportedAt.slice(0, 10)}.zip`,
      zip: exportZip(data),
    };
  };

  return {
    consentList,
    statusOf,

    /** Records a consent decision (the evidence sealed under the person's key); idempotent. */
    async decideConsent(req: FastifyRequest, p: Principal, body: ConsentBody) {
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
      await insertConsent(ctx.db, {
        id,
        userId: p.user.id,
        purpose: purpose.id,
        version: purpose.version,
        granted: body.granted,
        at: ctx.now(),
        evidence,
      });
      await audit(req, p, body.granted ? 'privacy.consent.granted' : 'privacy.consent.withdrawn', {
        target: { type: 'consent', id },
        data: { purpose: purpose.id, version: purpose.version },
      });
      return consentList(p.user.id);
    },

    /** The signed-in person's own export (audited). */
    async exportOwn(req: FastifyRequest, p: Principal) {
      await audit(req, p, 'privacy.exported', { target: { type: 'user', id: p.user.id } });
      return exportOf(p.user);
    },

    /** An administrator's export for `target` (audited in the target's tenant). */
    async exportFor(req: FastifyRequest, p: Principal, target: UserRecord) {
      await audit(req, p, 'privacy.exported', {
        tenant: target.tenantId,
        target: { type: 'user', id: target.id },
        data: { onBehalf: true },
      });
      return exportOf(target);
    },

    /** A user an administrator may act on: exists, in a reachable tenant (else 404). */
    async subject(req: FastifyRequest, p: Principal, id: string): Promise<UserRecord> {
      const target = await userById(ctx.db, id);
      if (!target) return fail(404, 'not_found', 'not found');
      await requireTenant(ctx, req, p.user, target.tenantId);
      return target;
    },

    /** Schedules the person's own erasure (the caller then ends the session). */
    async requestOwnErasure(req: FastifyRequest, p: Principal): Promise<void> {
      const scheduled = await scheduleErasure(ctx, p.user, p.user.id, graceMs);
      if (!scheduled) return fail(409, 'conflict', 'an erasure is already scheduled');
      await audit(req, p, 'privacy.erasure.scheduled', {
        target: { type: 'user', id: p.user.id },
        data: { dueAt: iso(scheduled.dueAt) },
      });
      await notify(p.user, scheduled.dueAt, scheduled.cancelToken);
    },

    /** Cancels by the mailed link (no session): audited as the person's own action. */
    async cancelByToken(req: FastifyRequest, token: string): Promise<void> {
      const userId = await cancelErasure(ctx, { token }, 'self');
      if (!userId) return fail(404, 'token_invalid', 'the link is not valid (any more)');
      const user = await userById(ctx.db, userId);
      await record(ctx, req, {
        tenant: user?.tenantId ?? 'fluxel-operator',
        actor: { type: 'user', id: userId },
        action: 'privacy.erasure.cancelled',
        outcome: 'success',
        target: { type: 'user', id: userId },
      });
    },

    /** The scheduled erasures in the tenants the administrator reaches. */
    async scheduled(p: Principal): Promise<ErasureRow[]> {
      const tenants = (await reachableTenants(ctx.db, p.user)).map((t) => t.id);
      return (await scheduledErasures(ctx.db, tenants)).map((r) => ({
        userId: r.userId,
        email: r.email,
        name: r.name,
        tenantId: r.tenantId,
        requestedAt: iso(r.requestedAt),
        dueAt: iso(r.dueAt),
        requestedBy: r.requestedBy === r.userId ? 'self' : 'admin',
      }));
    },

    /** An administrator schedules `target`'s erasure (not their own: that is the privacy page). */
    async scheduleFor(req: FastifyRequest, p: Principal, target: UserRecord) {
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
    },

    async cancelFor(req: FastifyRequest, p: Principal, target: UserRecord) {
      const cancelled = await cancelErasure(ctx, { userId: target.id }, p.user.id);
      if (!cancelled) return fail(409, 'conflict', 'no erasure is scheduled');
      await audit(req, p, 'privacy.erasure.cancelled', {
        tenant: target.tenantId,
        target: { type: 'user', id: target.id },
      });
      return statusOf(target.id);
    },
  };
}

export type PrivacyService = ReturnType<typeof privacyService>;
