/**
 * ADV / DPA use cases: the tenant's state, acceptance (recorded, audited, idempotent), the PDF
 * (tenant-scoped, a denial audited), the administrators' overview and publication of a new
 * version (everyone who may accept is mailed). The rules live here; SQL in `store.ts`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  type Context,
  type Principal,
  record,
  recordDenied,
  recordUserAction,
} from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { ROLE_SCOPE } from '../../shared/permissions.ts';
import { customerAndPartnerTenants, tenantById } from '../tenants/store.ts';
import { advRecipients, type UserRecord } from '../users/store.ts';
import {
  agreementFiles,
  allVersions,
  currentVersion,
  normaliseText,
  sha256Hex,
  versionById,
  versionInfo,
} from './agreements.ts';
import type {
  AcceptBody,
  AdvAcceptance,
  AdvLocale,
  AdvState,
  AdvStatus,
  AdvTenantRow,
  AdvVersionInfo,
  PublishBody,
} from './contract.ts';
import { newVersionMail } from './mails.ts';
import { agreementTitle } from './markdown.ts';
import { acceptancePdf } from './pdf.ts';
import {
  acceptanceById,
  acceptancesOf,
  allAcceptances,
  insertAcceptance,
  insertVersion,
} from './store.ts';

/** The tenant still has to accept `current` (never the operator, which offers the agreement). */
const needsAcceptance = (
  kind: string,
  current: { id: string } | undefined,
  accepted: readonly AdvAcceptance[],
) =>
  kind !== 'operator' && current !== undefined && !accepted.some((a) => a.version === current.id);

async function tenantOf(ctx: Context, user: UserRecord) {
  const tenant = await tenantById(ctx.db, user.tenantId);
  if (!tenant) return fail(404, 'not_found', 'not found');
  return tenant;
}

/** The current version in `locale` (default the user's language), the tenant's acceptances. */
export async function advState(
  ctx: Context,
  user: UserRecord,
  asked: AdvLocale | undefined,
): Promise<AdvState> {
  const tenant = await tenantOf(ctx, user);
  const locale = asked ?? user.locale;
  const versions = await allVersions(ctx.db, ctx.now());
  const current = versions[versions.length - 1];
  const accepted = await acceptancesOf(ctx.db, tenant.id);
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
    needsAcceptance: needsAcceptance(tenant.kind, current, accepted),
    history: accepted,
  };
}

/** The few fields a banner needs (dashboard): no agreement text. */
export async function advStatus(ctx: Context, user: UserRecord): Promise<AdvStatus> {
  const tenant = await tenantOf(ctx, user);
  const current = await currentVersion(ctx.db, ctx.now());
  const accepted = await acceptancesOf(ctx.db, tenant.id);
  return {
    ...(current ? { currentVersion: current.id } : {}),
    ...(accepted[0] ? { acceptedVersion: accepted[0].version } : {}),
    needsAcceptance: needsAcceptance(tenant.kind, current, accepted),
  };
}

export const tenantAcceptances = (ctx: Context, user: UserRecord): Promise<AdvAcceptance[]> =>
  acceptancesOf(ctx.db, user.tenantId);

/**
 * Accepts the current version for the user's tenant: who, when, which version, the text's
 * SHA-256, IP and user agent; audited as `adv.accepted`. Accepting an accepted version again
 * answers the existing record (`created: false`) without a second event.
 */
export async function accept(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  body: AcceptBody,
): Promise<{ acceptance: AdvAcceptance; created: boolean }> {
  const tenant = await tenantById(ctx.db, p.user.tenantId);
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
  const created = await insertAcceptance(ctx.db, {
    id: `adv_${randomBytes(9).toString('base64url')}`,
    tenantId: tenant.id,
    version: current.id,
    locale,
    textSha256,
    userId: p.user.id,
    userName: p.user.name,
    acceptedAt: ctx.now(),
    ip: req.ip,
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 300),
  });
  const acceptance = (await acceptancesOf(ctx.db, tenant.id)).find((a) => a.version === current.id);
  if (!acceptance) return fail(500, 'internal', 'the acceptance was not stored');
  if (created)
    await recordUserAction(
      ctx,
      req,
      p,
      'adv.accepted',
      tenant.id,
      { type: 'adv', id: current.id },
      { acceptanceId: acceptance.id, textSha256, locale, userName: p.user.name },
    );
  return { acceptance, created };
}

