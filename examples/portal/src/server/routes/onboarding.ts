/**
 * Partner onboarding: self-service registration, e-mail verification, review by an
 * administrator, automatic set-up on approval, and the certification checklist.
 *
 * Public (anonymous session + CSRF double submit, like sign-in):
 * - `GET  /api/onboarding/terms[?locale=]` — the partner terms and the current ADV/DPA with the
 *   SHA-256 of each text (the applicant accepts exactly these).
 * - `POST /api/onboarding/applications` — rate-limited per IP; strict zod body; 202 always the
 *   same answer (a duplicate creates nothing and mails the address instead, so the endpoint does
 *   not tell who has applied). Sends the verification link (24 h, single use, SHA-256 stored).
 * - `POST /api/onboarding/verify {token}` — the application goes to the review queue.
 *
 * Administrators (`onboarding.review`):
 * - `GET  /api/onboarding/applications[?status=]`, `POST …/:id/approve`, `POST …/:id/reject
 *   {reason}` (both audited, both mail the applicant). Approval creates the partner tenant, files
 *   the applicant's ADV acceptance for it (as `adv.accepted`, with the original time, IP and
 *   text hash), creates the sandbox API client and the webhook signing secret (sealed) and
 *   invites the contact (sign-up with mandatory 2FA like every invitation).
 * - `GET  /api/onboarding/partners`, `POST /api/onboarding/partners/:tenantId/grant {scopes}` —
 *   production scopes, only for a certified partner.
 *
 * The partner (`partner.manage`, own onboarded tenant):
 * - `GET  /api/onboarding/me` — checklist state.
 * - `POST /api/onboarding/me/credentials` — once: a fresh client secret and the webhook
 *   signing secret (409 afterwards).
 * - `PUT  /api/onboarding/me/webhook {url}` — the receiver for step (b), SSRF-checked.
 * - `POST /api/onboarding/me/checklist/outbound` — step (b): the portal sends a signed
 *   `certification.test` event to that URL; a 2xx answer passes.
 * - Step (a): the partner's system sends a signed event to the partner API's sandbox
 *   (`POST /partner-api/v1/sandbox/events`, features/partner-api), which records the outcome
 *   through what `onboardingRoutes` returns.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fromText, open, seal, toText } from '@fluxel/crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { request } from 'undici';
import { z } from 'zod';
import { currentVersion, normaliseText, sha256Hex } from '../../features/adv/agreements.ts';
import {
  type PartnerScope,
  PRODUCTION_SCOPES,
  SANDBOX_SCOPES,
} from '../../features/partner/contract.ts';
import {
  addClientScopes,
  createClient,
  FixedWindowLimiter,
  rotateClientSecret,
  toScopes,
} from '../../features/partner/oauth.ts';
import {
  checkTargetUrl,
  type TargetPolicy,
  webhookDispatcher,
} from '../../features/partner/ssrf.ts';
import type { SandboxCertification } from '../../features/partner-api/service.ts';
import {
  authorize,
  type Context,
  OPERATOR_TENANT,
  type Principal,
  record,
  recordUserAction,
  tenantById,
  userByEmail,
} from '../context.ts';
import { fail, parse } from '../http.ts';
import { releaseApplicationClaim } from '../onboarding/claims.ts';
import {
  type ApplicationRow,
  type ApplicationStatus,
  applicationBody,
  applicationsQuery,
  type CertificationState,
  grantBody,
  type OnboardingTerms,
  rejectBody,
  type StepState,
  verifyBody,
  webhookUrlBody,
} from '../onboarding/contract.ts';
import { newWebhookSecret, signWebhookPayload } from '../partner/signing.ts';
import { sha256 } from '../sessions.ts';

export interface OnboardingOptions {
  /** Registrations per client IP and window (default 5 per hour). */
  readonly registrationLimit?: { readonly limit: number; readonly windowMs: number };
  /** Where the checklist may send its test event (default: public https only). */
  readonly targets?: TargetPolicy;
  /** Extra CA (PEM) trusted for https receivers — dev/test receivers with the dev CA. */
  readonly webhookCa?: string;
  readonly deliveryTimeoutMs?: number;
}

