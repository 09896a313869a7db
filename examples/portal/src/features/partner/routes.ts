/**
 * Partner integration: API clients (OAuth2 client credentials), webhook subscriptions, the
 * delivery log with manual redelivery (portal pages, session + CSRF under `/api/partner`), the
 * token endpoint `POST /oauth/token` and the bearer-protected partner API `/partner-api/v1/…`
 * (not under `/api`, so the browser CSRF rule does not apply; scopes per route, a fixed-window
 * rate limit per client, problem+json errors).
 *
 * Also owns the partner hub's life: the webhook worker and the relay feed consumer start when
 * the server is ready and stop when it closes.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  authorize,
  type Context,
  OPERATOR_TENANT,
  type Principal,
  record,
  recordUserAction,
} from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import { newWebhookSecret } from '../../server/partner/signing.ts';
import { RelayGatewayError } from '../../server/relay-gateway.ts';
import { checkClientScopes } from '../../server/routes/onboarding.ts';
import type { Tenant } from '../../shared/api.ts';
import { attachHub, detachHub } from './events.ts';
import { deliveryRow, type HubOptions, PartnerHub } from './hub.ts';
import {
  PARTNER_EVENT_TYPES,
  PARTNER_SCOPES,
  type PartnerScope,
  SUBSCRIBABLE_TYPES,
} from './model.ts';
import {
  type AuthenticatedClient,
  authenticateClient,
  clientRow,
  createClient,
  FixedWindowLimiter,
  issueToken,
  revokeClient,
  tokenClient,
} from './oauth.ts';
import {
  type RelayFeedConsumer,
  type RelayFeedOptions,
  startRelayFeedConsumer,
} from './relay-feed.ts';
import { checkTargetUrl } from './ssrf.ts';
import { deleteSubscription, updateSubscription } from './store.ts';

export interface PartnerRoutesOptions extends HubOptions {
  /** Consume the relay's feed (`fluxel.events` / `FLUXEL_EVENTS`) and map it to partner events. */
  readonly relayFeed?: RelayFeedOptions;
  /** Access token lifetime (default 900 s). */
  readonly tokenTtlS?: number;
  /** Partner API requests per client and window (default 120 per 60 s). */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
}

const REALM = 'fluxel-partner-api';

// ---------------------------------------------------------------- request bodies

const tenantId = z.string().min(1).max(100);
const scopeList = z.array(z.enum(PARTNER_SCOPES)).min(1).max(PARTNER_SCOPES.length);
const typeList = z
  .array(z.enum(SUBSCRIBABLE_TYPES as [string, ...string[]]))
  .min(1)
  .max(SUBSCRIBABLE_TYPES.length);

const createClientBody = z.strictObject({
  tenantId: tenantId.optional(),
  name: z.string().trim().min(1).max(100),
  scopes: scopeList,
});
const createSubscriptionBody = z.strictObject({
  tenantId: tenantId.optional(),
  url: z.string().trim().min(8).max(2000),
  eventTypes: typeList,
});
const updateSubscriptionBody = z.strictObject({
  active: z.boolean().optional(),
  eventTypes: typeList.optional(),
});
const deliveriesQuery = z.strictObject({
  subscriptionId: z.string().min(1).max(100).optional(),
  status: z.enum(['pending', 'delivering', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
const eventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  before: z.iso.datetime().optional(),
  type: z.enum(PARTNER_EVENT_TYPES).optional(),
});
const licensesQuery = z.strictObject({ tenantId: tenantId.optional() });
const tokenBody = z.object({
  grant_type: z.string().max(100).optional(),
  scope: z.string().max(500).optional(),
  client_id: z.string().max(200).optional(),
  client_secret: z.string().max(500).optional(),
});

// ---------------------------------------------------------------- partner API problems

type ApiCode =
  | 'bad_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'rate_limited'
  | 'not_found'
  | 'upstream_unavailable'
  | 'internal';

class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiCode,
    readonly title: string,
    readonly extra: {
      fields?: { path: string; message: string }[];
      retryAfter?: number;
      wwwAuthenticate?: string;
    } = {},
  ) {
    super(title);
  }
}

function apiParse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new ApiProblem(400, 'bad_request', 'the request is not valid', {
    fields: result.error.issues.slice(0, 20).map((issue) => ({
      path: issue.path.map(String).join('.') || '(query)',
      message: issue.message,
    })),
  });
}

