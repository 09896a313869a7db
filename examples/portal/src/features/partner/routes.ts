/**
 * The partner page's routes (`/api/partner/…`, session + CSRF, permission `partner.manage`):
 * authorize → parse → service → reply. Also owns the partner hub's life: the webhook worker and
 * the relay feed consumer start when the server is ready and stop when it closes; the hub is
 * handed to the partner machine API (features/partner-api).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize, type Context, type Principal, tenantById } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import {
  createClientBody,
  createSubscriptionBody,
  deliveriesQuery,
  eventsQuery,
  updateSubscriptionBody,
} from './contract.ts';
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
          if (await tenantById(ctx, event.tenant)) await hub.emit(event);
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
  /** Partners manage their own tenant's clients and subscriptions; administrators all tenants'. */
  const authorizePartner = (req: FastifyRequest): Promise<Principal> =>
    authorize(ctx, req, 'partner.manage');

  app.get('/api/partner/meta', async (req) => service.meta(await authorizePartner(req)));

  // ------------------------------------------------------------ API clients

  app.get('/api/partner/clients', async (req) => ({
    clients: await service.listClients(await authorizePartner(req)),
  }));

  app.post('/api/partner/clients', async (req) => {
    const body = parse(createClientBody, req.body);
    return service.createClient(req, await authorizePartner(req), body);
  });

  app.post<{ Params: { id: string } }>('/api/partner/clients/:id/revoke', async (req) => ({
    client: await service.revokeClient(req, await authorizePartner(req), req.params.id),
  }));

  // ------------------------------------------------------------ webhook subscriptions

  app.get('/api/partner/subscriptions', async (req) => ({
    subscriptions: await service.subscriptions(await authorizePartner(req)),
  }));

  app.post('/api/partner/subscriptions', async (req) => {
    const body = parse(createSubscriptionBody, req.body);
    return service.createSubscription(req, await authorizePartner(req), body);
  });

  app.patch<{ Params: { id: string } }>('/api/partner/subscriptions/:id', async (req) => {
    const body = parse(updateSubscriptionBody, req.body);
    const p = await authorizePartner(req);
    return { subscription: await service.updateSubscription(req, p, req.params.id, body) };
  });

  app.delete<{ Params: { id: string } }>('/api/partner/subscriptions/:id', async (req, reply) => {
    await service.deleteSubscription(req, await authorizePartner(req), req.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/partner/subscriptions/:id/ping', async (req) => ({
    deliveryId: await service.pingSubscription(req, await authorizePartner(req), req.params.id),
  }));

  // ------------------------------------------------------------ delivery log and events

  app.get('/api/partner/deliveries', async (req) => {
    const p = await authorizePartner(req);
    return { deliveries: await service.deliveries(p, parse(deliveriesQuery, req.query)) };
  });

  app.post<{ Params: { id: string } }>('/api/partner/deliveries/:id/redeliver', async (req) =>
    service.redeliver(req, await authorizePartner(req), req.params.id),
  );

  app.get('/api/partner/events', async (req) => {
    const p = await authorizePartner(req);
    return { events: await service.events(p, parse(eventsQuery, req.query)) };
  });

  return hub;
}
