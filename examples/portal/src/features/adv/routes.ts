/**
 * ADV / DPA: versioned agreement, digital acceptance, PDF, re-acceptance; processing register
 * (Verarbeitungsverzeichnis).
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
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  authorize,
  type Context,
  principal,
  record,
  requireReauth,
  tenantById,
  type UserRecord,
} from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import { ROLE_SCOPE } from '../../shared/permissions.ts';
import {
  agreementFiles,
  allVersions,
  currentVersion,
  normaliseText,
  sha256Hex,
  versionById,
  versionInfo,
} from './agreements.ts';
import {
  type AdvAcceptance,
  type AdvLocale,
  type AdvState,
  type AdvStatus,
  type AdvTenantRow,
  acceptBody,
  advLocale,
  type ProcessingRegister,
  publishBody,
} from './contract.ts';
import { agreementTitle } from './markdown.ts';
import { acceptancePdf } from './pdf.ts';
import { loadRegister } from './register.ts';

const ACCEPTANCE_COLUMNS = `a.id, a.tenant_id, t.name AS tenant_name, a.version, a.locale, a.text_sha256,
  a.user_id, a.user_name, a.accepted_at, a.ip, a.user_agent`;

function toAcceptance(r: Record<string, unknown>): AdvAcceptance {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    tenantName: String(r.tenant_name ?? r.tenant_id),
    version: String(r.version),
    locale: r.locale === 'en' ? 'en' : 'de',
    textSha256: String(r.text_sha256),
    acceptedAt: new Date(Number(r.accepted_at)).toISOString(),
    acceptedBy: { id: String(r.user_id), name: String(r.user_name) },
    ip: String(r.ip),
    userAgent: String(r.user_agent),
  };
}

export function advRoutes(app: FastifyInstance, ctx: Context): void {
  // Both files are validated now: a broken file stops the portal at start, not at first use.
  agreementFiles();
  const register: ProcessingRegister = loadRegister();

  const history = async (tenantId: string): Promise<AdvAcceptance[]> => {
    const { rows } = await ctx.db.query(
      `SELECT ${ACCEPTANCE_COLUMNS} FROM portal_adv_acceptances a
       JOIN portal_tenants t ON t.id = a.tenant_id
       WHERE a.tenant_id = $1 ORDER BY a.accepted_at DESC, a.id`,
      [tenantId],
    );
    return rows.map(toAcceptance);
  };

  const localeOf = (req: FastifyRequest, user: UserRecord): AdvLocale => {
    const asked = advLocale.safeParse((req.query as { locale?: unknown } | undefined)?.locale);
    return asked.success ? asked.data : user.locale;
  };

  // ------------------------------------------------------------ state

  app.get('/api/adv', async (req): Promise<AdvState> => {
    const { user } = await principal(ctx, req);
    const tenant = await tenantById(ctx, user.tenantId);
    if (!tenant) return fail(404, 'not_found', 'not found');
    const locale = localeOf(req, user);
    const now = ctx.now();
    const versions = await allVersions(ctx.db, now);
    const current = versions[versions.length - 1];
    const accepted = await history(tenant.id);
    const latest = accepted[0];
    const { operator } = agreementFiles();
    return {
      ...(current
        ? {
            current: {
              ...versionInfo(current),
              locale,
              // eslint-disable-next-line security/detect-object-injection -- locale is the advLocale enum (de|en)
              text: current.text[locale],
              // eslint-disable-next-line security/detect-object-injection -- locale is the advLocale enum (de|en)
              sha256: sha256Hex(current.text[locale]),
            },
          }
        : {}),
      versions: versions.map(versionInfo).reverse(),
      tenant: { id: tenant.id, name: tenant.name, kind: tenant.kind },
      operator: { name: operator.name, address: operator.address },
      ...(latest ? { acceptance: latest } : {}),
      needsAcceptance:
        tenant.kind !== 'operator' &&
        current !== undefined &&
        !accepted.some((a) => a.version === current.id),
      history: accepted,
    };
  });

  /** The few fields a banner needs (dashboard): no agreement text. */
  app.get('/api/adv/status', async (req): Promise<AdvStatus> => {
    const { user } = await principal(ctx, req);
    const tenant = await tenantById(ctx, user.tenantId);
    if (!tenant) return fail(404, 'not_found', 'not found');
    const current = await currentVersion(ctx.db, ctx.now());
    const accepted = await history(tenant.id);
    return {
      ...(current ? { currentVersion: current.id } : {}),
      ...(accepted[0] ? { acceptedVersion: accepted[0].version } : {}),
      needsAcceptance:
        tenant.kind !== 'operator' &&
        current !== undefined &&
        !accepted.some((a) => a.version === current.id),
    };
  });

  // ------------------------------------------------------------ accept

  app.post('/api/adv/accept', async (req, reply) => {
    const body = parse(acceptBody, req.body);
    const p = await authorize(ctx, req, 'adv.accept');
    const tenant = await tenantById(ctx, p.user.tenantId);
    if (!tenant || tenant.kind === 'operator')
      return fail(400, 'bad_request', 'the operator does not accept its own agreement');
    const current = await currentVersion(ctx.db, ctx.now());
    if (!current || current.id !== body.version)
      return fail(409, 'conflict', 'that is not the current version', {
        detail: current ? `current version: ${current.id}` : 'no version is published',
      });
    const locale = body.locale ?? p.user.locale;
    // eslint-disable-next-line security/detect-object-injection -- locale is the advLocale enum (de|en) from the body schema or the user record
    const textSha256 = sha256Hex(current.text[locale]);
    if (body.textSha256 !== undefined && body.textSha256 !== textSha256)
      return fail(409, 'conflict', 'the agreement text has changed; please read it again');
    const id = `adv_${randomBytes(9).toString('base64url')}`;
    const ip = req.ip;
    const userAgent = String(req.headers['user-agent'] ?? '').slice(0, 300);
    const inserted = await ctx.db.query(
      `INSERT INTO portal_adv_acceptances
         (id, tenant_id, version, locale, text_sha256, user_id, user_name, accepted_at, ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id, version) DO NOTHING RETURNING id`,
      [
        id,
        tenant.id,
        current.id,
        locale,
        textSha256,
        p.user.id,
        p.user.name,
        ctx.now(),
        ip,
        userAgent,
      ],
    );
    const created = inserted.rows.length > 0;
    const acceptance = (await history(tenant.id)).find((a) => a.version === current.id);
    if (!acceptance) return fail(500, 'internal', 'the acceptance was not stored');
    if (created)
      await record(ctx, req, {
        tenant: tenant.id,
        actor: { type: 'user', id: p.user.id },
        action: 'adv.accepted',
        outcome: 'success',
        target: { type: 'adv', id: current.id },
        data: { acceptanceId: acceptance.id, textSha256, locale, userName: p.user.name },
      });
    return reply.code(created ? 201 : 200).send({ acceptance, created });
  });

  // ------------------------------------------------------------ PDF

  app.get<{ Params: { id: string } }>('/api/adv/acceptances/:id/pdf', async (req, reply) => {
    const { user } = await principal(ctx, req);
    const id = req.params.id;
    const { rows } = /^adv_[A-Za-z0-9_-]{1,40}$/.test(id)
      ? await ctx.db.query(
          `SELECT ${ACCEPTANCE_COLUMNS} FROM portal_adv_acceptances a
           JOIN portal_tenants t ON t.id = a.tenant_id WHERE a.id = $1`,
          [id],
        )
      : { rows: [] };
    const row = rows[0];
    const acceptance = row ? toAcceptance(row) : undefined;
    if (!acceptance || (acceptance.tenantId !== user.tenantId && ROLE_SCOPE[user.role] !== 'all')) {
      await record(ctx, req, {
        tenant: user.tenantId,
        actor: { type: 'user', id: user.id },
        action: 'access.denied',
        outcome: 'denied',
        target: { type: 'adv-acceptance', id: id.slice(0, 100) },
        reason: acceptance ? 'tenant out of scope' : 'no such acceptance',
      });
      return fail(404, 'not_found', 'not found');
    }
    const version = await versionById(ctx.db, acceptance.version);
    if (!version) return fail(404, 'not_found', 'the agreement version is gone');
    const text = version.text[acceptance.locale];
    const { operator } = agreementFiles();
    const pdf = await acceptancePdf({
      locale: acceptance.locale,
      text,
      operator,
      tenant: { id: acceptance.tenantId, name: acceptance.tenantName },
      acceptance: { ...acceptance, publishedAt: version.publishedAt },
    });
    const name = `ADV-${acceptance.tenantId}-${acceptance.version}.pdf`.replace(
      /[^A-Za-z0-9._-]/g,
      '_',
    );
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Buffer.from(pdf));
  });

  app.get('/api/adv/acceptances', async (req) => {
    const { user } = await principal(ctx, req);
    return { acceptances: await history(user.tenantId) };
  });

  // ------------------------------------------------------------ administrators

  app.get('/api/adv/tenants', async (req): Promise<{ tenants: AdvTenantRow[] }> => {
    await authorize(ctx, req, 'adv.publish');
    const current = await currentVersion(ctx.db, ctx.now());
    const { rows: tenants } = await ctx.db.query(
      "SELECT id, name, kind FROM portal_tenants WHERE kind <> 'operator' ORDER BY name",
    );
    const { rows } = await ctx.db.query(
      `SELECT ${ACCEPTANCE_COLUMNS} FROM portal_adv_acceptances a
       JOIN portal_tenants t ON t.id = a.tenant_id ORDER BY a.accepted_at DESC, a.id`,
    );
    const all = rows.map(toAcceptance);
    return {
      tenants: tenants.map((t) => {
        const mine = all.filter((a) => a.tenantId === String(t.id));
        const latest = mine[0];
        return {
          tenantId: String(t.id),
          tenantName: String(t.name),
          kind: String(t.kind),
          ...(latest ? { acceptance: latest } : {}),
          needsAcceptance: current !== undefined && !mine.some((a) => a.version === current.id),
        };
      }),
    };
  });

  app.post('/api/adv/versions', { bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const body = parse(publishBody, req.body);
    const p = await authorize(ctx, req, 'adv.publish');
    requireReauth(ctx, p.session);
    if (await versionById(ctx.db, body.id))
      return fail(409, 'conflict', 'a version with that id exists');
    const textDe = normaliseText(body.textDe);
    const textEn = normaliseText(body.textEn);
    const publishedAt = ctx.now();
    const inserted = await ctx.db.query(
      `INSERT INTO portal_adv_versions (id, published_at, published_by, text_de, text_en, sha256_de, sha256_en)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [body.id, publishedAt, p.user.id, textDe, textEn, sha256Hex(textDe), sha256Hex(textEn)],
    );
    if (inserted.rows.length === 0) return fail(409, 'conflict', 'a version with that id exists');
    // Ask everyone who may accept to do so again (best effort; the portal banner asks anyway).
    const { rows: recipients } = await ctx.db.query(
      `SELECT u.email, u.name, t.name AS tenant_name FROM portal_users u
       JOIN portal_tenants t ON t.id = u.tenant_id
       WHERE u.status = 'active' AND u.role IN ('key-user', 'partner') AND t.kind <> 'operator'`,
    );
    const link = `${ctx.origin()}/adv`;
    const title = agreementTitle(textDe, 'Auftragsverarbeitungsvertrag');
    const sent = await Promise.allSettled(
      recipients.map((r) =>
        ctx.mail.send({
          to: String(r.email),
          subject: `Neue Fassung des AV-Vertrags / New version of the DPA (${body.id})`,
          text: `Hallo ${String(r.name)},\n\nwir haben eine neue Fassung (${body.id}) veröffentlicht: „${title}“. Bitte lesen und nehmen Sie sie für ${String(r.tenant_name)} im Portal an:\n${link}\n\nWe have published a new version (${body.id}) of the data processing agreement. Please read and accept it for ${String(r.tenant_name)} in the portal:\n${link}\n`,
        }),
      ),
    );
    const notified = sent.filter((s) => s.status === 'fulfilled').length;
    await record(ctx, req, {
      tenant: p.user.tenantId,
      actor: { type: 'user', id: p.user.id },
      action: 'adv.published',
      outcome: 'success',
      target: { type: 'adv', id: body.id },
      data: { sha256De: sha256Hex(textDe), sha256En: sha256Hex(textEn), notified },
    });
    return reply.code(201).send({
      version: {
        id: body.id,
        publishedAt: new Date(publishedAt).toISOString(),
        source: 'published',
      },
      notified,
    });
  });

  // ------------------------------------------------------------ processing register

  app.get('/api/register', async (req) => {
    await authorize(ctx, req, 'register.read');
    return register;
  });
}
