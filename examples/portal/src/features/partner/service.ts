/**
 * The partner page's use cases: API clients, webhook subscriptions, the delivery log and recent
 * events. Partners act on their own tenant, administrators on every tenant but the operator's;
 * an object out of scope is a 404 (audited), so ids of other tenants' objects are not
 * confirmed to exist. Every change is audited. The partner machine API reuses the
 * subscription and tenant rules from here.
 */
import { randomBytes } from 'node:crypto';
import { newWebhookSecret } from '@fluxel-example/kit/webhooks';
import type { FastifyRequest } from 'fastify';
import {
  type Context,
  OPERATOR_TENANT,
  type Principal,
  recordDenied,
  recordUserAction,
} from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import type { Tenant } from '../../shared/api.ts';
import { checkClientScopes } from '../onboarding/certification.ts';
import { allTenants, customersOf, tenantById } from '../tenants/store.ts';
import {
  type ApiClientRow,
  type DeliveryRow,
  type EventsQuery,
  PARTNER_SCOPES,
  type PartnerEvent,
  type PartnerMeta,
  type PartnerScope,
  SUBSCRIBABLE_TYPES,
  type SubscriptionRow,
} from './contract.ts';
import type { PartnerHub } from './hub.ts';
import { createClient, revokeClient } from './oauth.ts';
import { checkTargetUrl } from './ssrf.ts';
import * as store from './store.ts';

const isAdmin = (p: Principal) => p.user.role === 'administrator';

/** Up to 100 characters of an id from a path (as stored in audit targets and looked up). */
const clip = (id: string) => id.slice(0, 100);

export interface CreatedClient {
  readonly client: ApiClientRow;
  readonly clientSecret: string;
}

export interface CreatedSubscription {
  readonly subscription: store.SubscriptionRecord;
  readonly secret: string;
}