/**
 * The PDF of an acceptance, for users of its tenant and administrators; anyone else gets 404
 * (audited as `access.denied`), as for an acceptance that does not exist.
 */
export async function acceptanceDocument(
  ctx: Context,
  req: FastifyRequest,
  user: UserRecord,
  id: string,
): Promise<{ fileName: string; pdf: Uint8Array }> {
  const acceptance = /^adv_[A-Za-z0-9_-]{1,40}$/.test(id)
    ? await acceptanceById(ctx.db, id)
    : undefined;
  if (!acceptance || (acceptance.tenantId !== user.tenantId && ROLE_SCOPE[user.role] !== 'all')) {
    await recordDenied(ctx, req, user, {
      target: { type: 'adv-acceptance', id },
      reason: acceptance ? 'tenant out of scope' : 'no such acceptance',
    });
    return fail(404, 'not_found', 'not found');
  }
  const version = await versionById(ctx.db, acceptance.version);
  if (!version) return fail(404, 'not_found', 'the agreement version is gone');
  const { operator } = agreementFiles();
  const pdf = await acceptancePdf({
    locale: acceptance.locale,
    text: version.text[acceptance.locale],
    operator,
    tenant: { id: acceptance.tenantId, name: acceptance.tenantName },
    acceptance: { ...acceptance, publishedAt: version.publishedAt },
  });
  const fileName = `ADV-${acceptance.tenantId}-${acceptance.version}.pdf`.replace(
    /[^A-Za-z0-9._-]/g,
    '_',
  );
  return { fileName, pdf };
}

/** Every customer and partner tenant with its latest acceptance (administrators). */
export async function tenantsOverview(ctx: Context): Promise<AdvTenantRow[]> {
  const current = await currentVersion(ctx.db, ctx.now());
  const tenants = await customerAndPartnerTenants(ctx.db);
  const all = await allAcceptances(ctx.db);
  return tenants.map((t) => {
    const mine = all.filter((a) => a.tenantId === t.id);
    const latest = mine[0];
    return {
      tenantId: t.id,
      tenantName: t.name,
      kind: t.kind,
      ...(latest ? { acceptance: latest } : {}),
      needsAcceptance: needsAcceptance(t.kind, current, mine),
    };
  });
}

/**
 * Publishes a new version at once: every tenant then has to accept again, and the key users
 * and partners are mailed (best effort; the portal's banner asks anyway). Audited as
 * `adv.published` with the number of mails sent.
 */
export async function publish(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  body: PublishBody,
): Promise<{ version: AdvVersionInfo; notified: number }> {
  if (await versionById(ctx.db, body.id))
    return fail(409, 'conflict', 'a version with that id exists');
  const textDe = normaliseText(body.textDe);
  const textEn = normaliseText(body.textEn);
  const publishedAt = ctx.now();
  const inserted = await insertVersion(ctx.db, {
    id: body.id,
    publishedAt,
    publishedBy: p.user.id,
    textDe,
    textEn,
    sha256De: sha256Hex(textDe),
    sha256En: sha256Hex(textEn),
  });
  if (!inserted) return fail(409, 'conflict', 'a version with that id exists');
  const link = `${ctx.origin()}/adv`;
  const title = agreementTitle(textDe, 'Auftragsverarbeitungsvertrag');
  const sent = await Promise.allSettled(
    (await advRecipients(ctx.db)).map((r) =>
      ctx.mail.send(
        newVersionMail({
          to: r.email,
          name: r.name,
          tenantName: r.tenantName,
          version: body.id,
          title,
          link,
        }),
      ),
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
  return {
    version: { id: body.id, publishedAt: new Date(publishedAt).toISOString(), source: 'published' },
    notified,
  };
}