function sendApiProblem(reply: FastifyReply, p: ApiProblem): FastifyReply {
  if (p.extra.retryAfter !== undefined)
    void reply.header('retry-after', String(p.extra.retryAfter));
  if (p.extra.wwwAuthenticate) void reply.header('www-authenticate', p.extra.wwwAuthenticate);
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send({
      type: `https://fluxel.example/problems/${p.code}`,
      title: p.title,
      status: p.status,
      code: p.code,
      ...(p.extra.fields ? { fields: p.extra.fields } : {}),
      ...(p.extra.retryAfter !== undefined ? { retryAfter: p.extra.retryAfter } : {}),
    });
}

/** RFC 6749 §5.2 error answer of the token endpoint. */
function oauthError(
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
  basicChallenge = false,
): FastifyReply {
  if (basicChallenge) void reply.header('www-authenticate', `Basic realm="${REALM}"`);
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .send({ error, error_description: description });
}

// ---------------------------------------------------------------- routes

export function partnerRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: PartnerRoutesOptions = {},
): void {
  const onError =
    options.onError ??
    ((error: unknown, where: string) =>
      app.log.warn({ err: { message: (error as Error)?.message } }, `partner: ${where} failed`));
  const hub = new PartnerHub(ctx, { ...options, onError });
  attachHub(ctx, hub);
  const limiter = new FixedWindowLimiter(
    options.rateLimit?.limit ?? 120,
    options.rateLimit?.windowMs ?? 60_000,
    options.clock ?? ctx.now,
  );
  const failedAuth = new FixedWindowLimiter(30, 60_000, options.clock ?? ctx.now);
  const tokenTtlS = options.tokenTtlS ?? 900;
  let feed: RelayFeedConsumer | undefined;

  app.addHook('onReady', async () => {
    hub.start();
    const rf = options.relayFeed;
    if (rf && (rf.amqpUrl || rf.natsUrl))
      feed = await startRelayFeedConsumer(
        rf,
        async (event) => {
          // Only tenants the portal knows; the relay may serve others.
          const { rows } = await ctx.db.query('SELECT 1 FROM portal_tenants WHERE id = $1', [
            event.tenant,
          ]);
          if (rows.length > 0) await hub.emit(event);
        },
        (error) => onError(error, 'relay feed'),
      );
  });
  app.addHook('onClose', async () => {
    await feed?.close();
    await hub.stop();
    detachHub(ctx, hub);
  });

  const tenantsById = async (): Promise<Map<string, Tenant>> => {
    const { rows } = await ctx.db.query('SELECT id, name, kind FROM portal_tenants');
    return new Map(
      rows.map((r) => [
        String(r.id),
        { id: String(r.id), name: String(r.name), kind: r.kind as Tenant['kind'] },
      ]),
    );
  };

  // ============================================================ portal pages (/api/partner)

  /** Partners manage their own tenant's clients and subscriptions; administrators all tenants'. */
  const authorizePartner = (req: FastifyRequest): Promise<Principal> =>
    authorize(ctx, req, 'partner.manage');
  const isAdmin = (p: Principal) => p.user.role === 'administrator';

  /** The tenant a new client/subscription belongs to: own (partners), any but the operator (admins). */
  const targetTenant = async (req: FastifyRequest, p: Principal, requested?: string) => {
    const id = requested ?? p.user.tenantId;
    const tenant = (await tenantsById()).get(id);
    if (!tenant || (!isAdmin(p) && id !== p.user.tenantId)) {
      await record(ctx, req, {
        tenant: p.user.tenantId,
        actor: { type: 'user', id: p.user.id },
        action: 'access.denied',
        outcome: 'denied',
        target: { type: 'tenant', id: id.slice(0, 100) },
        reason: 'tenant out of scope',
      });
      return fail(404, 'not_found', 'not found');
    }
    if (tenant.kind === 'operator')
      return fail(400, 'bad_request', 'choose a partner or customer tenant');
    return tenant;
  };

  /** A row of `table` in the principal's scope, else 404 (audited). */
  const scoped = async (
    req: FastifyRequest,
    p: Principal,
    table: 'portal_partner_clients' | 'portal_partner_subscriptions',
    id: string,
  ) => {
    const { rows } = await ctx.db.query(`SELECT * FROM ${table} WHERE id = $1`, [id.slice(0, 100)]);
    const row = rows[0];
    if (!row || (!isAdmin(p) && String(row.tenant_id) !== p.user.tenantId)) {
      await record(ctx, req, {
        tenant: p.user.tenantId,
        actor: { type: 'user', id: p.user.id },
        action: 'access.denied',
        outcome: 'denied',
        target: { type: table.replace('portal_partner_', ''), id: id.slice(0, 100) },
        reason: 'object out of scope',
      });
      return fail(404, 'not_found', 'not found');
    }
    return row;
  };

  const audit = (
    req: FastifyRequest,
    p: Principal,
    action: string,
    tenant: string,
    target: { type: string; id: string },
    data?: Record<string, unknown>,
  ) => recordUserAction(ctx, req, p, action, tenant, target, data);

  const subscriptionRow = (r: Record<string, unknown>, names: Map<string, Tenant>) => ({
    id: String(r.id),
    tenantId: String(r.tenant_id),
    tenantName: names.get(String(r.tenant_id))?.name ?? String(r.tenant_id),
    url: String(r.url),
    eventTypes: String(r.event_types).split(' ').filter(Boolean),
    active: Boolean(r.active),
    createdAt: new Date(Number(r.created_at)).toISOString(),
  });

  const scopeWhere = (p: Principal, column = 'tenant_id') =>
    isAdmin(p)
      ? { sql: 'TRUE', params: [] as unknown[] }
      : { sql: `${column} = $1`, params: [p.user.tenantId] as unknown[] };

  app.get('/api/partner/meta', async (req) => {
    const p = await authorizePartner(req);
    const names = await tenantsById();
    const tenants = [...names.values()]
      .filter((t) => t.kind !== 'operator' && (isAdmin(p) || t.id === p.user.tenantId))
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      scopes: PARTNER_SCOPES,
      eventTypes: SUBSCRIBABLE_TYPES,
      tenants,
      tokenUrl: `${ctx.origin()}/oauth/token`,
      apiBase: `${ctx.origin()}/partner-api/v1`,
      streams: hub.streams.stats(),
    };
  });

  // ------------------------------------------------------------ API clients

  app.get('/api/partner/clients', async (req) => {
    const p = await authorizePartner(req);
    const w = scopeWhere(p);
    const { rows } = await ctx.db.query(
      `SELECT * FROM portal_partner_clients WHERE ${w.sql} ORDER BY created_at DESC LIMIT 500`,
      w.params,
    );
    return { clients: rows.map(clientRow) };
  });

  app.post('/api/partner/clients', async (req) => {
    const body = parse(createClientBody, req.body);
    const p = await authorizePartner(req);
    const tenant = await targetTenant(req, p, body.tenantId);
    // Onboarded partners: sandbox only until certified; production scopes from an administrator.
    await checkClientScopes(ctx, tenant.id, body.scopes, isAdmin(p));
    const created = await createClient(ctx, {
      tenantId: tenant.id,
      name: body.name,
      scopes: body.scopes,
      createdBy: p.user.id,
    });
    await audit(
      req,
      p,
      'partner.client.created',
      tenant.id,
      { type: 'api-client', id: created.client.clientId },
      { scopes: body.scopes },
    );
    return created;
  });

  app.post<{ Params: { id: string } }>('/api/partner/clients/:id/revoke', async (req) => {
    const p = await authorizePartner(req);
    const row = await scoped(req, p, 'portal_partner_clients', req.params.id);
    // Idempotent answer; audited once, by the call that revoked it.
    if (await revokeClient(ctx, String(row.id)))
      await audit(req, p, 'partner.client.revoked', String(row.tenant_id), {
        type: 'api-client',
        id: String(row.id),
      });
    const { rows } = await ctx.db.query('SELECT * FROM portal_partner_clients WHERE id = $1', [
      row.id,
    ]);
    return { client: clientRow(rows[0] as Record<string, unknown>) };
  });

  // ------------------------------------------------------------ webhook subscriptions

  const createSubscription = async (
    tenant: string,
    url: string,
    eventTypes: readonly string[],
    createdBy: string,
  ) => {
    const checked = checkTargetUrl(url, hub.targets);
    if (!checked.ok)
      return fail(400, 'bad_request', 'the webhook URL is not allowed', {
        fields: [{ path: 'url', message: checked.reason }],
      });
    const id = `whs_${randomBytes(12).toString('base64url')}`;
    const secret = newWebhookSecret();
    await ctx.db.query(
      `INSERT INTO portal_partner_subscriptions (id, tenant_id, url, event_types, secret_sealed, active, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, true, $6, $7)`,
      [
        id,
        tenant,
        checked.url.toString(),
        [...new Set(eventTypes)].join(' '),
        await hub.sealSecret(id, secret),
        createdBy,
        ctx.now(),
      ],
    );
    const { rows } = await ctx.db.query(
      'SELECT * FROM portal_partner_subscriptions WHERE id = $1',
      [id],
    );
    return { row: rows[0] as Record<string, unknown>, secret };
  };

  app.get('/api/partner/subscriptions', async (req) => {
    const p = await authorizePartner(req);
    const w = scopeWhere(p);
    const { rows } = await ctx.db.query(
      `SELECT * FROM portal_partner_subscriptions WHERE ${w.sql} ORDER BY created_at DESC LIMIT 500`,
      w.params,
    );
    const names = await tenantsById();
    return { subscriptions: rows.map((r) => subscriptionRow(r, names)) };
  });

  app.post('/api/partner/subscriptions', async (req) => {
    const body = parse(createSubscriptionBody, req.body);
    const p = await authorizePartner(req);
    const tenant = await targetTenant(req, p, body.tenantId);
    const { row, secret } = await createSubscription(
      tenant.id,
      body.url,
      body.eventTypes,
      p.user.id,
    );
    await audit(
      req,
      p,
      'partner.subscription.created',
      tenant.id,
      { type: 'webhook-subscription', id: String(row.id) },
      { eventTypes: body.eventTypes, host: new URL(String(row.url)).host },
    );
    return { subscription: subscriptionRow(row, await tenantsById()), secret };
  });

  app.patch<{ Params: { id: string } }>('/api/partner/subscriptions/:id', async (req) => {
    const body = parse(updateSubscriptionBody, req.body);
    const p = await authorizePartner(req);
    const row = await scoped(req, p, 'portal_partner_subscriptions', req.params.id);
    // One statement, row locked: both fields change together, and only a real change is
    // written and audited (concurrent identical updates: one change, one audit event).
    const changed = await updateSubscription(
      ctx.db,
      String(row.id),
      body.active,
      body.eventTypes && [...new Set(body.eventTypes)],
    );
    if (changed)
      await audit(
        req,
        p,
        'partner.subscription.updated',
        String(row.tenant_id),
        { type: 'webhook-subscription', id: String(row.id) },
        changed.changes,
      );
    const { rows } = await ctx.db.query(
      'SELECT * FROM portal_partner_subscriptions WHERE id = $1',
      [row.id],
    );
    if (!rows[0]) return fail(404, 'not_found', 'not found');
    return {
      subscription: subscriptionRow(rows[0] as Record<string, unknown>, await tenantsById()),
    };
  });

  app.delete<{ Params: { id: string } }>('/api/partner/subscriptions/:id', async (req, reply) => {
    const p = await authorizePartner(req);
    const row = await scoped(req, p, 'portal_partner_subscriptions', req.params.id);
    // Of concurrent deletions one wins (204, audited), the others see 404.
    if (!(await deleteSubscription(ctx.db, String(row.id))))
      return fail(404, 'not_found', 'not found');
    await audit(req, p, 'partner.subscription.deleted', String(row.tenant_id), {
      type: 'webhook-subscription',
      id: String(row.id),
    });
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/partner/subscriptions/:id/ping', async (req) => {
    const p = await authorizePartner(req);
    const row = await scoped(req, p, 'portal_partner_subscriptions', req.params.id);
    const deliveryId = await hub.ping(String(row.id), String(row.tenant_id));
    await audit(req, p, 'partner.subscription.pinged', String(row.tenant_id), {
      type: 'webhook-subscription',
      id: String(row.id),
    });
    return { deliveryId };
  });

  // ------------------------------------------------------------ delivery log

  app.get('/api/partner/deliveries', async (req) => {
    const p = await authorizePartner(req);
    const q = parse(deliveriesQuery, req.query);
    const params: unknown[] = [q.limit ?? 100];
    let where = 'TRUE';
    if (!isAdmin(p)) {
      params.push(p.user.tenantId);
      where += ` AND s.tenant_id = $${params.length}`;
    }
    if (q.subscriptionId) {
      params.push(q.subscriptionId);
      where += ` AND d.subscription_id = $${params.length}`;
    }
    if (q.status) {
      params.push(q.status);
      where += ` AND d.status = $${params.length}`;
    }
    const { rows } = await ctx.db.query(
      `SELECT d.*, e.type AS event_type, e.tenant_id AS tenant_id
       FROM portal_partner_deliveries d
       JOIN portal_partner_subscriptions s ON s.id = d.subscription_id
       JOIN portal_partner_events e ON e.id = d.event_id
       WHERE ${where} ORDER BY d.created_at DESC, d.id LIMIT $1`,
      params,
    );
    return { deliveries: rows.map(deliveryRow) };
  });

  app.post<{ Params: { id: string } }>('/api/partner/deliveries/:id/redeliver', async (req) => {
    const p = await authorizePartner(req);
    const { rows } = await ctx.db.query(
      `SELECT d.id, s.tenant_id FROM portal_partner_deliveries d
       JOIN portal_partner_subscriptions s ON s.id = d.subscription_id WHERE d.id = $1`,
      [req.params.id.slice(0, 100)],
    );
    const row = rows[0];
    if (!row || (!isAdmin(p) && String(row.tenant_id) !== p.user.tenantId)) {
      await record(ctx, req, {
        tenant: p.user.tenantId,
        actor: { type: 'user', id: p.user.id },
        action: 'access.denied',
        outcome: 'denied',
        target: { type: 'webhook-delivery', id: req.params.id.slice(0, 100) },
        reason: 'object out of scope',
      });
      return fail(404, 'not_found', 'not found');
    }
    const outcome = await hub.redeliver(String(row.id));
    if (outcome === 'not_found') return fail(404, 'not_found', 'not found');
    if (outcome === 'in_progress')
      return fail(409, 'delivery_in_progress', 'an attempt of this delivery is running', {
        detail: 'wait for the running attempt to finish, then redeliver if it failed',
      });
    await audit(req, p, 'partner.delivery.redelivered', String(row.tenant_id), {
      type: 'webhook-delivery',
      id: String(row.id),
    });
    return { id: String(row.id), status: 'pending' };
  });

  app.get('/api/partner/events', async (req) => {
    const p = await authorizePartner(req);
    const q = parse(eventsQuery, req.query);
    const tenants = isAdmin(p)
      ? [...(await tenantsById()).keys()].filter((id) => id !== OPERATOR_TENANT)
      : await clientTenants(p.user.tenantId);
    return {
      events: await hub.recentEvents(tenants, {
        limit: q.limit ?? 50,
        ...(q.before ? { before: Date.parse(q.before) } : {}),
        ...(q.type ? { type: q.type } : {}),
      }),
    };
  });

  /** A tenant and — for a partner tenant — the customers assigned to it. */
  async function clientTenants(tenant: string): Promise<string[]> {
    const { rows } = await ctx.db.query(
      'SELECT customer_id FROM portal_partner_customers WHERE partner_id = $1 ORDER BY customer_id',
      [tenant],
    );
    return [tenant, ...rows.map((r) => String(r.customer_id))];
  }

  // ============================================================ OAuth2 + partner API

  void app.register(async (api) => {
    api.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 8 * 1024 },
      (_req, body, done) => {
        try {
          done(null, Object.fromEntries(new URLSearchParams(String(body))));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
    );
    api.addHook('onRequest', async (_req, reply) => {
      void reply.header('cache-control', 'no-store');
    });
    api.setErrorHandler((error, req, reply) => {
      if (error instanceof ApiProblem) return sendApiProblem(reply, error);
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      if (status >= 400 && status < 500)
        return sendApiProblem(
          reply,
          new ApiProblem(status, 'bad_request', 'the request could not be read'),
        );
      req.log.error({ err: { message: (error as Error).message } }, 'partner api error');
      return sendApiProblem(reply, new ApiProblem(500, 'internal', 'something went wrong'));
    });

    // ---------------------------------------------------------- token endpoint (RFC 6749 §4.4)

    api.post('/oauth/token', async (req, reply) => {
      const parsed = tokenBody.safeParse(req.body ?? {});
      if (!parsed.success) return oauthError(reply, 400, 'invalid_request', 'malformed request');
      const body = parsed.data;
      const header = req.headers.authorization;
      let clientId: string | undefined;
      let secret: string | undefined;
      let basic = false;
      if (typeof header === 'string' && /^basic /i.test(header)) {
        basic = true;
        if (body.client_id !== undefined || body.client_secret !== undefined)
          return oauthError(reply, 400, 'invalid_request', 'use one client authentication method');
        const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0)
          return oauthError(reply, 401, 'invalid_client', 'bad client authentication', true);
        try {
          // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
          clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
          secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
        } catch {
          return oauthError(reply, 401, 'invalid_client', 'bad client authentication', true);
        }
      } else {
        clientId = body.client_id;
        secret = body.client_secret;
      }
      if (!body.grant_type)
        return oauthError(reply, 400, 'invalid_request', 'grant_type is missing');
      if (!clientId || !secret)
        return oauthError(reply, 401, 'invalid_client', 'client authentication is missing', true);
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
        void reply.header('retry-after', String(throttled.retryAfterS));
        return oauthError(reply, 429, 'slow_down', 'too many failed attempts; try again later');
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
        return oauthError(reply, 401, 'invalid_client', 'client authentication failed', basic);
      }
      failedAuth.refund(throttleKey);
      const limited = limiter.hit(client.clientId);
      if (!limited.ok) {
        void reply.header('retry-after', String(limited.retryAfterS));
        return oauthError(reply, 429, 'slow_down', 'rate limit exceeded');
      }
      if (body.grant_type !== 'client_credentials')
        return oauthError(reply, 400, 'unsupported_grant_type', 'only client_credentials');
      let scopes: PartnerScope[] = [...client.scopes];
      if (body.scope !== undefined) {
        const asked = body.scope.split(' ').filter(Boolean);
        if (asked.some((s) => !client.scopes.includes(s as PartnerScope)))
          return oauthError(reply, 400, 'invalid_scope', 'a requested scope is not granted');
        scopes = [...new Set(asked)] as PartnerScope[];
      }
      if (scopes.length === 0) return oauthError(reply, 400, 'invalid_scope', 'no scope');
      const token = await issueToken(ctx, client, scopes, tokenTtlS);
      await record(ctx, req, {
        tenant: client.tenantId,
        actor: { type: 'service', id: `api-client:${client.clientId}` },
        action: 'partner.token',
        outcome: 'success',
        data: { scopes },
      });
      return reply.header('pragma', 'no-cache').send({
        access_token: token.accessToken,
        token_type: 'Bearer',
        expires_in: token.expiresIn,
        scope: scopes.join(' '),
      });
    });

    // ---------------------------------------------------------- bearer + scope + rate limit

    const bearer = async (
      req: FastifyRequest,
      reply: FastifyReply,
      scope: PartnerScope,
    ): Promise<AuthenticatedClient> => {
      const header = req.headers.authorization;
      const match =
        typeof header === 'string' ? /^Bearer ([A-Za-z0-9_-]{1,200})$/i.exec(header) : null;
      if (!match)
        throw new ApiProblem(401, 'invalid_token', 'a bearer token is required', {
          wwwAuthenticate: `Bearer realm="${REALM}"`,
        });
      const client = await tokenClient(ctx, match[1] as string);
      if (!client)
        throw new ApiProblem(401, 'invalid_token', 'the token is invalid or expired', {
          wwwAuthenticate: `Bearer realm="${REALM}", error="invalid_token"`,
        });
      const limited = limiter.hit(client.clientId);
      if (!limited.ok)
        throw new ApiProblem(429, 'rate_limited', 'too many requests', {
          retryAfter: limited.retryAfterS,
        });
      void reply.header('x-ratelimit-remaining', String(limited.remaining));
      if (!client.scopes.includes(scope))
        throw new ApiProblem(403, 'insufficient_scope', `the token lacks the scope ${scope}`, {
          wwwAuthenticate: `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`,
        });
      return client;
    };

    api.get('/partner-api/v1/licenses', async (req, reply) => {
      const client = await bearer(req, reply, 'licenses:read');
      const q = apiParse(licensesQuery, req.query);
      const reachable = await clientTenants(client.tenantId);
      if (q.tenantId && !reachable.includes(q.tenantId))
        throw new ApiProblem(404, 'not_found', 'not found');
      const out = [];
      for (const tenant of q.tenantId ? [q.tenantId] : reachable) {
        let list: Awaited<ReturnType<Context['relay']['list']>>;
        try {
          list = await ctx.relay.list(tenant);
        } catch (error) {
          if (error instanceof RelayGatewayError)
            throw new ApiProblem(503, 'upstream_unavailable', 'try again shortly');
          throw error;
        }
        for (const l of list)
          out.push({
            id: l.id,
            tenantId: l.tenant,
            product: l.product,
            entitlements: l.entitlements,
            status: l.status,
            activated: l.status === 'active' || l.activatedAt !== undefined,
            createdAt: l.createdAt,
            ...(l.activatedAt ? { activatedAt: l.activatedAt } : {}),
            ...(l.lastSeenAt ? { lastSeenAt: l.lastSeenAt } : {}),
            ...(l.expiresAt ? { expiresAt: l.expiresAt } : {}),
          });
      }
      return { licenses: out };
    });

    api.get('/partner-api/v1/events', async (req, reply) => {
      const client = await bearer(req, reply, 'events:read');
      const q = apiParse(eventsQuery, req.query);
      const events = await hub.recentEvents(await clientTenants(client.tenantId), {
        limit: q.limit ?? 50,
        ...(q.before ? { before: Date.parse(q.before) } : {}),
        ...(q.type ? { type: q.type } : {}),
      });
      return { events };
    });

    // Webhook subscriptions of the client's own tenant.
    api.get('/partner-api/v1/webhooks', async (req, reply) => {
      const client = await bearer(req, reply, 'webhooks:manage');
      const { rows } = await ctx.db.query(
        'SELECT * FROM portal_partner_subscriptions WHERE tenant_id = $1 ORDER BY created_at DESC',
        [client.tenantId],
      );
      const names = await tenantsById();
      return { webhooks: rows.map((r) => subscriptionRow(r, names)) };
    });

    api.post('/partner-api/v1/webhooks', async (req, reply) => {
      const client = await bearer(req, reply, 'webhooks:manage');
      const body = apiParse(createSubscriptionBody.omit({ tenantId: true }), req.body);
      const checked = checkTargetUrl(body.url, hub.targets);
      if (!checked.ok)
        throw new ApiProblem(400, 'bad_request', 'the webhook URL is not allowed', {
          fields: [{ path: 'url', message: checked.reason }],
        });
      const { row, secret } = await createSubscription(
        client.tenantId,
        body.url,
        body.eventTypes,
        `api-client:${client.clientId}`,
      );
      await record(ctx, req, {
        tenant: client.tenantId,
        actor: { type: 'service', id: `api-client:${client.clientId}` },
        action: 'partner.subscription.created',
        outcome: 'success',
        target: { type: 'webhook-subscription', id: String(row.id) },
      });
      return reply.code(201).send({ webhook: subscriptionRow(row, await tenantsById()), secret });
    });

    api.delete<{ Params: { id: string } }>('/partner-api/v1/webhooks/:id', async (req, reply) => {
      const client = await bearer(req, reply, 'webhooks:manage');
      if (!(await deleteSubscription(ctx.db, req.params.id.slice(0, 100), client.tenantId)))
        throw new ApiProblem(404, 'not_found', 'not found');
      await record(ctx, req, {
        tenant: client.tenantId,
        actor: { type: 'service', id: `api-client:${client.clientId}` },
        action: 'partner.subscription.deleted',
        outcome: 'success',
        target: { type: 'webhook-subscription', id: req.params.id.slice(0, 100) },
      });
      return reply.code(204).send();
    });

    // Unknown partner API paths: problem+json, not the web app's index page.
    api.all('/partner-api/*', async (_req, reply) =>
      sendApiProblem(reply, new ApiProblem(404, 'not_found', 'no such partner API route')),
    );
  });
}
