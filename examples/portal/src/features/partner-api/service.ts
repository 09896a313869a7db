/**
 * The partner machine API's use cases: issuing access tokens (client credentials), the bearer
 * check (token, rate limit, scope), licenses, events and webhook subscriptions of the client's
 * tenant, and the onboarding sandbox's signed test event. Problems are the portal's (`fail`,
 * `parse`): a stable `code`, and a `reason` per refused field.
 */

import { verifyWebhook } from '@fluxel-example/kit/webhooks';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { type Context, OPERATOR_TENANT, record } from '../../server/context.ts';
import { fail, failPartnerApi, parse } from '../../server/http.ts';
import { RelayGatewayError } from '../../server/relay-gateway.ts';
import type {
  EventsQuery,
  PartnerEvent,
  PartnerScope,
  SubscriptionRow,
} from '../partner/contract.ts';
import type { PartnerHub } from '../partner/hub.ts';
import {
  type AuthenticatedClient,
  authenticateClient,
  FixedWindowLimiter,
  issueToken,
  tokenClient,
} from '../partner/oauth.ts';
import { partnerService } from '../partner/service.ts';
import { deleteSubscription } from '../partner/store.ts';
import {
  type createWebhookBody,
  type PartnerLicense,
  sandboxEventBody,
  type TokenError,
  tokenBody,
} from './contract.ts';
import { MAX_WEBHOOK_ID_LENGTH, rememberWebhookId } from './store.ts';

export const REALM = 'fluxel-partner-api';

export interface PartnerApiOptions {
  /** Access token lifetime (default 900 s). */
  readonly tokenTtlS?: number;
  /** Partner API requests per client and window (default 120 per 60 s). */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
  readonly clock?: () => number;
}

/**
 * What the sandbox needs of the onboarding feature, whose certification checklist step (a) it
 * is: the tenant's webhook signing secret, where the step's outcome is recorded, and whether
 * the tenant is certified (the names are the onboarding certification's own).
 */
export interface SandboxCertification {
  /** The onboarded tenant's webhook signing secret; undefined: the tenant has no sandbox. */
  webhookSecret(tenantId: string): Promise<string | undefined>;
  /** Records a step's outcome (a passed step stays passed; both passed certify). */
  setStep(
    req: FastifyRequest,
    tenantId: string,
    stepId: 'inbound',
    passed: boolean,
    detail: string,
    actor: { type: 'service'; id: string },
  ): Promise<void>;
  /** The tenant's checklist; undefined when it was not onboarded. */
  stateOf(tenantId: string): Promise<{ readonly certified: boolean } | undefined>;
}

/** The token endpoint's answer: a token, or an RFC 6749 §5.2 error (with its HTTP details). */
export type TokenOutcome =
  | {
      readonly ok: true;
      readonly body: {
        access_token: string;
        token_type: 'Bearer';
        expires_in: number;
        scope: string;
      };
    }
  | {
      readonly ok: false;
      readonly status: number;
      readonly error: TokenError;
      readonly description: string;
      /** Answer with `WWW-Authenticate: Basic` (the client authenticated with Basic). */
      readonly basicChallenge?: boolean;
      readonly retryAfterS?: number;
    };

const refuse = (
  status: number,
  error: TokenError,
  description: string,
  more: { basicChallenge?: boolean; retryAfterS?: number } = {},
): TokenOutcome => ({ ok: false, status, error, description, ...more });

/** `client_id:client_secret` of an HTTP Basic header (RFC 6749 §2.3.1: both form-urlencoded). */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}

