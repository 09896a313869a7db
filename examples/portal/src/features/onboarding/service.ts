/**
 * Partner onboarding, the public part and the review: self-service registration, e-mail
 * verification, review by an administrator and automatic set-up on approval. The partner's
 * certification checklist is `certification.ts`.
 *
 * - Registration is rate-limited per IP (in the route) and answers the same whether or not the
 *   address is known: a duplicate creates nothing and mails the address instead, so the
 *   endpoint does not tell who has applied. The verification link is valid 24 h, used once,
 *   stored as SHA-256.
 * - Approval creates the partner tenant, files the applicant's ADV acceptance for it (as
 *   `adv.accepted`, with the original time, IP and text hash), creates the sandbox API client
 *   and the webhook signing secret (sealed) and invites the contact (sign-up with mandatory 2FA
 *   like every invitation) — all in one statement (`approveApplication`), so it is done
 *   completely or not at all, and of two concurrent approvals one wins, the other gets 409.
 */
import { randomBytes } from 'node:crypto';
import { newWebhookSecret } from '@fluxel-example/kit/webhooks';
import type { FastifyRequest } from 'fastify';
import {
  type Context,
  OPERATOR_TENANT,
  type Principal,
  record,
  recordUserAction,
} from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { sha256 } from '../../server/sessions.ts';
import { currentVersion, sha256Hex } from '../adv/agreements.ts';
import { SANDBOX_SCOPES } from '../partner/contract.ts';
import { CLIENT_ID_PREFIX, CLIENT_SECRET_PREFIX, hashSecret } from '../partner/oauth.ts';
import { activeAdministratorEmails, userByEmail } from '../users/store.ts';
import type {
  ApplicationBody,
  ApplicationRow,
  ApplicationStatus,
  OnboardingTerms,
} from './contract.ts';
import { approvedMail, duplicateMail, rejectedMail, reviewMail, verifyMail } from './mails.ts';
import { sealWebhookSecret } from './secrets.ts';
import {
  applicationById,
  approveApplication,
  deleteExpiredUnverified,
  insertApplication,
  listApplications,
  publicApplication,
  rejectApplication,
  type StoredApplication,
  verifyApplication,
} from './store.ts';
import type { PartnerTerms } from './terms.ts';

const VERIFY_TTL_MS = 24 * 3_600_000;
const INVITATION_TTL_MS = 7 * 86_400_000;

const applicantActor = (id: string) => ({ type: 'user' as const, id: `applicant:${id}` });

/** Mails that must not fail the request (notifications to reviewers): best effort. */
export async function notifyAdministrators(
  ctx: Context,
  message: { subject: string; text: string },
): Promise<void> {
  const to = await activeAdministratorEmails(ctx.db);
  await Promise.allSettled(to.map((address) => ctx.mail.send({ to: address, ...message })));
}

// ============================================================ public: registration

/** The partner terms and the current ADV/DPA with the SHA-256 of each text. */
export async function offeredTerms(
  ctx: Context,
  terms: PartnerTerms,
  locale: 'de' | 'en',
): Promise<OnboardingTerms> {
  const adv = await currentVersion(ctx.db, ctx.now());
  if (!adv) return fail(503, 'upstream_unavailable', 'no data processing agreement is published');
  const termsText = locale === 'en' ? terms.text.en : terms.text.de;
  const advText = locale === 'en' ? adv.text.en : adv.text.de;
  return {
    terms: { version: terms.version, locale, text: termsText, sha256: sha256Hex(termsText) },
    adv: { version: adv.id, locale, text: advText, sha256: sha256Hex(advText) },
  };
}

/** Audits a registration the rate limit refused. */
export function registrationThrottled(ctx: Context, req: FastifyRequest): Promise<void> {
  return record(ctx, req, {
    tenant: OPERATOR_TENANT,
    actor: { type: 'system', id: 'onboarding' },
    action: 'partner.application.submitted',
    outcome: 'denied',
    reason: 'rate limited',
  });
}

/**
 * Files an application and mails the verification link — or, for an address that already has
 * an application or an account, mails that instead. The caller answers the same either way.
 */
