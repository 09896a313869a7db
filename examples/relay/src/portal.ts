/**
 * The portal's credential API (`/internal/portal/v1/…`): the portal — a separate service —
 * stores a tenant's third-party credentials through the relay's vault on behalf of an
 * authorised portal user, and lists their metadata. Never returns a value.
 *
 * Authentication is one bearer token shared by the relay and the portal, compared in
 * constant time; the portal has already authenticated and authorised its user (2FA, RBAC)
 * and names the user as `actor`, which the relay records. The relay still enforces what it
 * can check itself: the license belongs to the tenant the portal names, and is activated
 * (promise 3: no credentials before activation).
 */

import type { AuditEventInput } from '@fluxel/audit';
import type { LicenseStore } from '@fluxel/license';
import { ConnectionId, Credentials } from '@fluxel/relay-client/contract';
import { problemType } from '@fluxel-example/kit/problem';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bearerMatches } from './admin.ts';
import { HttpProblem } from './problem.ts';
import { SET_BY_DEVICE, type Vault } from './vault.ts';

export interface PortalApiOptions {
  /** Bearer token the portal presents (at least 32 characters). */
  readonly token: string;
}

export const PORTAL_PREFIX = '/internal/portal/v1';

const LicenseIdParam = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/);
/** Printable text without control characters. */
const Text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]+$/u);

const ListParams = z.strictObject({ licenseId: LicenseIdParam });
const TenantParams = z.strictObject({
  tenant: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
});
const ShredBody = z.strictObject({
  actor: z.strictObject({ id: Text(256), name: Text(256).optional() }),
  reason: Text(500).optional(),
});
const PutParams = z.strictObject({ licenseId: LicenseIdParam, connection: ConnectionId });
const NoQuery = z.strictObject({});
const PutBody = z.strictObject({
  tenant: Text(256),
  kind: Credentials.shape.kind,
  fields: Credentials.shape.fields,
  actor: z.strictObject({
    // 'device' is what a device-written row says; a user may not take that name.
    id: Text(256).refine((id) => id !== SET_BY_DEVICE, 'reserved'),
    name: Text(256).optional(),
  }),
});

interface PortalDeps {
  readonly options: PortalApiOptions;
  /** The license store read directly (not through a cache): state checks see the latest row. */
  readonly licenses: Pick<LicenseStore, 'get'>;
  readonly vault: Vault;
  readonly record: (event: AuditEventInput) => Promise<void>;
  readonly invalid: (where: string, error: z.ZodError) => HttpProblem;
  readonly now: () => number;
  /** Held mailbox events (not yet expired) and the age of the oldest, for the status page. */
  readonly mailboxStats: () => Promise<{ mailboxBacklog: number; oldestEventAgeSeconds: number }>;
}