export function partnerApiService(
  ctx: Context,
  hub: PartnerHub,
  certification: SandboxCertification,
  options: PartnerApiOptions = {},
) {
  const partner = partnerService(ctx, hub);
  const clock = options.clock ?? ctx.now;
  const limiter = new FixedWindowLimiter(
    options.rateLimit?.limit ?? 120,
    options.rateLimit?.windowMs ?? 60_000,
    clock,
  );
  const failedAuth = new FixedWindowLimiter(30, 60_000, clock);
  const sandboxLimiter = new FixedWindowLimiter(60, 60_000, ctx.now);
  const tokenTtlS = options.tokenTtlS ?? 900;
  const serviceActor = (client: { clientId: string }) => ({
    type: 'service' as const,
    id: `api-client:${client.clientId}`,
  });

  /** A live token's client, else 401 (with the bearer challenge). */
  const tokenOwner = async (
    header: string | undefined,
    setHeader: (name: string, value: string) => void,
  ): Promise<AuthenticatedClient> => {
    const match =
      typeof header === 'string' ? /^Bearer ([A-Za-z0-9_-]{1,200})$/i.exec(header) : null;
    const client = match ? await tokenClient(ctx, match[1] as string) : undefined;
    if (!client) {
      setHeader(
        'www-authenticate',
        match ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`,
      );
      return failPartnerApi(
        401,
        'invalid_token',
        match ? 'the token is invalid or expired' : 'a bearer token is required',
      );
    }
    return client;
  };

  return {
    /** `POST /oauth/token` (RFC 6749 §4.4): client authentication by Basic or form fields. */
    async token(
      req: FastifyRequest,
      form: unknown,
      authorization: string | undefined,
    ): Promise<TokenOutcome> {
      const parsed = tokenBody.safeParse(form ?? {});
      if (!parsed.success) return refuse(400, 'invalid_request', 'malformed request');
      const body = parsed.data;
      let clientId: string | undefined;
      let secret: string | undefined;
      let basic = false;
      if (typeof authorization === 'string' && /^basic /i.test(authorization)) {
        basic = true;
        if (body.client_id !== undefined || body.client_secret !== undefined)
          return refuse(400, 'invalid_request', 'use one client authentication method');
        const credentials = basicCredentials(authorization);
        if (!credentials)
          return refuse(401, 'invalid_client', 'bad client authentication', {
            basicChallenge: true,
          });
        clientId = credentials.id;
        secret = credentials.secret;
      } else {
        clientId = body.client_id;
        secret = body.client_secret;
      }
      if (!body.grant_type) return refuse(400, 'invalid_request', 'grant_type is missing');
      if (!clientId || !secret)
        return refuse(401, 'invalid_client', 'client authentication is missing', {
          basicChallenge: true,
        });
      // The failed-attempt budget is spent before the secret is looked at (and given back on
      // success): a throttled address gets no credential evaluated, not even a right one, and
      // concurrent guesses cannot all pass the check before any of them is counted.
      const throttleKey = `ip:${req.ip}`;
      const throttled = failedAuth.hit(throttleKey);
      if (!throttled.ok) {
        await record(ctx, req, {
          tenant: OPERATOR_TENANT,
          actor: { type: 'service', id: `api-client:${clientId.slice(0, 60)}` },
          action: 'partner.token',
          outcome: 'denied',
          reason: 'throttled',
        });
        return refuse(429, 'slow_down', 'too many failed attempts; try again later', {
          retryAfterS: throttled.retryAfterS,
        });
      }
      const client = await authenticateClient(ctx, clientId, secret);
      if (!client) {
        await record(ctx, req, {
          tenant: OPERATOR_TENANT,
          actor: { type: 'service', id: `api-client:${clientId.slice(0, 60)}` },
          action: 'partner.token',
          outcome: 'failure',
          reason: 'invalid client credentials',
        });
        return refuse(401, 'invalid_client', 'client authentication failed', {
          basicChallenge: basic,
        });
      }
      failedAuth.refund(throttleKey);
      const limited = limiter.hit(client.clientId);
      if (!limited.ok)
        return refuse(429, 'slow_down', 'rate limit exceeded', {
          retryAfterS: limited.retryAfterS,
        });
      if (body.grant_type !== 'client_credentials')
        return refuse(400, 'unsupported_grant_type', 'only client_credentials');
      let scopes: PartnerScope[] = [...client.scopes];
      if (body.scope !== undefined) {
        const asked = body.scope.split(' ').filter(Boolean);
        if (asked.some((s) => !client.scopes.includes(s as PartnerScope)))
          return refuse(400, 'invalid_scope', 'a requested scope is not granted');
        scopes = [...new Set(asked)] as PartnerScope[];
      }
      if (scopes.length === 0) return refuse(400, 'invalid_scope', 'no scope');
      const token = await issueToken(ctx, client, scopes, tokenTtlS);
      await record(ctx, req, {
        tenant: client.tenantId,
        actor: serviceActor(client),
        action: 'partner.token',
        outcome: 'success',
        data: { scopes },
      });
      return {
        ok: true,
        body: {
          access_token: token.accessToken,
          token_type: 'Bearer',
          expires_in: token.expiresIn,
          scope: scopes.join(' '),
        },
      };
    },

    /**
     * The client of a bearer token holding `scope`: 401 without a live token, 429 over the
     * client's rate limit, 403 without the scope (each with its `WWW-Authenticate` challenge).
     */
    async bearer(
      authorization: string | undefined,
      scope: PartnerScope,
      setHeader: (name: string, value: string) => void,
    ): Promise<AuthenticatedClient> {
      const client = await tokenOwner(authorization, setHeader);
      const limited = limiter.hit(client.clientId);
      if (!limited.ok)
        return failPartnerApi(429, 'rate_limited', 'too many requests', {
          retryAfter: limited.retryAfterS,
        });
      setHeader('x-ratelimit-remaining', String(limited.remaining));
      if (!client.scopes.includes(scope)) {
        setHeader(
          'www-authenticate',
          `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`,
        );
        return failPartnerApi(403, 'insufficient_scope', `the token lacks the scope ${scope}`);
      }
      return client;
    },

    /** Licenses of the client's tenant and its customers (or of one of them). */
    async licenses(client: AuthenticatedClient, tenantId?: string): Promise<PartnerLicense[]> {
      const reachable = await partner.clientTenants(client.tenantId);
      if (tenantId && !reachable.includes(tenantId)) return fail(404, 'not_found', 'not found');
      const out: PartnerLicense[] = [];
      for (const tenant of tenantId ? [tenantId] : reachable) {
        let list: Awaited<ReturnType<Context['relay']['list']>>;
        try {
          list = await ctx.relay.list(tenant);
        } catch (error) {
          if (error instanceof RelayGatewayError)
            return fail(503, 'upstream_unavailable', 'try again shortly');
          throw error;
        }
        for (const l of list)
          out.push({
            id: l.id,
            tenantId: l.tenant,
            product: l.product,
            entitlements: [...l.entitlements],
            status: l.status,
            activated: l.status === 'active' || l.activatedAt !== undefined,
            createdAt: l.createdAt,
            ...(l.activatedAt ? { activatedAt: l.activatedAt } : {}),
            ...(l.lastSeenAt ? { lastSeenAt: l.lastSeenAt } : {}),
            ...(l.expiresAt ? { expiresAt: l.expiresAt } : {}),
          });
      }
      return out;
    },

    async events(client: AuthenticatedClient, q: EventsQuery): Promise<PartnerEvent[]> {
      return partner.eventsOf(await partner.clientTenants(client.tenantId), q);
    },

    /** Webhook subscriptions of the client's own tenant. */
    webhooks(client: AuthenticatedClient): Promise<SubscriptionRow[]> {
      return partner.subscriptionsOf(client.tenantId);
    },

    async createWebhook(
      req: FastifyRequest,
      client: AuthenticatedClient,
      body: z.infer<typeof createWebhookBody>,
    ): Promise<{ webhook: SubscriptionRow; secret: string }> {
      const { subscription, secret } = await partner.newSubscription(
        client.tenantId,
        body.url,
        body.eventTypes,
        `api-client:${client.clientId}`,
      );
      await record(ctx, req, {
        tenant: client.tenantId,
        actor: serviceActor(client),
        action: 'partner.subscription.created',
        outcome: 'success',
        target: { type: 'webhook-subscription', id: subscription.id },
      });
      return { webhook: await partner.subscriptionView(subscription), secret };
    },

    async deleteWebhook(req: FastifyRequest, client: AuthenticatedClient, id: string) {
      const target = id.slice(0, 100);
      if (!(await deleteSubscription(ctx.db, target, client.tenantId)))
        return fail(404, 'not_found', 'not found');
      await record(ctx, req, {
        tenant: client.tenantId,
        actor: serviceActor(client),
        action: 'partner.subscription.deleted',
        outcome: 'success',
        target: { type: 'webhook-subscription', id: target },
      });
    },

    /**
     * `POST /partner-api/v1/sandbox/events`, step (a) of the certification: the partner's
     * system sends a Standard Webhooks-signed `certification.test` event with a token of scope
     * `sandbox`. A bad signature, a missing header or an old timestamp fails the step; a
     * replay (a `webhook-id` already accepted inside the window) is refused (409 `replayed`).
     */
    async sandboxEvent(
      req: FastifyRequest,
      raw: string,
      setHeader: (name: string, value: string) => void,
    ): Promise<{ received: true; step: 'passed'; certified: boolean }> {
      const client = await tokenOwner(req.headers.authorization, setHeader);
      const limited = sandboxLimiter.hit(client.clientId);
      if (!limited.ok)
        return failPartnerApi(429, 'rate_limited', 'too many requests', {
          retryAfter: limited.retryAfterS,
        });
      if (!client.scopes.includes('sandbox')) {
        setHeader(
          'www-authenticate',
          `Bearer realm="${REALM}", error="insufficient_scope", scope="sandbox"`,
        );
        return failPartnerApi(403, 'insufficient_scope', 'the token lacks the scope sandbox');
      }
      const signingKey = await certification.webhookSecret(client.tenantId);
      if (!signingKey) return fail(404, 'not_found', 'this tenant has no sandbox');
      const actor = serviceActor(client);
      const verified = verifyWebhook(signingKey, req.headers, raw, ctx.now());
      if (!verified.ok) {
        // A missing header is a malformed request (the portal's shared code); a stale timestamp
        // or a bad signature is the partner API's own refusal.
        if (verified.reason === 'missing') {
          await certification.setStep(req, client.tenantId, 'inbound', false, 'bad_request', actor);
          return fail(
            400,
            'bad_request',
            'webhook-id, webhook-timestamp and webhook-signature are required',
          );
        }
        const [code, title] =
          verified.reason === 'timestamp'
            ? (['stale_timestamp', 'the webhook timestamp is too old or too new'] as const)
            : (['invalid_signature', 'the webhook signature is not valid'] as const);
        await certification.setStep(req, client.tenantId, 'inbound', false, code, actor);
        return failPartnerApi(401, code, title);
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        return fail(400, 'bad_request', 'the body is not JSON');
      }
      parse(sandboxEventBody, json);
      // A replay of an accepted message inside the timestamp window is refused; of concurrent
      // copies exactly one is accepted (remembering the id is the atomic step).
      const header = (name: string) => {
        // eslint-disable-next-line security/detect-object-injection -- name is one of the literal header names below
        const v = req.headers[name];
        return String(Array.isArray(v) ? v[0] : v);
      };
      const webhookId = header('webhook-id');
      if (webhookId.length > MAX_WEBHOOK_ID_LENGTH)
        return fail(400, 'bad_request', 'the webhook-id is too long', {
          fields: [
            {
              path: 'webhook-id',
              reason: 'too_long',
              message: `at most ${MAX_WEBHOOK_ID_LENGTH} characters`,
            },
          ],
        });
      const fresh = await rememberWebhookId(
        ctx.db,
        client.tenantId,
        webhookId,
        Number(header('webhook-timestamp')),
        ctx.now(),
      );
      if (!fresh)
        return failPartnerApi(
          409,
          'replayed',
          'this webhook-id was already accepted: send each message with a new webhook-id',
        );
      await certification.setStep(req, client.tenantId, 'inbound', true, 'signature valid', actor);
      return {
        received: true,
        step: 'passed',
        certified: (await certification.stateOf(client.tenantId))?.certified ?? false,
      };
    },
  };
}

export type PartnerApiService = ReturnType<typeof partnerApiService>;