export async function register(
  ctx: Context,
  req: FastifyRequest,
  terms: PartnerTerms,
  body: ApplicationBody,
): Promise<void> {
  if (
    body.termsVersion !== terms.version ||
    (body.termsSha256 !== sha256Hex(terms.text.de) && body.termsSha256 !== sha256Hex(terms.text.en))
  )
    return fail(409, 'conflict', 'the partner terms have changed; please read them again');
  const adv = await currentVersion(ctx.db, ctx.now());
  if (!adv || adv.id !== body.advVersion || sha256Hex(adv.text[body.advLocale]) !== body.advSha256)
    return fail(409, 'conflict', 'the data processing agreement has changed; please read it again');

  const now = ctx.now();
  await deleteExpiredUnverified(ctx.db, body.contactEmail, now);
  const duplicate = async () => {
    // The address owner learns what happened by mail.
    await record(ctx, req, {
      tenant: OPERATOR_TENANT,
      actor: { type: 'system', id: 'onboarding' },
      action: 'partner.application.submitted',
      outcome: 'denied',
      reason: 'duplicate',
    });
    await ctx.mail.send({ to: body.contactEmail, ...duplicateMail(ctx.origin()) });
  };
  if (await userByEmail(ctx.db, body.contactEmail)) return duplicate();

  const id = `app_${randomBytes(12).toString('base64url')}`;
  const token = randomBytes(32).toString('base64url');
  const inserted = await insertApplication(ctx.db, {
    id,
    companyName: body.companyName,
    companyAddress: body.companyAddress,
    website: body.website,
    contactName: body.contactName,
    contactEmail: body.contactEmail,
    locale: body.locale ?? body.advLocale,
    termsVersion: body.termsVersion,
    termsSha256: body.termsSha256,
    advVersion: body.advVersion,
    advLocale: body.advLocale,
    advSha256: body.advSha256,
    ip: req.ip,
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 300),
    verifyHash: sha256(token),
    verifyExpiresAt: now + VERIFY_TTL_MS,
    createdAt: now,
  });
  if (!inserted) return duplicate();
  await record(ctx, req, {
    tenant: OPERATOR_TENANT,
    actor: applicantActor(id),
    action: 'partner.application.submitted',
    outcome: 'success',
    target: { type: 'partner-application', id },
    data: {
      termsVersion: body.termsVersion,
      advVersion: body.advVersion,
      advSha256: body.advSha256,
      advLocale: body.advLocale,
    },
  });
  await ctx.mail.send({
    to: body.contactEmail,
    ...verifyMail({
      contactName: body.contactName,
      companyName: body.companyName,
      link: `${ctx.origin()}/partner-signup/verify/${token}`,
    }),
  });
}

/** The link's application goes to the review queue; the administrators are told. */
export async function verify(ctx: Context, req: FastifyRequest, token: string): Promise<void> {
  const row = await verifyApplication(ctx.db, sha256(token), ctx.now());
  if (!row) return fail(404, 'token_invalid', 'the link is not valid (any more)');
  await record(ctx, req, {
    tenant: OPERATOR_TENANT,
    actor: applicantActor(row.id),
    action: 'partner.application.verified',
    outcome: 'success',
    target: { type: 'partner-application', id: row.id },
  });
  await notifyAdministrators(ctx, reviewMail(row.companyName, ctx.origin()));
}

// ============================================================ administrators: review

export async function applications(
  ctx: Context,
  status: ApplicationStatus | undefined,
): Promise<ApplicationRow[]> {
  return (await listApplications(ctx.db, status)).map(publicApplication);
}

/** Why application `id` could not be decided: 404 when missing, 409 when no longer pending. */
async function notPending(ctx: Context, id: string): Promise<never> {
  const now = await applicationById(ctx.db, id);
  if (!now) return fail(404, 'not_found', 'not found');
  return fail(409, 'conflict', `the application is ${now.status}`);
}