export function partnerService(ctx: Context, hub: PartnerHub) {
  const denied = (
    req: FastifyRequest,
    p: Principal,
    target: { type: string; id: string },
    reason: string,
  ) => recordDenied(ctx, req, p.user, { target, reason });

  const tenantNames = async (): Promise<Map<string, Tenant>> =>
    new Map((await allTenants(ctx.db)).map((t) => [t.id, t]));

  /** The tenant a new client/subscription belongs to: own (partners), any but the operator (admins). */
  const targetTenant = async (req: FastifyRequest, p: Principal, requested?: string) => {
    const id = requested ?? p.user.tenantId;
    const tenant = await tenantById(ctx.db, id);
    if (!tenant || (!isAdmin(p) && id !== p.user.tenantId)) {
      await denied(req, p, { type: 'tenant', id: clip(id) }, 'tenant out of scope');
      return fail(404, 'not_found', 'not found');
    }
    if (tenant.kind === 'operator')
      return fail(400, 'bad_request', 'choose a partner or customer tenant');
    return tenant;
  };

  /** The client / subscription `id` in the principal's scope, else 404 (audited). */
  const scopedClient = async (req: FastifyRequest, p: Principal, id: string) => {
    const client = await store.clientById(ctx.db, clip(id));
    if (!client || (!isAdmin(p) && client.tenantId !== p.user.tenantId)) {
      await denied(req, p, { type: 'clients', id: clip(id) }, 'object out of scope');
      return fail(404, 'not_found', 'not found');
    }
    return client;
  };
  const scopedSubscription = async (req: FastifyRequest, p: Principal, id: string) => {
    const subscription = await store.subscriptionById(ctx.db, clip(id));
    if (!subscription || (!isAdmin(p) && subscription.tenantId !== p.user.tenantId)) {
      await denied(req, p, { type: 'subscriptions', id: clip(id) }, 'object out of scope');
      return fail(404, 'not_found', 'not found');
    }
    return subscription;
  };

  /** Partners see their own tenant's objects, administrators every tenant's. */
  const ownTenant = (p: Principal) => (isAdmin(p) ? undefined : p.user.tenantId);

  const views = async (subscriptions: readonly store.SubscriptionRecord[]) => {
    const names = await tenantNames();
    return subscriptions.map((s) =>
      store.subscriptionRow(s, names.get(s.tenantId)?.name ?? s.tenantId),
    );
  };

  const service = {
    /** A tenant and — for a partner tenant — the customers assigned to it. */
    async clientTenants(tenant: string): Promise<string[]> {
      return [tenant, ...(await customersOf(ctx.db, tenant))];
    },

    /** The page's and the API's view of one subscription. */
    async subscriptionView(s: store.SubscriptionRecord): Promise<SubscriptionRow> {
      const [view] = await views([s]);
      return view as SubscriptionRow;
    },

    /** The subscriptions of one tenant (every tenant's when undefined), newest first. */
    async subscriptionsOf(
      tenantId: string | undefined,
      limit?: number,
    ): Promise<SubscriptionRow[]> {
      return views(await store.listSubscriptions(ctx.db, tenantId, limit));
    },

    /**
     * A new subscription of `tenant` with a fresh signing secret (sealed at rest). The URL must
     * pass the SSRF policy; a refusal names the `url` field and its reason.
     */
    async newSubscription(
      tenant: string,
      url: string,
      eventTypes: readonly string[],
      createdBy: string,
    ): Promise<CreatedSubscription> {
      const checked = checkTargetUrl(url, hub.targets);
      if (!checked.ok)
        return fail(400, 'bad_request', 'the webhook URL is not allowed', {
          fields: [{ path: 'url', message: checked.reason }],
        });
      const id = `whs_${randomBytes(12).toString('base64url')}`;
      const secret = newWebhookSecret();
      const subscription = await store.insertSubscription(ctx.db, {
        id,
        tenantId: tenant,
        url: checked.url.toString(),
        eventTypes,
        secretSealed: await hub.sealSecret(id, secret),
        createdBy,
        createdAt: ctx.now(),
      });
      return { subscription, secret };
    },

    /** The events of `tenants`, newest first (the page's and the API's list). */
    eventsOf(tenants: readonly string[], q: EventsQuery): Promise<PartnerEvent[]> {
      return hub.recentEvents(tenants, {
        limit: q.limit ?? 50,
        ...(q.before ? { before: Date.parse(q.before) } : {}),
        ...(q.type ? { type: q.type } : {}),
      });
    },

    // ------------------------------------------------------------ the page

    async meta(p: Principal): Promise<PartnerMeta> {
      const tenants = [...(await tenantNames()).values()]
        .filter((t) => t.kind !== 'operator' && (isAdmin(p) || t.id === p.user.tenantId))
        .sort((a, b) => a.name.localeCompare(b.name));
      return {
        scopes: [...PARTNER_SCOPES],
        eventTypes: [...SUBSCRIBABLE_TYPES],
        tenants,
        tokenUrl: `${ctx.origin()}/oauth/token`,
        apiBase: `${ctx.origin()}/partner-api/v1`,
        streams: hub.streams.stats(),
      };
    },

    listClients(p: Principal): Promise<ApiClientRow[]> {
      return store.listClients(ctx.db, ownTenant(p));
    },

    async createClient(
      req: FastifyRequest,
      p: Principal,
      body: { tenantId?: string | undefined; name: string; scopes: PartnerScope[] },
    ): Promise<CreatedClient> {
      const tenant = await targetTenant(req, p, body.tenantId);
      // Onboarded partners: sandbox only until certified; production scopes from an administrator.
      await checkClientScopes(ctx, tenant.id, body.scopes, isAdmin(p));
      const created = await createClient(ctx, {
        tenantId: tenant.id,
        name: body.name,
        scopes: body.scopes,
        createdBy: p.user.id,
      });
      await recordUserAction(
        ctx,
        req,
        p,
        'partner.client.created',
        tenant.id,
        { type: 'api-client', id: created.client.clientId },
        { scopes: body.scopes },
      );
      return created;
    },

    async revokeClient(req: FastifyRequest, p: Principal, id: string): Promise<ApiClientRow> {
      const client = await scopedClient(req, p, id);
      // Idempotent answer; audited once, by the call that revoked it.
      if (await revokeClient(ctx, client.clientId))
        await recordUserAction(ctx, req, p, 'partner.client.revoked', client.tenantId, {
          type: 'api-client',
          id: client.clientId,
        });
      return (await store.clientById(ctx.db, client.clientId)) ?? client;
    },

    subscriptions(p: Principal): Promise<SubscriptionRow[]> {
      return service.subscriptionsOf(ownTenant(p), 500);
    },

    async createSubscription(
      req: FastifyRequest,
      p: Principal,
      body: { tenantId?: string | undefined; url: string; eventTypes: string[] },
    ): Promise<{ subscription: SubscriptionRow; secret: string }> {
      const tenant = await targetTenant(req, p, body.tenantId);
      const { subscription, secret } = await service.newSubscription(
        tenant.id,
        body.url,
        body.eventTypes,
        p.user.id,
      );
      await recordUserAction(
        ctx,
        req,
        p,
        'partner.subscription.created',
        tenant.id,
        { type: 'webhook-subscription', id: subscription.id },
        { eventTypes: body.eventTypes, host: new URL(subscription.url).host },
      );
      return { subscription: await service.subscriptionView(subscription), secret };
    },

    async updateSubscription(
      req: FastifyRequest,
      p: Principal,
      id: string,
      body: { active?: boolean | undefined; eventTypes?: string[] | undefined },
    ): Promise<SubscriptionRow> {
      const subscription = await scopedSubscription(req, p, id);
      // One statement, row locked: both fields change together, and only a real change is
      // written and audited (concurrent identical updates: one change, one audit event).
      const changed = await store.updateSubscription(
        ctx.db,
        subscription.id,
        body.active,
        body.eventTypes && [...new Set(body.eventTypes)],
      );
      if (changed)
        await recordUserAction(
          ctx,
          req,
          p,
          'partner.subscription.updated',
          subscription.tenantId,
          { type: 'webhook-subscription', id: subscription.id },
          changed.changes,
        );
      const now = await store.subscriptionById(ctx.db, subscription.id);
      if (!now) return fail(404, 'not_found', 'not found');
      return service.subscriptionView(now);
    },

    async deleteSubscription(req: FastifyRequest, p: Principal, id: string): Promise<void> {
      const subscription = await scopedSubscription(req, p, id);
      // Of concurrent deletions one wins (204, audited), the others see 404.
      if (!(await store.deleteSubscription(ctx.db, subscription.id)))
        return fail(404, 'not_found', 'not found');
      await recordUserAction(ctx, req, p, 'partner.subscription.deleted', subscription.tenantId, {
        type: 'webhook-subscription',
        id: subscription.id,
      });
    },

    async pingSubscription(req: FastifyRequest, p: Principal, id: string): Promise<string> {
      const subscription = await scopedSubscription(req, p, id);
      const deliveryId = await hub.ping(subscription.id, subscription.tenantId);
      await recordUserAction(ctx, req, p, 'partner.subscription.pinged', subscription.tenantId, {
        type: 'webhook-subscription',
        id: subscription.id,
      });
      return deliveryId;
    },

    deliveries(
      p: Principal,
      q: {
        subscriptionId?: string | undefined;
        status?: DeliveryRow['status'] | undefined;
        limit?: number | undefined;
      },
    ): Promise<DeliveryRow[]> {
      const tenantId = ownTenant(p);
      return store.listDeliveries(ctx.db, {
        limit: q.limit ?? 100,
        ...(tenantId === undefined ? {} : { tenantId }),
        ...(q.subscriptionId ? { subscriptionId: q.subscriptionId } : {}),
        ...(q.status ? { status: q.status } : {}),
      });
    },

    async redeliver(
      req: FastifyRequest,
      p: Principal,
      id: string,
    ): Promise<{ id: string; status: 'pending' }> {
      const delivery = await store.deliveryTenant(ctx.db, clip(id));
      if (!delivery || (!isAdmin(p) && delivery.tenantId !== p.user.tenantId)) {
        await denied(req, p, { type: 'webhook-delivery', id: clip(id) }, 'object out of scope');
        return fail(404, 'not_found', 'not found');
      }
      const outcome = await hub.redeliver(delivery.id);
      if (outcome === 'not_found') return fail(404, 'not_found', 'not found');
      if (outcome === 'in_progress')
        return fail(409, 'delivery_in_progress', 'an attempt of this delivery is running', {
          detail: 'wait for the running attempt to finish, then redeliver if it failed',
        });
      await recordUserAction(ctx, req, p, 'partner.delivery.redelivered', delivery.tenantId, {
        type: 'webhook-delivery',
        id: delivery.id,
      });
      return { id: delivery.id, status: 'pending' };
    },

    async events(p: Principal, q: EventsQuery): Promise<PartnerEvent[]> {
      const tenants = isAdmin(p)
        ? [...(await tenantNames()).keys()].filter((id) => id !== OPERATOR_TENANT)
        : await service.clientTenants(p.user.tenantId);
      return service.eventsOf(tenants, q);
    },
  };
  return service;
}

export type PartnerService = ReturnType<typeof partnerService>;
