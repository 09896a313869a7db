/**
 * Partner integration against the real server: webhook delivery with the receiver down and
 * back up (every event exactly once per subscription, valid Standard Webhooks signatures, the
 * delivery log's attempts, manual redelivery), the same events on RabbitMQ
 * (`fluxel.partner-events`) and NATS JetStream (`FLUXEL_PARTNER_EVENTS`) — real servers at
 * `AMQP_URL` / `NATS_URL`, skipped when unreachable (a failure under `CI=true`) —, the relay
 * feed mapped to partner events, and the partner API: OAuth2 client credentials, scopes,
 * rate limit, tenant scoping, problem+json validation errors.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import { amqpSink, natsSink } from '@fluxel-example/kit/brokers';
import { verifyWebhook } from '@fluxel-example/kit/webhooks';
import { EventFeed } from '@fluxel-example/relay';
import amqp from 'amqplib';
import { type NatsConnection, connect as natsConnect } from 'nats';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartnerEvent } from '../src/features/partner/contract.ts';
import { emitPartnerEvent, licenseLockChanged } from '../src/features/partner/events.ts';
import { checkTargetUrl } from '../src/features/partner/ssrf.ts';
import {
  PARTNER_EXCHANGE,
  PARTNER_STREAM,
  PARTNER_SUBJECT_PREFIX,
} from '../src/features/partner/streams.ts';
import type { Context } from '../src/server/context.ts';
import { type PortalHarness, type SignedUp, startPortalHarness } from './helpers.ts';

const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

async function amqpReachable(): Promise<boolean> {
  try {
    const model = await amqp.connect(amqpUrl, { timeout: READY_BOUND_MS });
    model.on('error', () => {});
    await model.close();
    return true;
  } catch {
    return false;
  }
}
async function natsReachable(): Promise<boolean> {
  try {
    const nc = await natsConnect({
      servers: natsUrl,
      timeout: READY_BOUND_MS,
      maxReconnectAttempts: 0,
    });
    await (await nc.jetstreamManager()).getAccountInfo();
    await nc.close();
    return true;
  } catch {
    return false;
  }
}
const skipAmqp = (await amqpReachable())
  ? undefined
  : missingDependency(`RabbitMQ at ${amqpUrl}`, 'start rabbitmq-server or set AMQP_URL');
const skipNats = (await natsReachable())
  ? undefined
  : missingDependency(`NATS JetStream at ${natsUrl}`, 'start nats-server -js or set NATS_URL');
if (skipAmqp) console.warn(`${skipAmqp}: RabbitMQ partner stream test skipped`);
if (skipNats) console.warn(`${skipNats}: NATS partner stream test skipped`);

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = READY_BOUND_MS,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const run = randomBytes(4).toString('hex');
const PARTNER = `ptn-${run}`;
const CUSTOMER = `cust-${run}`;
const OTHER = `other-${run}`;

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver on a fixed loopback port that can be down (closed) and up again. */
class Receiver {
  readonly got: Received[] = [];
  private server: Server | undefined;
  constructor(readonly port: number) {}
  static async freePort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.server = server;
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

let h: PortalHarness;
let ctx: Context;
let admin: SignedUp;
let partner: SignedUp;
let customerUser: SignedUp;
const amqpGot: { id: string; routingKey: string; body: PartnerEvent }[] = [];
const natsGot: { subject: string; body: PartnerEvent }[] = [];
let amqpClose: (() => Promise<void>) | undefined;
let nc: NatsConnection | undefined;
const relayQueue = `fluxel.portal.partner-test-${run}`;
const relayDurable = `portal-partner-test-${run}`;

beforeAll(async () => {
  // Consumers first, so they see every event the portal publishes.
  if (!skipAmqp) {
    const model = await amqp.connect(amqpUrl);
    model.on('error', () => {});
    const ch = await model.createChannel();
    await ch.assertExchange(PARTNER_EXCHANGE, 'topic', { durable: true });
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(q.queue, PARTNER_EXCHANGE, '#');
    await ch.consume(
      q.queue,
      (msg) => {
        if (!msg) return;
        const body = JSON.parse(msg.content.toString('utf8')) as PartnerEvent;
        if (body.tenant.endsWith(run))
          amqpGot.push({
            id: String(msg.properties.messageId),
            routingKey: msg.fields.routingKey,
            body,
          });
      },
      { noAck: true },
    );
    amqpClose = async () => {
      await model.close().catch(() => {});
      // The relay-feed queue of this run (durable by design) is removed afterwards.
      const m2 = await amqp.connect(amqpUrl);
      const c2 = await m2.createChannel();
      await c2.deleteQueue(relayQueue).catch(() => {});
      await m2.close().catch(() => {});
    };
  }
  if (!skipNats) {
    nc = await natsConnect({ servers: natsUrl });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.info(PARTNER_STREAM).catch(async () => {
      await jsm.streams.add({ name: PARTNER_STREAM, subjects: [`${PARTNER_SUBJECT_PREFIX}.>`] });
    });
    // No subject filter (NATS 2.9 lacks `filter_subjects`); the stream holds only partner events.
    const consumer = await nc.jetstream().consumers.get(PARTNER_STREAM);
    const messages = await consumer.consume();
    void (async () => {
      for await (const m of messages) {
        const body = m.json<PartnerEvent>();
        if (body.tenant.endsWith(run)) natsGot.push({ subject: m.subject, body });
      }
    })();
  }
  h = await startPortalHarness({
    partner: {
      targets: { allowLoopback: true },
      retryScheduleMs: [300, 300, 300, 300, 300, 300, 300, 300, 300, 300],
      jitter: 0,
      pollMs: 50,
      rateLimit: { limit: 40, windowMs: 60_000 },
      ...(skipAmqp ? {} : { amqpUrl }),
      ...(skipNats ? {} : { natsUrl }),
      relayFeed: {
        ...(skipAmqp ? {} : { amqpUrl, amqpQueue: relayQueue }),
        ...(skipNats ? {} : { natsUrl, natsDurable: relayDurable }),
      },
    },
    extraRoutes: [
      (_app, c) => {
        ctx = c;
      },
    ],
  });
  await h.portal.createTenant(PARTNER, 'Partner GmbH', 'partner');
  await h.portal.createTenant(CUSTOMER, 'Kunde AG', 'customer');
  await h.portal.createTenant(OTHER, 'Andere KG', 'customer');
  await h.portal.assignPartner(PARTNER, CUSTOMER);
  admin = await h.signUp(`admin-${run}@fluxel.test`, 'administrator', 'fluxel-operator', 'Ada');
  partner = await h.signUp(`partner-${run}@fluxel.test`, 'partner', PARTNER, 'Paul Partner');
  customerUser = await h.signUp(`kunde-${run}@fluxel.test`, 'key-user', CUSTOMER, 'Karla');
});

afterAll(async () => {
  await h?.close();
  await amqpClose?.();
  if (nc) {
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.delete('FLUXEL_EVENTS', relayDurable).catch(() => {});
    await nc.close();
  }
});

interface DeliveryRow {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastError?: string;
  lastStatus?: number;
}

describe('webhooks', () => {
  const emitted: PartnerEvent[] = [];
  let receiver: Receiver;
  let secret: string;
  let subscriptionId: string;

  it('partners manage only their own tenant; customers not at all; the URL is checked', async () => {
    expect((await customerUser.client.get('/api/partner/subscriptions')).status).toBe(403);
    const foreign = await partner.client.post('/api/partner/subscriptions', {
      tenantId: OTHER,
      url: 'https://hooks.example.com/x',
      eventTypes: ['license.locked'],
    });
    expect(foreign.status).toBe(404);
    const internal = await partner.client.post('/api/partner/subscriptions', {
      url: 'https://10.1.2.3/hook',
      eventTypes: ['license.locked'],
    });
    expect(internal.status).toBe(400);
    expect(internal.headers['content-type']).toMatch(/application\/problem\+json/);
    const badType = await partner.client.post('/api/partner/subscriptions', {
      url: 'https://hooks.example.com/x',
      eventTypes: ['license.exploded'],
    });
    expect(badType.status).toBe(400);
    expect((badType.body as { fields: unknown[] }).fields.length).toBeGreaterThan(0);
  });

  it('receiver down, then up: every event delivered once, signatures valid', async () => {
    receiver = new Receiver(await Receiver.freePort());
    const created = await partner.client.post<{
      subscription: { id: string; tenantId: string };
      secret: string;
    }>('/api/partner/subscriptions', {
      url: `http://127.0.0.1:${receiver.port}/hooks/fluxel`,
      eventTypes: [
        'license.activated',
        'license.locked',
        'order.status.forwarded',
        'mailbox.event.received',
      ],
    });
    expect(created.status).toBe(200);
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(created.body.subscription.tenantId).toBe(PARTNER);
    secret = created.body.secret;
    subscriptionId = created.body.subscription.id;
    // The secret is shown once: the list does not carry it.
    const list = await partner.client.get('/api/partner/subscriptions');
    expect(list.text).not.toContain(secret);

    const push = async (e: Promise<PartnerEvent | undefined>) => {
      const event = await e;
      if (!event) throw new Error('not emitted');
      emitted.push(event);
      return event;
    };
    await push(
      licenseLockChanged(ctx, { id: 'lic-a', tenant: CUSTOMER, product: 'wawi' }, 'locked'),
    );
    await push(
      emitPartnerEvent(ctx, {
        type: 'mailbox.event.received',
        tenant: CUSTOMER,
        // `payload` and `secret` are not metadata: dropped.
        data: { licenseId: 'lic-a', mailboxEventId: 'msg_1', payload: 'x', secret: 'y' },
      }),
    );
    await push(
      emitPartnerEvent(ctx, { type: 'order.status.forwarded', tenant: PARTNER, data: {} }),
    );
    // A customer the partner is not assigned to: not delivered to the partner.
    await push(
      emitPartnerEvent(ctx, {
        type: 'license.activated',
        tenant: OTHER,
        data: { licenseId: 'lic-o' },
      }),
    );
    const expected = emitted.filter((e) => e.tenant !== OTHER);
    expect(emitted[1]?.data).toEqual({ licenseId: 'lic-a', mailboxEventId: 'msg_1' });

    // Down: attempts fail with "connection refused" and are rescheduled.
    const failing = await until('two failed attempts each', async () => {
      const res = await partner.client.get<{ deliveries: DeliveryRow[] }>(
        `/api/partner/deliveries?subscriptionId=${subscriptionId}`,
      );
      const rows = res.body.deliveries;
      return rows.length === expected.length && rows.every((d) => d.attempts >= 2)
        ? rows
        : undefined;
    });
    for (const d of failing) {
      expect(d.status).not.toBe('delivered');
      expect(d.lastError).toBe('connection refused');
    }
    expect(receiver.got).toHaveLength(0);

    await receiver.up();
    const done = await until('all delivered', async () => {
      const res = await partner.client.get<{ deliveries: DeliveryRow[] }>(
        `/api/partner/deliveries?subscriptionId=${subscriptionId}`,
      );
      return res.body.deliveries.every((d) => d.status === 'delivered')
        ? res.body.deliveries
        : undefined;
    });
    for (const d of done) {
      expect(d.attempts).toBeGreaterThanOrEqual(3);
      expect(d.lastStatus).toBe(204);
    }
    // Exactly once each, signed, the right bodies.
    await new Promise((r) => setTimeout(r, 400));
    const ids = receiver.got.map((g) => g.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(expected.map((e) => e.id).sort());
    for (const g of receiver.got) {
      expect(verifyWebhook(secret, g.headers, g.body, Date.now() + h.clock.offsetMs)).toEqual({
        ok: true,
      });
      expect(verifyWebhook(secret, g.headers, `${g.body} `, Date.now() + h.clock.offsetMs).ok).toBe(
        false,
      );
      expect(String(g.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      const body = JSON.parse(g.body) as PartnerEvent;
      expect(body.id).toBe(g.headers['webhook-id']);
      expect(expected.find((e) => e.id === body.id)).toMatchObject({
        type: body.type,
        tenant: body.tenant,
      });
    }
  });

  it('manual redelivery sends the same message again; the log counts the attempt', async () => {
    const log = await partner.client.get<{ deliveries: DeliveryRow[] }>(
      `/api/partner/deliveries?subscriptionId=${subscriptionId}`,
    );
    const one = log.body.deliveries[0] as DeliveryRow;
    const before = receiver.got.length;
    // Not for another tenant's user.
    expect(
      (await customerUser.client.post(`/api/partner/deliveries/${one.id}/redeliver`)).status,
    ).toBe(403);
    const res = await partner.client.post(`/api/partner/deliveries/${one.id}/redeliver`);
    expect(res.status).toBe(200);
    await until('redelivered', () => (receiver.got.length > before ? true : undefined));
    const again = receiver.got.at(-1) as Received;
    expect(again.headers['webhook-id']).toBe(one.eventId);
    expect(verifyWebhook(secret, again.headers, again.body, Date.now() + h.clock.offsetMs).ok).toBe(
      true,
    );
    const after = await until('logged', async () => {
      const r = await partner.client.get<{ deliveries: DeliveryRow[] }>(
        '/api/partner/deliveries?status=delivered',
      );
      const row = r.body.deliveries.find((d) => d.id === one.id);
      return row && row.attempts === one.attempts + 1 ? row : undefined;
    });
    expect(after.status).toBe('delivered');
    // Administrators see every tenant's log.
    const all = await admin.client.get<{ deliveries: DeliveryRow[] }>('/api/partner/deliveries');
    expect(all.body.deliveries.some((d) => d.id === one.id)).toBe(true);
  });

  it('a receiver answering 500 is retried until it answers 2xx; ping works', async () => {
    let fails = 2;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(fails-- > 0 ? 500 : 200).end('ignored body'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const sub = await admin.client.post<{ subscription: { id: string } }>(
      '/api/partner/subscriptions',
      {
        tenantId: CUSTOMER,
        url: `http://127.0.0.1:${port}/`,
        eventTypes: ['license.locked'],
      },
    );
    expect(sub.status).toBe(200);
    const ping = await admin.client.post<{ deliveryId: string }>(
      `/api/partner/subscriptions/${sub.body.subscription.id}/ping`,
    );
    expect(ping.status).toBe(200);
    const row = await until('ping delivered', async () => {
      const r = await admin.client.get<{ deliveries: DeliveryRow[] }>(
        `/api/partner/deliveries?subscriptionId=${sub.body.subscription.id}`,
      );
      const d = r.body.deliveries.find((x) => x.id === ping.body.deliveryId);
      return d?.status === 'delivered' ? d : undefined;
    });
    expect(row.attempts).toBe(3);
    expect(row.eventType).toBe('test.ping');
    await admin.client.call('DELETE', `/api/partner/subscriptions/${sub.body.subscription.id}`);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it.skipIf(skipAmqp)(
    'RabbitMQ consumers receive the same events (routing key = type)',
    async () => {
      await until('amqp events', () =>
        emitted.every((e) => amqpGot.some((g) => g.id === e.id)) ? true : undefined,
      );
      for (const e of emitted) {
        const got = amqpGot.filter((g) => g.id === e.id);
        expect(got).toHaveLength(1);
        expect(got[0]?.routingKey).toBe(e.type);
        expect(got[0]?.body).toEqual(e);
      }
    },
  );

  it.skipIf(skipNats)(
    'NATS JetStream consumers receive the same events (fluxel.partner.<tenant>.<type>)',
    async () => {
      await until('nats events', () =>
        emitted.every((e) => natsGot.some((g) => g.body.id === e.id)) ? true : undefined,
      );
      for (const e of emitted) {
        const got = natsGot.filter((g) => g.body.id === e.id);
        expect(got).toHaveLength(1);
        expect(got[0]?.subject).toBe(`fluxel.partner.${e.tenant}.${e.type}`);
        expect(got[0]?.body).toEqual(e);
      }
    },
  );

  it.skipIf(skipAmqp && skipNats)(
    "the relay's feed becomes partner events (once, even over both brokers) and is delivered",
    async () => {
      const before = receiver.got.length;
      const feed = new EventFeed([
        ...(skipAmqp ? [] : [amqpSink(amqpUrl)]),
        ...(skipNats ? [] : [natsSink(natsUrl)]),
      ]);
      feed.publish({
        type: 'mailbox.received',
        outcome: 'success',
        tenant: CUSTOMER,
        licenseId: 'lic-feed',
        connection: 'shop',
        mailboxEventId: 'msg_feed_1',
      });
      // Not for partners: ignored.
      feed.publish({ type: 'credentials.put', outcome: 'success', tenant: CUSTOMER });
      await feed.close();
      const got = await until('feed event delivered', () =>
        receiver.got.slice(before).find((g) => g.body.includes('msg_feed_1')),
      );
      const body = JSON.parse(got.body) as PartnerEvent;
      expect(body).toMatchObject({
        type: 'mailbox.event.received',
        tenant: CUSTOMER,
        data: {
          source: 'relay',
          licenseId: 'lic-feed',
          connection: 'shop',
          mailboxEventId: 'msg_feed_1',
        },
      });
      await new Promise((r) => setTimeout(r, 1000));
      expect(receiver.got.slice(before).filter((g) => g.body.includes('msg_feed_1'))).toHaveLength(
        1,
      );
      expect(receiver.got.slice(before).some((g) => g.body.includes('credentials'))).toBe(false);
    },
  );
});

describe('SSRF guard', () => {
  it('refuses plain http, private, link-local and mapped addresses by default', () => {
    for (const url of [
      'http://hooks.example.com/',
      'https://127.0.0.1/',
      'https://localhost/',
      'https://10.0.0.5/',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[fd00::1]/',
      'https://user:pw@hooks.example.com/',
      'ftp://hooks.example.com/',
    ])
      expect(checkTargetUrl(url, {}).ok, url).toBe(false);
    expect(checkTargetUrl('https://hooks.example.com/x', {}).ok).toBe(true);
    expect(checkTargetUrl('http://127.0.0.1:8080/', { allowLoopback: true }).ok).toBe(true);
    expect(checkTargetUrl('http://10.0.0.5/', { allowLoopback: true }).ok).toBe(false);
  });
});

describe('partner API (OAuth2 client credentials)', () => {
  let clientId: string;
  let clientSecret: string;
  const base = () => h.portal.url;
  const dispatcher = () => h.client().dispatcher;

  async function call(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ) {
    const res = await request(`${base()}${path}`, {
      method: method as 'GET',
      dispatcher: dispatcher(),
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    const text = await res.body.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {}
    return { status: res.statusCode, headers: res.headers, body };
  }
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  async function token(id: string, secret: string, scope?: string): Promise<string> {
    const res = await call('POST', '/oauth/token', {
      headers: { ...form, authorization: basic(id, secret) },
      body: `grant_type=client_credentials${scope ? `&scope=${encodeURIComponent(scope)}` : ''}`,
    });
    expect(res.status).toBe(200);
    return String(res.body.access_token);
  }

  beforeAll(async () => {
    for (const tenantId of [CUSTOMER, OTHER]) {
      const res = await admin.client.post('/api/licenses', {
        tenantId,
        product: 'wawi-sync',
        entitlements: ['orders'],
      });
      expect(res.status).toBe(200);
    }
    const created = await partner.client.post<{
      client: { clientId: string; scopes: string[] };
      clientSecret: string;
    }>('/api/partner/clients', { name: 'ERP-Anbindung', scopes: ['licenses:read', 'events:read'] });
    expect(created.status).toBe(200);
    clientId = created.body.client.clientId;
    clientSecret = created.body.clientSecret;
    const list = await partner.client.get('/api/partner/clients');
    expect(list.text).toContain(clientId);
    expect(list.text).not.toContain(clientSecret);
  });

  it('issues a token (Basic or body, form or JSON); refuses a wrong secret and other grants', async () => {
    const ok = await call('POST', '/oauth/token', {
      headers: { ...form, authorization: basic(clientId, clientSecret) },
      body: 'grant_type=client_credentials',
    });
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'licenses:read events:read',
    });
    const json = await call('POST', '/oauth/token', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        scope: 'events:read',
      }),
    });
    expect(json.status).toBe(200);
    expect(json.body.scope).toBe('events:read');
    const wrong = await call('POST', '/oauth/token', {
      headers: { ...form, authorization: basic(clientId, `${clientSecret}x`) },
      body: 'grant_type=client_credentials',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
    const grant = await call('POST', '/oauth/token', {
      headers: { ...form, authorization: basic(clientId, clientSecret) },
      body: 'grant_type=password',
    });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('unsupported_grant_type');
    const scope = await call('POST', '/oauth/token', {
      headers: { ...form, authorization: basic(clientId, clientSecret) },
      body: 'grant_type=client_credentials&scope=webhooks:manage',
    });
    expect(scope.body.error).toBe('invalid_scope');
    // The partner API is not under /api: no CSRF rule, and no session cookie works there.
    expect((await call('GET', '/partner-api/v1/licenses')).status).toBe(401);
  });

  it('scopes per route: 403 insufficient_scope with WWW-Authenticate', async () => {
    const t = await token(clientId, clientSecret, 'events:read');
    const res = await call('GET', '/partner-api/v1/licenses', {
      headers: { authorization: `Bearer ${t}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('insufficient_scope');
    expect(res.headers['www-authenticate']).toMatch(
      /error="insufficient_scope", scope="licenses:read"/,
    );
    const hooks = await call('GET', '/partner-api/v1/webhooks', {
      headers: { authorization: `Bearer ${t}` },
    });
    expect(hooks.status).toBe(403);
    const events = await call('GET', '/partner-api/v1/events?limit=10', {
      headers: { authorization: `Bearer ${t}` },
    });
    expect(events.status).toBe(200);
    const list = events.body.events as PartnerEvent[];
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((e) => e.tenant === PARTNER || e.tenant === CUSTOMER)).toBe(true);
  });

  it('tenant scoping: a partner client sees only its assigned customers', async () => {
    const t = await token(clientId, clientSecret);
    const auth = { authorization: `Bearer ${t}` };
    const res = await call('GET', '/partner-api/v1/licenses', { headers: auth });
    expect(res.status).toBe(200);
    const licenses = res.body.licenses as { tenantId: string; deviceJkt?: string }[];
    expect(licenses.length).toBeGreaterThan(0);
    expect(licenses.every((l) => l.tenantId === CUSTOMER)).toBe(true);
    expect(licenses.every((l) => l.deviceJkt === undefined)).toBe(true);
    const other = await call('GET', `/partner-api/v1/licenses?tenantId=${OTHER}`, {
      headers: auth,
    });
    expect(other.status).toBe(404);
  });

  it('validation errors are problem+json naming the fields', async () => {
    const t = await token(clientId, clientSecret);
    const res = await call('GET', '/partner-api/v1/events?limit=abc&color=blue', {
      headers: { authorization: `Bearer ${t}` },
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('bad_request');
    expect((res.body.fields as { path: string }[]).map((f) => f.path)).toContain('limit');
    // Each refused field carries its stable reason, as on the portal's own routes.
    expect(res.body.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'limit', reason: 'invalid_type' }),
        expect.objectContaining({ path: '(body)', reason: 'unknown_field' }),
      ]),
    );
    const unknown = await call('GET', '/partner-api/v1/nothing', {
      headers: { authorization: `Bearer ${t}` },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('rate limit per client: 429 with Retry-After', async () => {
    const created = await admin.client.post<{ client: { clientId: string }; clientSecret: string }>(
      '/api/partner/clients',
      { tenantId: PARTNER, name: 'Lasttest', scopes: ['events:read'] },
    );
    const t = await token(created.body.client.clientId, created.body.clientSecret);
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 45; i++) {
      last = await call('GET', '/partner-api/v1/events?limit=1', {
        headers: { authorization: `Bearer ${t}` },
      });
      if (last.status === 429) break;
    }
    expect(last?.status).toBe(429);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(last?.body.code).toBe('rate_limited');
    // The other client is not affected.
    const mine = await token(clientId, clientSecret);
    expect(
      (
        await call('GET', '/partner-api/v1/events', {
          headers: { authorization: `Bearer ${mine}` },
        })
      ).status,
    ).toBe(200);
  });

  it('a revoked client gets no token and its tokens stop working', async () => {
    const t = await token(clientId, clientSecret);
    const revoked = await partner.client.post(`/api/partner/clients/${clientId}/revoke`);
    expect(revoked.status).toBe(200);
    const res = await call('GET', '/partner-api/v1/events', {
      headers: { authorization: `Bearer ${t}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
    const again = await call('POST', '/oauth/token', {
      headers: { ...form, authorization: basic(clientId, clientSecret) },
      body: 'grant_type=client_credentials',
    });
    expect(again.status).toBe(401);
  });
});