export async function rejectApplicationAs(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  reason: string,
): Promise<ApplicationRow> {
  const safeId = id.slice(0, 100);
  const row = await rejectApplication(ctx.db, safeId, { by: p.user.id, at: ctx.now(), reason });
  if (!row) return notPending(ctx, safeId);
  await recordUserAction(
    ctx,
    req,
    p,
    'partner.application.rejected',
    OPERATOR_TENANT,
    { type: 'partner-application', id: row.id },
    { reason },
  );
  await ctx.mail.send({
    to: row.contactEmail,
    ...rejectedMail({ contactName: row.contactName, companyName: row.companyName, reason }),
  });
  return publicApplication(row);
}

/** A tenant id from the company name: `ptn-<slug>-<random>`. */
function partnerTenantId(company: string): string {
  const slug = company
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `ptn-${slug || 'partner'}-${randomBytes(4).toString('hex')}`;
}

export async function approveApplicationAs(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<{ application: ApplicationRow; tenantId: string; clientId: string }> {
  const safeId = id.slice(0, 100);
  const pending = await applicationById(ctx.db, safeId);
  if (pending?.status !== 'pending') return notPending(ctx, safeId);
  // Everything the statement writes is prepared first; the statement itself decides.
  const tenantId = partnerTenantId(pending.companyName);
  const acceptanceId = `adv_${randomBytes(9).toString('base64url')}`;
  // The sandbox client: created now, its first secret only when the partner looks (a new one
  // is drawn then), so this one is never shown.
  const clientId = `${CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url')}`;
  const unshownSecret = `${CLIENT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  const token = randomBytes(32).toString('base64url');
  const invitationId = `inv_${randomBytes(9).toString('base64url')}`;
  const now = ctx.now();
  const row = await approveApplication(ctx.db, {
    applicationId: safeId,
    by: p.user.id,
    at: now,
    tenantId,
    acceptanceId,
    client: {
      id: clientId,
      name: `${pending.companyName} (Sandbox)`.slice(0, 100),
      secretHash: hashSecret(unshownSecret),
      scopes: [...new Set(SANDBOX_SCOPES)].join(' '),
    },
    webhookSecretSealed: await sealWebhookSecret(ctx, tenantId, newWebhookSecret()),
    invitation: { id: invitationId, tokenHash: sha256(token), expiresAt: now + INVITATION_TTL_MS },
  });
  // Decided meanwhile by someone else (or gone): nothing was written.
  if (!row) return notPending(ctx, safeId);

  await approvedEvents(ctx, req, p, row, { tenantId, acceptanceId, clientId, invitationId });
  await ctx.mail.send({
    to: row.contactEmail,
    ...approvedMail({
      contactName: row.contactName,
      companyName: row.companyName,
      link: `${ctx.origin()}/invite/${token}`,
    }),
  });
  return { application: publicApplication(row), tenantId, clientId };
}

/** The audit events of an approval, written once it is done. */
async function approvedEvents(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  row: StoredApplication,
  made: { tenantId: string; acceptanceId: string; clientId: string; invitationId: string },
): Promise<void> {
  // The applicant's ADV acceptance, filed for the new tenant as an ordinary acceptance.
  await ctx.audit.append({
    tenant: made.tenantId,
    actor: { type: 'user', id: `applicant:${row.id}`, ip: row.ip },
    action: 'adv.accepted',
    outcome: 'success',
    target: { type: 'adv', id: row.advVersion },
    data: {
      acceptanceId: made.acceptanceId,
      textSha256: row.advSha256,
      locale: row.advLocale,
      userName: row.contactName,
      acceptedAt: new Date(row.createdAtMs).toISOString(),
      applicationId: row.id,
    },
  });
  await recordUserAction(
    ctx,
    req,
    p,
    'partner.application.approved',
    OPERATOR_TENANT,
    { type: 'partner-application', id: row.id },
    { tenantId: made.tenantId },
  );
  await recordUserAction(
    ctx,
    req,
    p,
    'partner.client.created',
    made.tenantId,
    { type: 'api-client', id: made.clientId },
    { scopes: SANDBOX_SCOPES, source: 'onboarding' },
  );
  await recordUserAction(
    ctx,
    req,
    p,
    'user.invited',
    made.tenantId,
    { type: 'invitation', id: made.invitationId },
    { role: 'partner' },
  );
}
