/**
 * ADV / DPA: versioned agreement, digital acceptance, PDF, re-acceptance; processing register
 * (Verarbeitungsverzeichnis). Thin: authorize → parse → service → reply (`service.ts`).
 *
 * - `GET  /api/adv[?locale=de|en]` — current version (text in the user's language), the tenant's
 *   acceptance state and history, `needsAcceptance`.
 * - `GET  /api/adv/status` — `{needsAcceptance, currentVersion?, acceptedVersion?}` (for banners).
 * - `POST /api/adv/accept {version, locale?, textSha256?}` (`adv.accept`) — the current version
 *   only; records who, when, which version, the text's SHA-256, IP and user agent; audited as
 *   `adv.accepted`. Idempotent: accepting an accepted version answers 200 with the existing
 *   record (`created: false`) and no second audit event; a new acceptance answers 201.
 * - `GET  /api/adv/acceptances/:id/pdf` — the PDF; users of that tenant and administrators only
 *   (404 otherwise, audited as `access.denied`).
 * - `GET  /api/adv/tenants` (`adv.publish`) — every customer/partner tenant and its state.
 * - `POST /api/adv/versions {id, textDe, textEn}` (`adv.publish`, re-authentication) — publishes
 *   a new version at once (stored in the database); every tenant then needs to accept again, and
 *   the key users and partners get an e-mail. Versions can also ship in `data/adv/versions.json`
 *   (they become current on their `publishedAt` day).
 * - `GET  /api/register` (`register.read`) — the processing register from
 *   `data/processing-register.json`, validated at load.
 */
import type { FastifyInstance } from 'fastify';
import { type Context, requireReauth } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { agreementFiles } from './agreements.ts';
import { advContract, type ProcessingRegister } from './contract.ts';
import { loadRegister } from './register.ts';
import {
  accept,
  acceptanceDocument,
  advState,
  advStatus,
  publish,
  tenantAcceptances,
  tenantsOverview,
} from './service.ts';

/** A new version carries both full texts: more than the portal's default body limit. */
const PUBLISH_BODY_LIMIT = 1024 * 1024;

export function advRoutes(app: FastifyInstance, ctx: Context): void {
  // Both files are validated now: a broken file stops the portal at start, not at first use.
  agreementFiles();
  const register: ProcessingRegister = loadRegister();

  app.addHook('onRoute', (options) => {
    const { method, path } = advContract.publish;
    if (options.method === method && options.url === path) options.bodyLimit = PUBLISH_BODY_LIMIT;
  });

  serveAll(app, ctx, advContract, {
    state: async ({ principal, query }) => advState(ctx, principal.user, query.locale),
    status: async ({ principal }) => advStatus(ctx, principal.user),
    accept: async ({ req, reply, principal, body }) => {
      const result = await accept(ctx, req, principal, body);
      reply.code(result.created ? 201 : 200);
      return result;
    },
    pdf: async ({ req, reply, principal, params }) => {
      const { fileName, pdf } = await acceptanceDocument(ctx, req, principal.user, params.id);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${fileName}"`)
        .send(Buffer.from(pdf));
    },
    acceptances: async ({ principal }) => ({
      acceptances: await tenantAcceptances(ctx, principal.user),
    }),
    tenants: async () => ({ tenants: await tenantsOverview(ctx) }),
    publish: async ({ req, reply, principal, body }) => {
      requireReauth(ctx, principal.session);
      const published = await publish(ctx, req, principal, body);
      reply.code(201);
      return published;
    },
    register: async () => register,
  });
}