const VERIFY_TTL_MS = 24 * 3_600_000;
const INVITATION_TTL_MS = 7 * 86_400_000;
const TERMS_DIR = new URL('../../../data/partner/', import.meta.url);

const termsIndex = z.strictObject({
  $comment: z.string().optional(),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/),
  de: z.string().regex(/^[A-Za-z0-9._-]+\.md$/),
  en: z.string().regex(/^[A-Za-z0-9._-]+\.md$/),
});

interface PartnerTerms {
  readonly version: string;
  readonly text: Readonly<Record<'de' | 'en', string>>;
}

/** Reads and validates `data/partner/terms.json` and its texts; throws on any mistake. */
export function loadPartnerTerms(dir: URL = TERMS_DIR): PartnerTerms {
  const index = termsIndex.parse(JSON.parse(readFileSync(new URL('terms.json', dir), 'utf8')));
  return {
    version: index.version,
    text: {
      de: normaliseText(readFileSync(new URL(index.de, dir), 'utf8')),
      en: normaliseText(readFileSync(new URL(index.en, dir), 'utf8')),
    },
  };
}

const iso = (v: unknown) => (v == null ? undefined : new Date(Number(v)).toISOString());

function applicationRow(r: Record<string, unknown>): ApplicationRow {
  const verifiedAt = iso(r.verified_at);
  const reviewedAt = iso(r.reviewed_at);
  return {
    id: String(r.id),
    companyName: String(r.company_name),
    companyAddress: String(r.company_address),
    ...(r.website ? { website: String(r.website) } : {}),
    contactName: String(r.contact_name),
    contactEmail: String(r.contact_email),
    status: r.status as ApplicationStatus,
    termsVersion: String(r.terms_version),
    advVersion: String(r.adv_version),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    ...(verifiedAt ? { verifiedAt } : {}),
    ...(reviewedAt ? { reviewedAt } : {}),
    ...(r.reject_reason ? { rejectReason: String(r.reject_reason) } : {}),
    ...(r.tenant_id ? { tenantId: String(r.tenant_id) } : {}),
  };
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

/** Is `tenantId` an onboarded partner, and may it hold production scopes (certified)? */
export async function onboardingOf(
  ctx: Context,
  tenantId: string,
): Promise<{ certified: boolean } | undefined> {
  const { rows } = await ctx.db.query(
    'SELECT certified_at FROM portal_partner_onboarding WHERE tenant_id = $1',
    [tenantId],
  );
  const r = rows[0];
  return r ? { certified: r.certified_at != null } : undefined;
}

/**
 * The rule for API clients of onboarded partner tenants: only sandbox scopes until certified;
 * production scopes only from an administrator, and only once certified. Tenants set up by an
 * administrator (not through onboarding) are not affected.
 */
export async function checkClientScopes(
  ctx: Context,
  tenantId: string,
  scopes: readonly PartnerScope[],
  byAdministrator: boolean,
): Promise<void> {
  if (!scopes.some((s) => PRODUCTION_SCOPES.includes(s))) return;
  const onboarding = await onboardingOf(ctx, tenantId);
  if (!onboarding) return;
  if (!byAdministrator)
    fail(403, 'forbidden', 'production scopes are granted by an administrator after certification');
  if (!onboarding.certified)
    fail(409, 'conflict', 'the partner is not certified yet: only sandbox scopes can be granted');
}

// ------------------------------------------------------------------ routes

export function onboardingRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: OnboardingOptions = {},
): SandboxCertification {
  // A broken terms file stops the portal at start, not at the first registration.
  const terms = loadPartnerTerms();
  const limit = options.registrationLimit ?? { limit: 5, windowMs: 3_600_000 };
  const registrations = new FixedWindowLimiter(limit.limit, limit.windowMs, ctx.now);
  const targets = options.targets ?? {};
  const timeoutMs = options.deliveryTimeoutMs ?? 10_000;
  const dispatcher = webhookDispatcher(targets, { timeoutMs, ca: options.webhookCa });
  app.addHook('onClose', async () => {
    await dispatcher.close();
  });

  const sealContext = (tenantId: string) => ({ tenant: tenantId, field: 'onboarding-webhook' });
  const sealWebhookSecret = async (tenantId: string, secret: string) =>
    toText(
      await seal(new TextEncoder().encode(secret), {
        keyring: ctx.keyring,
        context: sealContext(tenantId),
      }),
    );
  const openWebhookSecret = async (tenantId: string, sealed: string) =>
    new TextDecoder().decode(
      await open(fromText(sealed), { keyring: ctx.keyring, context: sealContext(tenantId) }),
    );

  const administrators = async () => {
    const { rows } = await ctx.db.query(
      "SELECT email FROM portal_users WHERE role = 'administrator' AND status = 'active'",
    );
    return rows.map((r) => String(r.email));
  };
  /** Mails that must not fail the request (notifications to reviewers): best effort. */
  const notify = async (to: readonly string[], subject: string, text: string) => {
    await Promise.allSettled(to.map((address) => ctx.mail.send({ to: address, subject, text })));
  };

  const applicantActor = (id: string) => ({ type: 'user' as const, id: `applicant:${id}` });

  // ============================================================ public: registration

  app.get('/api/onboarding/terms', async (req): Promise<OnboardingTerms> => {
    const asked = (req.query as { locale?: unknown } | undefined)?.locale;
    const locale = asked === 'en' ? 'en' : 'de';
    const adv = await currentVersion(ctx.db, ctx.now());
    if (!adv) return fail(503, 'upstream_unavailable', 'no data processing agreement is published');
    return {
      terms: {
        version: terms.version,
        locale,
        text: terms.text[locale],
        sha256: sha256Hex(terms.text[locale]),
      },
      adv: {
        version: adv.id,
        locale,
        text: adv.text[locale],
        sha256: sha256Hex(adv.text[locale]),
      },
    };
  });

  app.post('/api/onboarding/applications', async (req, reply) => {
    // Counted before anything is read: bad input spends the budget too.
    const limited = registrations.hit(`ip:${req.ip}`);
    if (!limited.ok) {
      await record(ctx, req, {
        tenant: OPERATOR_TENANT,
        actor: { type: 'system', id: 'onboarding' },
        action: 'partner.application.submitted',
        outcome: 'denied',
        reason: 'rate limited',
      });
      return fail(429, 'throttled', 'too many registrations; try again later', {
        retryAfter: limited.retryAfterS,
      });
    }
    const body = parse(applicationBody, req.body);
    const termsLocale = body.locale ?? body.advLocale;
    if (
      body.termsVersion !== terms.version ||
      (body.termsSha256 !== sha256Hex(terms.text.de) &&
        body.termsSha256 !== sha256Hex(terms.text.en))
    )
      return fail(409, 'conflict', 'the partner terms have changed; please read them again');
    const adv = await currentVersion(ctx.db, ctx.now());
    if (
      !adv ||
      adv.id !== body.advVersion ||
      sha256Hex(adv.text[body.advLocale]) !== body.advSha256
    )
      return fail(
        409,
        'conflict',
        'the data processing agreement has changed; please read it again',
      );

    const answer = { status: 'verification_sent' as const };
    const now = ctx.now();
    // An unverified application whose link expired does not block a new one.
    await ctx.db.query(
      "DELETE FROM portal_partner_applications WHERE contact_email = $1 AND status = 'unverified' AND verify_expires_at <= $2",
      [body.contactEmail, now],
    );
    const duplicate = async () => {
      // Same answer as a new application; the address owner learns what happened by mail.
      await record(ctx, req, {
        tenant: OPERATOR_TENANT,
        actor: { type: 'system', id: 'onboarding' },
        action: 'partner.application.submitted',
        outcome: 'denied',
        reason: 'duplicate',
      });
      await ctx.mail.send({
        to: body.contactEmail,
        subject: 'Partner-Registrierung / Partner registration',
        text: `Für diese Adresse gibt es bereits eine Partner-Registrierung oder ein Konto im Fluxel-Portal. Es wurde nichts Neues angelegt. Anmelden: ${ctx.origin()}/login\n\nThis address already has a partner registration or an account in the Fluxel portal. Nothing new was created. Sign in: ${ctx.origin()}/login\n`,
      });
      return reply.code(202).send(answer);
    };
    if (await userByEmail(ctx, body.contactEmail)) return duplicate();

    const id = `app_${randomBytes(12).toString('base64url')}`;
    const token = randomBytes(32).toString('base64url');
    const inserted = await ctx.db.query(
      `INSERT INTO portal_partner_applications
         (id, company_name, company_address, website, contact_name, contact_email, locale,
          terms_version, terms_sha256, adv_version, adv_locale, adv_sha256, ip, user_agent,
          status, verify_hash, verify_expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'unverified', $15, $16, $17)
       ON CONFLICT (contact_email) WHERE status IN ('unverified', 'pending', 'approved') DO NOTHING
       RETURNING id`,
      [
        id,
        body.companyName,
        body.companyAddress,
        body.website ?? null,
        body.contactName,
        body.contactEmail,
        termsLocale,
        body.termsVersion,
        body.termsSha256,
        body.advVersion,
        body.advLocale,
        body.advSha256,
        req.ip,
        String(req.headers['user-agent'] ?? '').slice(0, 300),
        sha256(token),
        now + VERIFY_TTL_MS,
        now,
      ],
    );
    if (inserted.rows.length === 0) return duplicate();
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
    const link = `${ctx.origin()}/partner-signup/verify/${token}`;
    await ctx.mail.send({
      to: body.contactEmail,
      subject: 'Bitte E-Mail-Adresse bestätigen / Please confirm your e-mail address',
      text: `Hallo ${body.contactName},\n\nbitte bestätigen Sie Ihre E-Mail-Adresse für die Partner-Registrierung von ${body.companyName} (24 Stunden gültig):\n${link}\n\nPlease confirm your e-mail address for the partner registration of ${body.companyName} (valid for 24 hours):\n${link}\n`,
    });
    return reply.code(202).send(answer);
  });

  app.post('/api/onboarding/verify', async (req) => {
    const body = parse(verifyBody, req.body);
    const { rows } = await ctx.db.query(
      `UPDATE portal_partner_applications SET status = 'pending', verified_at = $2, verify_hash = NULL
       WHERE verify_hash = $1 AND status = 'unverified' AND verify_expires_at > $2 RETURNING *`,
      [sha256(body.token), ctx.now()],
    );
    const row = rows[0];
    if (!row) return fail(404, 'token_invalid', 'the link is not valid (any more)');
    const id = String(row.id);
    await record(ctx, req, {
      tenant: OPERATOR_TENANT,
      actor: applicantActor(id),
      action: 'partner.application.verified',
      outcome: 'success',
      target: { type: 'partner-application', id },
    });
    await notify(
      await administrators(),
      `Neue Partner-Registrierung / New partner application: ${String(row.company_name)}`,
      `Eine Partner-Registrierung wartet auf Prüfung / A partner application awaits review:\n${ctx.origin()}/onboarding\n`,
    );
    return { status: 'pending' as const };
  });

  // ============================================================ administrators: review

  const reviewer = (req: FastifyRequest) => authorize(ctx, req, 'onboarding.review');

  const auditAs = (
    req: FastifyRequest,
    p: Principal,
    action: string,
    tenant: string,
    target: { type: string; id: string },
    data?: Record<string, unknown>,
  ) => recordUserAction(ctx, req, p, action, tenant, target, data);

  app.get('/api/onboarding/applications', async (req) => {
    await reviewer(req);
    const q = parse(applicationsQuery, req.query);
    const { rows } = await ctx.db.query(
      `SELECT * FROM portal_partner_applications WHERE ($1::text IS NULL OR status = $1)
       ORDER BY created_at DESC LIMIT 500`,
      [q.status ?? null],
    );
    return { applications: rows.map(applicationRow) };
  });

  /** Claims a pending application for a decision (one reviewer wins), else 404/409. */
  const claim = async (id: string, p: Principal, to: 'approved' | 'rejected', reason?: string) => {
    const safeId = id.slice(0, 100);
    const { rows } = await ctx.db.query(
      `UPDATE portal_partner_applications SET status = $2, reviewed_by = $3, reviewed_at = $4,
         reject_reason = $5 WHERE id = $1 AND status = 'pending' RETURNING *`,
      [safeId, to, p.user.id, ctx.now(), reason ?? null],
    );
    if (rows[0]) return rows[0];
    const { rows: exists } = await ctx.db.query(
      'SELECT status FROM portal_partner_applications WHERE id = $1',
      [safeId],
    );
    if (!exists[0]) return fail(404, 'not_found', 'not found');
    return fail(409, 'conflict', `the application is ${String(exists[0].status)}`);
  };

  app.post<{ Params: { id: string } }>('/api/onboarding/applications/:id/reject', async (req) => {
    const body = parse(rejectBody, req.body);
    const p = await reviewer(req);
    const row = await claim(req.params.id, p, 'rejected', body.reason);
    const id = String(row.id);
    await auditAs(
      req,
      p,
      'partner.application.rejected',
      OPERATOR_TENANT,
      { type: 'partner-application', id },
      { reason: body.reason },
    );
    await ctx.mail.send({
      to: String(row.contact_email),
      subject: 'Ihre Partner-Registrierung / Your partner registration',
      text: `Hallo ${String(row.contact_name)},\n\nIhre Partner-Registrierung für ${String(row.company_name)} wurde leider abgelehnt.\nBegründung: ${body.reason}\n\nYour partner registration for ${String(row.company_name)} was declined.\nReason: ${body.reason}\n`,
    });
    return { application: applicationRow(row) };
  });

  app.post<{ Params: { id: string } }>('/api/onboarding/applications/:id/approve', async (req) => {
    const p = await reviewer(req);
    const row = await claim(req.params.id, p, 'approved');
    const id = String(row.id);
    const company = String(row.company_name);
    const contactEmail = String(row.contact_email);
    const now = ctx.now();
    let tenantId: string;
    let clientId: string;
    let invitationId: string;
    let token: string;
    try {
      tenantId = partnerTenantId(company);
      await ctx.db.query(
        "INSERT INTO portal_tenants (id, name, kind, created_at) VALUES ($1, $2, 'partner', $3)",
        [tenantId, company, now],
      );
      // The applicant's ADV acceptance, filed for the new tenant as an ordinary acceptance.
      const acceptanceId = `adv_${randomBytes(9).toString('base64url')}`;
      await ctx.db.query(
        `INSERT INTO portal_adv_acceptances
           (id, tenant_id, version, locale, text_sha256, user_id, user_name, accepted_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, version) DO NOTHING`,
        [
          acceptanceId,
          tenantId,
          String(row.adv_version),
          String(row.adv_locale),
          String(row.adv_sha256),
          `applicant:${id}`,
          String(row.contact_name),
          Number(row.created_at),
          String(row.ip),
          String(row.user_agent),
        ],
      );
      await ctx.audit.append({
        tenant: tenantId,
        actor: { type: 'user', id: `applicant:${id}`, ip: String(row.ip) },
        action: 'adv.accepted',
        outcome: 'success',
        target: { type: 'adv', id: String(row.adv_version) },
        data: {
          acceptanceId,
          textSha256: String(row.adv_sha256),
          locale: String(row.adv_locale),
          userName: String(row.contact_name),
          acceptedAt: new Date(Number(row.created_at)).toISOString(),
          applicationId: id,
        },
      });
      // The sandbox client: created now, its first secret only when the partner looks.
      const created = await createClient(ctx, {
        tenantId,
        name: `${company} (Sandbox)`.slice(0, 100),
        scopes: SANDBOX_SCOPES,
        createdBy: p.user.id,
      });
      clientId = created.client.clientId;
      await ctx.db.query(
        `INSERT INTO portal_partner_onboarding
           (tenant_id, application_id, client_id, webhook_secret_sealed, created_at)
         VALUES ($1, $2, $3, $4, $5)`,
        [tenantId, id, clientId, await sealWebhookSecret(tenantId, newWebhookSecret()), now],
      );
      token = randomBytes(32).toString('base64url');
      invitationId = `inv_${randomBytes(9).toString('base64url')}`;
      await ctx.db.query(
        `INSERT INTO portal_invitations (id, token_hash, tenant_id, email, role, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, 'partner', $5, $6)`,
        [invitationId, sha256(token), tenantId, contactEmail, p.user.id, now + INVITATION_TTL_MS],
      );
      await ctx.db.query('UPDATE portal_partner_applications SET tenant_id = $2 WHERE id = $1', [
        id,
        tenantId,
      ]);
    } catch (error) {
      // Back to the queue so the review can be repeated (the tenant id is new each time) —
      // compare-and-set on this approval's own claim, so nothing else is undone.
      await releaseApplicationClaim(ctx.db, id, {
        by: p.user.id,
        at: Number(row.reviewed_at),
      });
      throw error;
    }
    await auditAs(
      req,
      p,
      'partner.application.approved',
      OPERATOR_TENANT,
      { type: 'partner-application', id },
      { tenantId },
    );
    await auditAs(
      req,
      p,
      'partner.client.created',
      tenantId,
      { type: 'api-client', id: clientId },
      { scopes: SANDBOX_SCOPES, source: 'onboarding' },
    );
    await auditAs(
      req,
      p,
      'user.invited',
      tenantId,
      { type: 'invitation', id: invitationId },
      { role: 'partner' },
    );
    const link = `${ctx.origin()}/invite/${token}`;
    await ctx.mail.send({
      to: contactEmail,
      subject: 'Partner-Registrierung freigegeben / Partner registration approved',
      text: `Hallo ${String(row.contact_name)},\n\nIhre Partner-Registrierung für ${company} ist freigegeben. Legen Sie Ihr Konto an (mit zweitem Faktor); danach sehen Sie einmalig Ihre Sandbox-Zugangsdaten und die Zertifizierungs-Checkliste:\n${link}\n\nYour partner registration for ${company} is approved. Create your account (with a second factor); afterwards you see your sandbox credentials once and the certification checklist:\n${link}\n\nGültig 7 Tage / valid for 7 days.`,
    });
    const { rows } = await ctx.db.query('SELECT * FROM portal_partner_applications WHERE id = $1', [
      id,
    ]);
    return { application: applicationRow(rows[0] as Record<string, unknown>), tenantId, clientId };
  });

  // ============================================================ certification state

  const stateOf = async (tenantId: string): Promise<CertificationState | undefined> => {
    const { rows } = await ctx.db.query(
      `SELECT o.*, t.name AS tenant_name, c.scopes FROM portal_partner_onboarding o
       JOIN portal_tenants t ON t.id = o.tenant_id
       JOIN portal_partner_clients c ON c.id = o.client_id WHERE o.tenant_id = $1`,
      [tenantId],
    );
    const r = rows[0];
    if (!r) return undefined;
    const step = (id: 'inbound' | 'outbound') => {
      const at = iso(r[`${id}_at`]);
      const detail = r[`${id}_detail`];
      return {
        id,
        state: String(r[`${id}_state`]) as StepState,
        ...(at ? { at } : {}),
        ...(detail ? { detail: String(detail) } : {}),
      };
    };
    const certifiedAt = iso(r.certified_at);
    const grantedAt = iso(r.production_granted_at);
    return {
      tenantId: String(r.tenant_id),
      tenantName: String(r.tenant_name),
      clientId: String(r.client_id),
      scopes: toScopes(r.scopes),
      secretsRevealed: r.secrets_revealed_at != null,
      ...(r.webhook_url ? { webhookUrl: String(r.webhook_url) } : {}),
      steps: [step('inbound'), step('outbound')],
      certified: certifiedAt !== undefined,
      ...(certifiedAt ? { certifiedAt } : {}),
      ...(grantedAt ? { productionGrantedAt: grantedAt } : {}),
      sandboxUrl: `${ctx.origin()}/partner-api/v1/sandbox/events`,
      tokenUrl: `${ctx.origin()}/oauth/token`,
    };
  };

  /** Records a step's outcome (a passed step stays passed) and certifies when both passed. */
  const setStep = async (
    req: FastifyRequest,
    tenantId: string,
    stepId: 'inbound' | 'outbound',
    passed: boolean,
    detail: string,
    actor: { type: 'user' | 'service'; id: string },
  ) => {
    await ctx.db.query(
      `UPDATE portal_partner_onboarding SET ${stepId}_state = $2, ${stepId}_at = $3, ${stepId}_detail = $4
       WHERE tenant_id = $1 AND ($2 = 'passed' OR ${stepId}_state <> 'passed')`,
      [tenantId, passed ? 'passed' : 'failed', ctx.now(), detail.slice(0, 300)],
    );
    await record(ctx, req, {
      tenant: tenantId,
      actor,
      action: 'partner.certification.step',
      outcome: passed ? 'success' : 'failure',
      target: { type: 'certification-step', id: stepId },
      ...(passed ? {} : { reason: detail.slice(0, 200) }),
    });
    if (!passed) return;
    const { rows } = await ctx.db.query(
      `UPDATE portal_partner_onboarding SET certified_at = $2
       WHERE tenant_id = $1 AND certified_at IS NULL AND inbound_state = 'passed' AND outbound_state = 'passed'
       RETURNING tenant_id`,
      [tenantId, ctx.now()],
    );
    if (rows.length === 0) return;
    await record(ctx, req, {
      tenant: tenantId,
      actor: { type: 'system', id: 'onboarding' },
      action: 'partner.certified',
      outcome: 'success',
      target: { type: 'tenant', id: tenantId },
    });
    const tenant = await tenantById(ctx, tenantId);
    await notify(
      await administrators(),
      `Partner zertifiziert / Partner certified: ${tenant?.name ?? tenantId}`,
      `Der Partner hat die Zertifizierung bestanden; produktive Berechtigungen können jetzt erteilt werden:\n${ctx.origin()}/onboarding\n\nThe partner passed the certification; production scopes can now be granted.\n`,
    );
  };

  app.get('/api/onboarding/partners', async (req) => {
    await reviewer(req);
    const { rows } = await ctx.db.query(
      'SELECT tenant_id FROM portal_partner_onboarding ORDER BY created_at DESC LIMIT 500',
    );
    const partners: CertificationState[] = [];
    for (const r of rows) {
      const s = await stateOf(String(r.tenant_id));
      if (s) partners.push(s);
    }
    return { partners };
  });

  app.post<{ Params: { tenantId: string } }>(
    '/api/onboarding/partners/:tenantId/grant',
    async (req) => {
      const body = parse(grantBody, req.body);
      const p = await reviewer(req);
      const state = await stateOf(req.params.tenantId.slice(0, 100));
      if (!state) return fail(404, 'not_found', 'not found');
      if (!state.certified) {
        await record(ctx, req, {
          tenant: state.tenantId,
          actor: { type: 'user', id: p.user.id },
          action: 'partner.scopes.granted',
          outcome: 'denied',
          target: { type: 'api-client', id: state.clientId },
          reason: 'not certified',
        });
        return fail(409, 'conflict', 'the partner is not certified yet');
      }
      // Added in the database, not computed from `state`: concurrent grants add up.
      if (!(await addClientScopes(ctx, state.clientId, body.scopes)))
        return fail(404, 'not_found', 'not found');
      await ctx.db.query(
        `UPDATE portal_partner_onboarding SET production_granted_at = $2, production_granted_by = $3
         WHERE tenant_id = $1`,
        [state.tenantId, ctx.now(), p.user.id],
      );
      await auditAs(
        req,
        p,
        'partner.scopes.granted',
        state.tenantId,
        { type: 'api-client', id: state.clientId },
        { scopes: body.scopes },
      );
      return { partner: await stateOf(state.tenantId) };
    },
  );

  // ============================================================ the partner's checklist

  /** The signed-in partner's own onboarded tenant, else 404. */
  const own = async (req: FastifyRequest) => {
    const p = await authorize(ctx, req, 'partner.manage');
    const state = await stateOf(p.user.tenantId);
    if (!state) return fail(404, 'not_found', 'this tenant was not onboarded');
    return { p, state };
  };

  app.get('/api/onboarding/me', async (req) => (await own(req)).state);

  app.post('/api/onboarding/me/credentials', async (req) => {
    const { p, state } = await own(req);
    const { rows } = await ctx.db.query(
      `UPDATE portal_partner_onboarding SET secrets_revealed_at = $2, secrets_revealed_by = $3
       WHERE tenant_id = $1 AND secrets_revealed_at IS NULL RETURNING webhook_secret_sealed`,
      [state.tenantId, ctx.now(), p.user.id],
    );
    const row = rows[0];
    if (!row) return fail(409, 'conflict', 'the credentials were already shown');
    const clientSecret = await rotateClientSecret(ctx, state.clientId);
    const webhookSecret = await openWebhookSecret(
      state.tenantId,
      String(row.webhook_secret_sealed),
    );
    await auditAs(req, p, 'partner.credentials.revealed', state.tenantId, {
      type: 'api-client',
      id: state.clientId,
    });
    return {
      clientId: state.clientId,
      clientSecret,
      webhookSecret,
      tokenUrl: state.tokenUrl,
      sandboxUrl: state.sandboxUrl,
    };
  });

  app.put('/api/onboarding/me/webhook', async (req) => {
    const body = parse(webhookUrlBody, req.body);
    const { p, state } = await own(req);
    const checked = checkTargetUrl(body.url, targets);
    if (!checked.ok)
      return fail(400, 'bad_request', 'the webhook URL is not allowed', {
        fields: [{ path: 'url', message: checked.reason }],
      });
    await ctx.db.query(
      `UPDATE portal_partner_onboarding SET webhook_url = $2,
         outbound_state = CASE WHEN certified_at IS NULL THEN 'open' ELSE outbound_state END,
         outbound_detail = NULL WHERE tenant_id = $1`,
      [state.tenantId, checked.url.toString()],
    );
    await auditAs(
      req,
      p,
      'partner.certification.webhook',
      state.tenantId,
      { type: 'tenant', id: state.tenantId },
      { host: checked.url.host },
    );
    return stateOf(state.tenantId);
  });

  app.post('/api/onboarding/me/checklist/outbound', async (req) => {
    const { p, state } = await own(req);
    if (!state.webhookUrl) return fail(409, 'conflict', 'register your webhook URL first');
    const checked = checkTargetUrl(state.webhookUrl, targets);
    let detail: string;
    let passed = false;
    if (!checked.ok) detail = checked.reason;
    else {
      const { rows } = await ctx.db.query(
        'SELECT webhook_secret_sealed FROM portal_partner_onboarding WHERE tenant_id = $1',
        [state.tenantId],
      );
      const secret = await openWebhookSecret(
        state.tenantId,
        String(rows[0]?.webhook_secret_sealed),
      );
      const id = `msg_${randomBytes(12).toString('base64url')}`;
      const timestamp = Math.floor(ctx.now() / 1000);
      const body = JSON.stringify({
        type: 'certification.test',
        timestamp: new Date(ctx.now()).toISOString(),
        tenant: state.tenantId,
        data: { step: 'outbound' },
      });
      try {
        const res = await request(checked.url, {
          method: 'POST',
          dispatcher,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Fluxel-Webhooks/1',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhookPayload(secret, id, timestamp, body),
          },
          body,
        });
        await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
        passed = res.statusCode >= 200 && res.statusCode < 300;
        detail = `HTTP ${res.statusCode}`;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        detail = typeof code === 'string' ? code : 'delivery failed';
      }
    }
    await setStep(req, state.tenantId, 'outbound', passed, detail, {
      type: 'user',
      id: p.user.id,
    });
    return stateOf(state.tenantId);
  });

  // ============================================================ step (a): the sandbox

  // The partner API's sandbox (features/partner-api) receives the signed test event and
  // records its outcome here.
  return {
    webhookSecret: async (tenantId) => {
      const { rows } = await ctx.db.query(
        'SELECT webhook_secret_sealed FROM portal_partner_onboarding WHERE tenant_id = $1',
        [tenantId],
      );
      return rows[0]
        ? openWebhookSecret(tenantId, String(rows[0].webhook_secret_sealed))
        : undefined;
    },
    setStep,
    stateOf,
  };
}
