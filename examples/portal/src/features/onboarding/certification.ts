/**
 * The certification of an onboarded partner: the checklist's two steps — (a) the partner's
 * system sends a signed event into the sandbox (the sandbox endpoint, `routes/onboarding.ts`,
 * records it here), (b) the portal sends a signed `certification.test` event to the partner's
 * receiver (SSRF-checked; a 2xx answer passes) —, the credentials shown once, and production
 * scopes, granted by an administrator only once both steps passed.
 */
import { randomBytes } from 'node:crypto';
import { signWebhook } from '@fluxel-example/kit/webhooks';
import type { FastifyRequest } from 'fastify';
import { request } from 'undici';
import {
  type Context,
  type Principal,
  record,
  recordDenied,
  recordUserAction,
} from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { type PartnerScope, PRODUCTION_SCOPES } from '../partner/contract.ts';
import { addClientScopes, rotateClientSecret, toScopes } from '../partner/oauth.ts';
import { checkTargetUrl, type TargetPolicy, webhookDispatcher } from '../partner/ssrf.ts';
import { tenantById } from '../tenants/store.ts';
import { type CertificationState, stepCode } from './contract.ts';
import { certifiedMail } from './mails.ts';
import { openWebhookSecret } from './secrets.ts';
import { notifyAdministrators } from './service.ts';
import {
  certifyIfComplete,
  checklistOf,
  markProductionGranted,
  onboardedTenantIds,
  onboardingOf,
  recordStep,
  setWebhookUrl,
  takeSecretsReveal,
  webhookSecretSealed,
} from './store.ts';

export interface CertificationOptions {
  /** Where the checklist may send its test event (default: public https only). */
  readonly targets?: TargetPolicy;
  /** Extra CA (PEM) trusted for https receivers — dev/test receivers with the dev CA. */
  readonly webhookCa?: string | undefined;
  readonly deliveryTimeoutMs?: number;
}

export interface Credentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookSecret: string;
  readonly tokenUrl: string;
  readonly sandboxUrl: string;
}

type Actor = { type: 'user' | 'service'; id: string };

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
  const onboarding = await onboardingOf(ctx.db, tenantId);
  if (!onboarding) return;
  if (!byAdministrator)
    fail(403, 'forbidden', 'production scopes are granted by an administrator after certification');
  if (!onboarding.certified)
    fail(409, 'conflict', 'the partner is not certified yet: only sandbox scopes can be granted');
}

export class Certification {
  readonly #ctx: Context;
  readonly #targets: TargetPolicy;
  readonly #timeoutMs: number;
  readonly #dispatcher: ReturnType<typeof webhookDispatcher>;

