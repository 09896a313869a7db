/**
 * The partner page's routes (`/api/partner/…`, session + CSRF, permission `partner.manage`),
 * served from the contract: authorize → parse → service → reply. Also owns the partner hub's
 * life: the webhook worker and the relay feed consumer start when the server is ready and stop
 * when it closes; the hub is handed to the partner machine API (features/partner-api).
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { tenantById } from '../tenants/store.ts';
import { partnerContract } from './contract.ts';
import { attachHub, detachHub } from './events.ts';
import { type HubOptions, PartnerHub } from './hub.ts';
import {
  type RelayFeedConsumer,
  type RelayFeedOptions,
  startRelayFeedConsumer,
} from './relay-feed.ts';
import { partnerService } from './service.ts';

export interface PartnerRoutesOptions extends HubOptions {
  /** Consume the relay's feed (`fluxel.events` / `FLUXEL_EVENTS`) and map it to partner events. */
  readonly relayFeed?: RelayFeedOptions;
}

/** Creates the partner hub of `ctx` and ties its worker and the relay feed to the server's life. */
function startPartnerHub(
  app: FastifyInstance,
  ctx: Context,
  options: PartnerRoutesOptions,
): PartnerHub {
  const onError =
    options.onError ??
    ((error: unknown, where: string) =>
      app.log.warn({ err: { message: (error as Error)?.message } }, `partner: ${where} failed`));
  const hub = new PartnerHub(ctx, { ...options, onError });
  attachHub(ctx, hub);
  let feed: RelayFeedConsumer | undefined;
  app.addHook('onReady', async () => {
    hub.start();
    const rf = options.relayFeed;
    if (rf && (rf.amqpUrl || rf.natsUrl))
      feed = await startRelayFeedConsumer(
        rf,
        async (event) => {
          // Only tenants the portal knows; the relay may serve others.
          if (await tenantById(ctx.db, event.tenant)) await hub.emit(event);
        },
        (error) => onError(error, 'relay feed'),
      );
  });
  app.addHook('onClose', async () => {
    await feed?.close();
    await hub.stop();
    detachHub(ctx, hub);
  });
  return hub;
}

/** Registers the partner page's routes; returns the hub (the partner API needs it). */
export function partnerRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: PartnerRoutesOptions = {},
): PartnerHub {
  const hub = startPartnerHub(app, ctx, options);
  const service = partnerService(ctx, hub);
  // Partners manage their own tenant's clients and subscriptions; administrators all tenants'.
  serveAll(app, ctx, partnerContract, {
    meta: async ({ principal }) => service.meta(principal),
    clients: async ({ principal }) => ({ clients: await service.listClients(principal) }),
    createClient: async ({ req, principal, body }) => service.createClient(req, principal, body),
    revokeClient: async ({ req, principal, params }) => ({
      client: await service.revokeClient(req, principal, params.id),
    }),
    subscriptions: async ({ principal }) => ({
      subscriptions: await service.subscriptions(principal),
    }),
    createSubscription: async ({ req, principal, body }) =>
      service.createSubscription(req, principal, body),
    updateSubscription: async ({ req, principal, params, body }) => ({
      subscription: await service.updateSubscription(req, principal, params.id, body),
    }),
    deleteSubscription: async ({ req, principal, params }) => {
      await service.deleteSubscription(req, principal, params.id);
    },
    pingSubscription: async ({ req, principal, params }) => ({
      deliveryId: await service.pingSubscription(req, principal, params.id),
    }),
    deliveries: async ({ principal, query }) => ({
      deliveries: await service.deliveries(principal, query),
    }),
    redeliver: async ({ req, principal, params }) => service.redeliver(req, principal, params.id),
    events: async ({ principal, query }) => ({ events: await service.events(principal, query) }),
  });
  return hub;
}