/** Registers the portal routes on the relay's HTTPS server. */
export function registerPortalRoutes(app: FastifyInstance, deps: PortalDeps): void {
  if (typeof deps.options.token !== 'string' || deps.options.token.length < 32)
    throw new Error('the portal token must be at least 32 characters');
  const { licenses, vault, record, invalid } = deps;

  const parse = <T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> => {
    const result = schema.safeParse(value);
    if (!result.success) throw invalid(where, result.error);
    return result.data;
  };

  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    if (bearerMatches(deps.options.token, req.headers.authorization)) return;
    await record({
      tenant: 'unknown',
      actor: { type: 'service', id: 'anonymous', ip: req.ip },
      action: 'portal.request',
      outcome: 'denied',
      reason: 'missing or wrong bearer token',
      requestId: req.id,
    });
    reply.header('www-authenticate', 'Bearer');
    throw new HttpProblem(401, 'not authenticated', {
      type: problemType('relay', 'unauthenticated'),
      code: 'ERR_UNAUTHENTICATED',
    });
  };

  const jsonBody = (req: FastifyRequest): unknown => {
    const raw = req.body instanceof Buffer ? req.body : undefined;
    if (!raw?.length) return undefined;
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpProblem(400, 'body is not JSON', { code: 'ERR_VALIDATION' });
    }
  };

  const licenseOf = async (licenseId: string) => {
    const license = await licenses.get(licenseId);
    if (!license)
      throw new HttpProblem(404, 'no such license', {
        type: problemType('relay', 'license-not-found'),
        code: 'ERR_LICENSE_NOT_FOUND',
      });
    return license;
  };

  // Counts only: how many events wait in the mailbox and how old the oldest is.
  app.get(`${PORTAL_PREFIX}/stats`, { onRequest: authenticate }, async (req, reply) => {
    parse(NoQuery, req.query, 'query');
    return reply.send(await deps.mailboxStats());
  });

  app.get(
    `${PORTAL_PREFIX}/licenses/:licenseId/connections`,
    { onRequest: authenticate },
    async (req, reply) => {
      const { licenseId } = parse(ListParams, req.params, 'params');
      parse(NoQuery, req.query, 'query');
      if (jsonBody(req) !== undefined)
        throw new HttpProblem(400, 'this route takes no body', { code: 'ERR_VALIDATION' });
      await licenseOf(licenseId);
      return reply.send({ connections: await vault.metadata(licenseId) });
    },
  );

  app.put(
    `${PORTAL_PREFIX}/licenses/:licenseId/connections/:connection/credentials`,
    { onRequest: authenticate },
    async (req, reply) => {
      const { licenseId, connection } = parse(PutParams, req.params, 'params');
      parse(NoQuery, req.query, 'query');
      const body = parse(PutBody, jsonBody(req), 'body');
      const license = await licenseOf(licenseId);
      const actor = {
        type: 'user' as const,
        id: body.actor.id,
        ...(body.actor.name ? { name: body.actor.name } : {}),
        ip: req.ip,
      };
      const fields = Object.keys(body.fields);
      const audited = (outcome: 'success' | 'denied', reason?: string) =>
        record({
          tenant: license.tenant,
          actor,
          action: 'credentials.set',
          target: { type: 'connection', id: connection },
          outcome,
          ...(reason ? { reason } : {}),
          requestId: req.id,
          data: { license: license.id, kind: body.kind, fields, via: 'portal' },
        });
      if (body.tenant !== license.tenant) {
        await audited('denied', 'license-tenant-mismatch');
        throw new HttpProblem(403, 'the license does not belong to this tenant', {
          type: problemType('relay', 'license-tenant-mismatch'),
          code: 'ERR_LICENSE_TENANT_MISMATCH',
        });
      }
      const expired = license.expiresAt !== null && license.expiresAt <= deps.now();
      if (license.state !== 'active' || license.locked || expired) {
        const why = license.locked ? 'locked' : expired ? 'expired' : license.state;
        await audited('denied', `license-not-active: ${why}`);
        throw new HttpProblem(409, 'the license is not activated', {
          type: problemType('relay', 'license-not-active'),
          code: 'ERR_LICENSE_NOT_ACTIVE',
          detail: `license status: ${why}`,
        });
      }
      await vault.put(
        { licenseId: license.id, tenant: license.tenant },
        connection,
        { kind: body.kind, fields: body.fields },
        body.actor.id,
      );
      await audited('success');
      return reply.code(204).send();
    },
  );

  // Crypto-shredding of a tenant (the portal's erasure of a customer): its key is destroyed,
  // so every credential and held event of the tenant is unreadable here and in every backup.
  app.delete(
    `${PORTAL_PREFIX}/tenants/:tenant/key`,
    { onRequest: authenticate },
    async (req, reply) => {
      const { tenant } = parse(TenantParams, req.params, 'params');
      parse(NoQuery, req.query, 'query');
      const body = parse(ShredBody, jsonBody(req), 'body');
      await vault.shred(tenant);
      await record({
        tenant,
        actor: {
          type: 'user',
          id: body.actor.id,
          ...(body.actor.name ? { name: body.actor.name } : {}),
          ip: req.ip,
        },
        action: 'tenant.shred',
        target: { type: 'tenant', id: tenant },
        outcome: 'success',
        ...(body.reason ? { reason: body.reason } : {}),
        requestId: req.id,
      });
      return reply.code(204).send();
    },
  );
}
