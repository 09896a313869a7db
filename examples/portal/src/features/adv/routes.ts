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
import { authorize, type Context, principal, requireReauth } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import { agreementFiles } from './agreements.ts';
import {
  type AdvState,
  type AdvStatus,
  type AdvTenantRow,
  acceptBody,
  advLocale,
  type ProcessingRegister,
  publishBody,
} from './contract.ts';
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

export function advRoutes(app: FastifyInstance, ctx: Context): void {
  // Both files are validated now: a broken file stops the portal at start, not at first use.
  agreementFiles();
  const register: ProcessingRegister = loadRegister();

  app.get('/api/adv', async (req): Promise<AdvState> => {
    const { user } = await principal(ctx, req);
    // An unknown `locale` falls back to the user's language rather than failing the page.
    const asked = advLocale.safeParse((req.query as { locale?: unknown } | undefined)?.locale);
    return advState(ctx, user, asked.success ? asked.data : undefined);
  });

  app.get('/api/adv/status', async (req): Promise<AdvStatus> => {
    const { user } = await principal(ctx, req);
    return advStatus(ctx, user);
  });

  app.post('/api/adv/accept', async (req, reply) => {
    const body = parse(acceptBody, req.body);
    const p = await authorize(ctx, req, 'adv.accept');
    const result = await accept(ctx, req, p, body);
    return reply.code(result.created ? 201 : 200).send(result);
  });

  app.get<{ Params: { id: string } }>('/api/adv/acceptances/:id/pdf', async (req, reply) => {
    const { user } = await principal(ctx, req);
    const { fileName, pdf } = await acceptanceDocument(ctx, req, user, req.params.id);
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${fileName}"`)
      .send(Buffer.from(pdf));
  });

  app.get('/api/adv/acceptances', async (req) => {
    const { user } = await principal(ctx, req);
    return { acceptances: await tenantAcceptances(ctx, user) };
  });

  app.get('/api/adv/tenants', async (req): Promise<{ tenants: AdvTenantRow[] }> => {
    await authorize(ctx, req, 'adv.publish');
    return { tenants: await tenantsOverview(ctx) };
  });

  app.post('/api/adv/versions', { bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const body = parse(publishBody, req.body);
    const p = await authorize(ctx, req, 'adv.publish');
    requireReauth(ctx, p.session);
    return reply.code(201).send(await publish(ctx, req, p, body));
  });

  app.get('/api/register', async (req) => {
    await authorize(ctx, req, 'register.read');
    return register;
  });
}
