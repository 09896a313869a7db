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
import type { Context } from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import { serve, serveAll } from '../../server/route.ts';
import { FixedWindowLimiter } from '../partner/oauth.ts';
import { Certification, type CertificationOptions } from './certification.ts';
import { onboardingContract } from './contract.ts';
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
): Certification {
  // A broken terms file stops the portal at start, not at the first registration.
  const terms = loadPartnerTerms();
  const limit = options.registrationLimit ?? { limit: 5, windowMs: 3_600_000 };
  const registrations = new FixedWindowLimiter(limit.limit, limit.windowMs, ctx.now);
  const certification = new Certification(ctx, options);
  app.addHook('onClose', async () => {
    await certification.close();
  });

  const { apply, ...routes } = onboardingContract;
  serveAll(app, ctx, routes, {
    // ------------------------------------------------------------ public: registration
    terms: async ({ query }) =>
      onboarding.offeredTerms(ctx, terms, query.locale === 'en' ? 'en' : 'de'),
    verify: async ({ req, body }) => {
      await onboarding.verify(ctx, req, body.token);
      return { status: 'pending' as const };
    },
    // ------------------------------------------------------------ administrators: review
    applications: async ({ query }) => ({
      applications: await onboarding.applications(ctx, query.status),
    }),
    reject: async ({ req, principal, params, body }) => ({
      application: await onboarding.rejectApplicationAs(
        ctx,
        req,
        principal,
        params.id,
        body.reason,
      ),
    }),
    approve: async ({ req, principal, params }) =>
      onboarding.approveApplicationAs(ctx, req, principal, params.id),
    partners: async () => ({ partners: await certification.partners() }),
    grant: async ({ req, principal, params, body }) => ({
      partner: await certification.grant(req, principal, params.tenantId, body.scopes),
    }),
    // ------------------------------------------------------------ the partner's checklist
    me: async ({ principal }) => certification.own(principal),
    credentials: async ({ req, principal }) => certification.revealCredentials(req, principal),
    webhook: async ({ req, principal, body }) => certification.setWebhook(req, principal, body.url),
    sendTest: async ({ req, principal }) => certification.sendTestEvent(req, principal),
  });

  // The registration limit is counted before the body is read (bad input spends the budget
  // too), so this route parses its body itself.
  const { body: applicationBody, ...unparsed } = apply;
  serve(app, ctx, unparsed, async ({ req, reply }) => {
    const limited = registrations.hit(`ip:${req.ip}`);
    if (!limited.ok) {
      await onboarding.registrationThrottled(ctx, req);
      return fail(429, 'throttled', 'too many registrations; try again later', {
        retryAfter: limited.retryAfterS,
      });
    }
    await onboarding.register(ctx, req, terms, parse(applicationBody, req.body));
    void reply.code(202);
    return { status: 'verification_sent' as const };
  });

  // The partner API's sandbox records checklist step (a) through it.
  return certification;
}
