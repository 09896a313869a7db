/**
 * Partner onboarding over HTTP, by audience (use cases in `service.ts` and `certification.ts`).
 *
 * Public (anonymous session + CSRF double submit, like sign-in):
 * - `GET  /api/onboarding/terms[?locale=]` — the partner terms and the current ADV/DPA with the
 *   SHA-256 of each text (the applicant accepts exactly these).
 * - `POST /api/onboarding/applications` — rate-limited per IP; strict zod body; 202 always the
 *   same answer.
 * - `POST /api/onboarding/verify {token}` — the application goes to the review queue.
 *
 * Administrators (`onboarding.review`):
 * - `GET  /api/onboarding/applications[?status=]`, `POST …/:id/approve`, `POST …/:id/reject
 *   {reason}` (both audited, both mail the applicant).
 * - `GET  /api/onboarding/partners`, `POST /api/onboarding/partners/:tenantId/grant {scopes}` —
 *   production scopes, only for a certified partner.
 *
 * The partner (`partner.manage`, own onboarded tenant):
 * - `GET  /api/onboarding/me` — checklist state.
 * - `POST /api/onboarding/me/credentials` — once: a fresh client secret and the webhook
 *   signing secret (409 afterwards).
 * - `PUT  /api/onboarding/me/webhook {url}` — the receiver for step (b), SSRF-checked.
 * - `POST /api/onboarding/me/checklist/outbound` — step (b).
 *
 * The sandbox on the partner API (step (a)) is `src/server/routes/onboarding.ts`.
 */
import type { FastifyInstance } from 'fastify';
import { authorize, type Context } from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import { FixedWindowLimiter } from '../../server/partner/oauth.ts';
import { sandboxRoutes } from '../../server/routes/onboarding.ts';
import { Certification, type CertificationOptions } from './certification.ts';
import {
  applicationBody,
  applicationsQuery,
  grantBody,
  rejectBody,
  verifyBody,
  webhookUrlBody,
} from './contract.ts';
import * as onboarding from './service.ts';
import { loadPartnerTerms } from './terms.ts';

export interface OnboardingOptions extends CertificationOptions {
  /** Registrations per client IP and window (default 5 per hour). */
  readonly registrationLimit?: { readonly limit: number; readonly windowMs: number };
}

export function onboardingRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: OnboardingOptions = {},
): void {
  // A broken terms file stops the portal at start, not at the first registration.
  const terms = loadPartnerTerms();
  const limit = options.registrationLimit ?? { limit: 5, windowMs: 3_600_000 };
  const registrations = new FixedWindowLimiter(limit.limit, limit.windowMs, ctx.now);
  const certification = new Certification(ctx, options);
  app.addHook('onClose', async () => {
    await certification.close();
  });

  // ============================================================ public: registration

  app.get('/api/onboarding/terms', async (req) => {
    const asked = (req.query as { locale?: unknown } | undefined)?.locale;
    return onboarding.offeredTerms(ctx, terms, asked === 'en' ? 'en' : 'de');
  });

  app.post('/api/onboarding/applications', async (req, reply) => {
    // Counted before anything is read: bad input spends the budget too.
    const limited = registrations.hit(`ip:${req.ip}`);
    if (!limited.ok) {
      await onboarding.registrationThrottled(ctx, req);
      return fail(429, 'throttled', 'too many registrations; try again later', {
        retryAfter: limited.retryAfterS,
      });
    }
    await onboarding.register(ctx, req, terms, parse(applicationBody, req.body));
    return reply.code(202).send({ status: 'verification_sent' as const });
  });

  app.post('/api/onboarding/verify', async (req) => {
    await onboarding.verify(ctx, req, parse(verifyBody, req.body).token);
    return { status: 'pending' as const };
  });

  // ============================================================ administrators: review

  app.get('/api/onboarding/applications', async (req) => {
    await authorize(ctx, req, 'onboarding.review');
    const q = parse(applicationsQuery, req.query);
    return { applications: await onboarding.applications(ctx, q.status) };
  });

  app.post<{ Params: { id: string } }>('/api/onboarding/applications/:id/reject', async (req) => {
    const body = parse(rejectBody, req.body);
    const p = await authorize(ctx, req, 'onboarding.review');
    return {
      application: await onboarding.rejectApplicationAs(ctx, req, p, req.params.id, body.reason),
    };
  });

  app.post<{ Params: { id: string } }>('/api/onboarding/applications/:id/approve', async (req) => {
    const p = await authorize(ctx, req, 'onboarding.review');
    return onboarding.approveApplicationAs(ctx, req, p, req.params.id);
  });

  app.get('/api/onboarding/partners', async (req) => {
    await authorize(ctx, req, 'onboarding.review');
    return { partners: await certification.partners() };
  });

  app.post<{ Params: { tenantId: string } }>(
    '/api/onboarding/partners/:tenantId/grant',
    async (req) => {
      const body = parse(grantBody, req.body);
      const p = await authorize(ctx, req, 'onboarding.review');
      return { partner: await certification.grant(req, p, req.params.tenantId, body.scopes) };
    },
  );

  // ============================================================ the partner's checklist

  app.get('/api/onboarding/me', async (req) =>
    certification.own(await authorize(ctx, req, 'partner.manage')),
  );

  app.post('/api/onboarding/me/credentials', async (req) =>
    certification.revealCredentials(req, await authorize(ctx, req, 'partner.manage')),
  );

  app.put('/api/onboarding/me/webhook', async (req) => {
    const body = parse(webhookUrlBody, req.body);
    const p = await authorize(ctx, req, 'partner.manage');
    return certification.setWebhook(req, p, body.url);
  });

  app.post('/api/onboarding/me/checklist/outbound', async (req) =>
    certification.sendTestEvent(req, await authorize(ctx, req, 'partner.manage')),
  );

  sandboxRoutes(app, ctx, certification);
}