  constructor(ctx: Context, options: CertificationOptions = {}) {
    this.#ctx = ctx;
    this.#targets = options.targets ?? {};
    this.#timeoutMs = options.deliveryTimeoutMs ?? 10_000;
    this.#dispatcher = webhookDispatcher(this.#targets, {
      timeoutMs: this.#timeoutMs,
      ca: options.webhookCa,
    });
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /** The checklist of onboarded tenant `tenantId`, or `undefined` when it was not onboarded. */
  async stateOf(tenantId: string): Promise<CertificationState | undefined> {
    const ctx = this.#ctx;
    const r = await checklistOf(ctx.db, tenantId);
    if (!r) return undefined;
    const step = (id: 'inbound' | 'outbound') => {
      const s = r.steps[id];
      return { id, ...s, ...(s.detail ? stepCode(s.detail) : {}) };
    };
    return {
      tenantId: r.tenantId,
      tenantName: r.tenantName,
      clientId: r.clientId,
      scopes: toScopes(r.scopes),
      secretsRevealed: r.secretsRevealed,
      ...(r.webhookUrl ? { webhookUrl: r.webhookUrl } : {}),
      steps: [step('inbound'), step('outbound')],
      certified: r.certifiedAt !== undefined,
      ...(r.certifiedAt ? { certifiedAt: r.certifiedAt } : {}),
      ...(r.productionGrantedAt ? { productionGrantedAt: r.productionGrantedAt } : {}),
      sandboxUrl: `${ctx.origin()}/partner-api/v1/sandbox/events`,
      tokenUrl: `${ctx.origin()}/oauth/token`,
    };
  }

  /** The onboarded tenant's webhook signing secret (the sandbox checks signatures with it). */
  async webhookSecret(tenantId: string): Promise<string | undefined> {
    const sealed = await webhookSecretSealed(this.#ctx.db, tenantId);
    return sealed ? openWebhookSecret(this.#ctx, tenantId, String(sealed)) : undefined;
  }

  /** Records a step's outcome (a passed step stays passed) and certifies when both passed. */
  async setStep(
    req: FastifyRequest,
    tenantId: string,
    stepId: 'inbound' | 'outbound',
    passed: boolean,
    detail: string,
    actor: Actor,
  ): Promise<void> {
    const ctx = this.#ctx;
    await recordStep(ctx.db, tenantId, stepId, passed, detail, ctx.now());
    await record(ctx, req, {
      tenant: tenantId,
      actor,
      action: 'partner.certification.step',
      outcome: passed ? 'success' : 'failure',
      target: { type: 'certification-step', id: stepId },
      ...(passed ? {} : { reason: detail.slice(0, 200) }),
    });
    if (!passed || !(await certifyIfComplete(ctx.db, tenantId, ctx.now()))) return;
    await record(ctx, req, {
      tenant: tenantId,
      actor: { type: 'system', id: 'onboarding' },
      action: 'partner.certified',
      outcome: 'success',
      target: { type: 'tenant', id: tenantId },
    });
    const tenant = await tenantById(ctx.db, tenantId);
    await notifyAdministrators(ctx, certifiedMail(tenant?.name ?? tenantId, ctx.origin()));
  }

  /** The state of a tenant known to be onboarded (it was just read or written). */
  async #reread(tenantId: string): Promise<CertificationState> {
    return (await this.stateOf(tenantId)) ?? fail(404, 'not_found', 'not found');
  }

  // ------------------------------------------------------------ administrators

  async partners(): Promise<CertificationState[]> {
    const partners: CertificationState[] = [];
    for (const tenantId of await onboardedTenantIds(this.#ctx.db)) {
      const s = await this.stateOf(tenantId);
      if (s) partners.push(s);
    }
    return partners;
  }

  /** Production scopes for a certified partner (409 before certification, audited). */
  async grant(
    req: FastifyRequest,
    p: Principal,
    tenantId: string,
    scopes: readonly PartnerScope[],
  ): Promise<CertificationState> {
    const ctx = this.#ctx;
    const state = await this.stateOf(tenantId.slice(0, 100));
    if (!state) return fail(404, 'not_found', 'not found');
    if (!state.certified) {
      await recordDenied(ctx, req, p.user, {
        action: 'partner.scopes.granted',
        target: { type: 'api-client', id: state.clientId },
        reason: 'not certified',
        tenant: state.tenantId,
      });
      return fail(409, 'conflict', 'the partner is not certified yet');
    }
    // Added in the database, not computed from `state`: concurrent grants add up.
    if (!(await addClientScopes(ctx, state.clientId, scopes)))
      return fail(404, 'not_found', 'not found');
    await markProductionGranted(ctx.db, state.tenantId, p.user.id, ctx.now());
    await recordUserAction(
      ctx,
      req,
      p,
      'partner.scopes.granted',
      state.tenantId,
      { type: 'api-client', id: state.clientId },
      { scopes },
    );
    return this.#reread(state.tenantId);
  }

  // ------------------------------------------------------------ the partner

  /** The signed-in partner's own onboarded tenant, else 404. */
  async own(p: Principal): Promise<CertificationState> {
    const state = await this.stateOf(p.user.tenantId);
    if (!state) return fail(404, 'not_found', 'this tenant was not onboarded');
    return state;
  }

  /** Once: a fresh client secret and the webhook signing secret (409 afterwards). */
  async revealCredentials(req: FastifyRequest, p: Principal): Promise<Credentials> {
    const ctx = this.#ctx;
    const state = await this.own(p);
    const sealed = await takeSecretsReveal(ctx.db, state.tenantId, p.user.id, ctx.now());
    if (sealed === undefined) return fail(409, 'conflict', 'the credentials were already shown');
    const clientSecret = await rotateClientSecret(ctx, state.clientId);
    const webhookSecret = await openWebhookSecret(ctx, state.tenantId, sealed);
    await recordUserAction(ctx, req, p, 'partner.credentials.revealed', state.tenantId, {
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
  }

  /** The receiver for step (b), SSRF-checked. */
  async setWebhook(req: FastifyRequest, p: Principal, url: string): Promise<CertificationState> {
    const ctx = this.#ctx;
    const state = await this.own(p);
    const checked = checkTargetUrl(url, this.#targets);
    if (!checked.ok)
      return fail(400, 'bad_request', 'the webhook URL is not allowed', {
        fields: [{ path: 'url', message: checked.reason }],
      });
    await setWebhookUrl(ctx.db, state.tenantId, checked.url.toString());
    await recordUserAction(
      ctx,
      req,
      p,
      'partner.certification.webhook',
      state.tenantId,
      { type: 'tenant', id: state.tenantId },
      { host: checked.url.host },
    );
    return this.#reread(state.tenantId);
  }

  /** Step (b): a signed `certification.test` event to the partner's receiver; 2xx passes. */
  async sendTestEvent(req: FastifyRequest, p: Principal): Promise<CertificationState> {
    const ctx = this.#ctx;
    const state = await this.own(p);
    if (!state.webhookUrl) return fail(409, 'conflict', 'register your webhook URL first');
    const checked = checkTargetUrl(state.webhookUrl, this.#targets);
    let detail: string;
    let passed = false;
    if (!checked.ok) detail = checked.reason;
    else {
      const secret = await openWebhookSecret(
        ctx,
        state.tenantId,
        String(await webhookSecretSealed(ctx.db, state.tenantId)),
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
          dispatcher: this.#dispatcher,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Fluxel-Webhooks/1',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(secret, id, timestamp, body),
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
    await this.setStep(req, state.tenantId, 'outbound', passed, detail, {
      type: 'user',
      id: p.user.id,
    });
    return this.#reread(state.tenantId);
  }
}
