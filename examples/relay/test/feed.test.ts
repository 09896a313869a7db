/**
 * The partner event feed against real brokers (`AMQP_URL`, default amqp://guest:guest@127.0.0.1:5672;
 * `NATS_URL`, default nats://127.0.0.1:4222; each skipped when unreachable, a failure under
 * `CI=true`): a consumer bound to the `fluxel.events` exchange and a JetStream consumer on
 * `FLUXEL_EVENTS` receive `license.activate` and `mailbox.received` with metadata only; with the
 * brokers unreachable the relay keeps serving and counts (and audits) what it could not publish.
 */
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import amqp from 'amqplib';
import { type NatsConnection, connect as natsConnect } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DropNotice,
  EventFeed,
  FEED_EXCHANGE,
  FEED_STREAM,
  type FeedEvent,
  type FeedSink,
} from '../src/feed.ts';
import { API_KEY, type Harness, startHarness } from './helpers.ts';

const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const CONNECTION = 'shop-feed';
const PAYLOAD_MARKER = 'feed-secret-reference-7731';

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
if (skipAmqp) console.warn(`${skipAmqp}: RabbitMQ feed test skipped`);
const skipNats = (await natsReachable())
  ? undefined
  : missingDependency(`NATS JetStream at ${natsUrl}`, 'start nats-server -js or set NATS_URL');
if (skipNats) console.warn(`${skipNats}: NATS feed test skipped`);

async function until<T>(what: string, check: () => T | undefined, ms = READY_BOUND_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Activates a license on a fresh device, stores credentials, receives one signed webhook. */
async function flow(h: Harness) {
  const { client } = await h.client();
  const licenseKey = await h.issueKey('tenant-feed');
  const { licenseId } = await client.activate({ body: { licenseKey } });
  await client.putCredentials({
    connection: CONNECTION,
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
  });
  const hook = await h.hook(CONNECTION, { payload: { reference: PAYLOAD_MARKER } });
  expect(hook.status).toBe(204);
  return { licenseKey, licenseId, hookId: hook.id };
}

function checkEvents(
  events: FeedEvent[],
  raw: string,
  f: { licenseKey: string; licenseId: string; hookId: string },
  h: Harness,
) {
  const activate = events.find((e) => e.type === 'license.activate' && e.licenseId === f.licenseId);
  expect(activate).toMatchObject({ outcome: 'success', tenant: 'tenant-feed' });
  const received = events.find((e) => e.type === 'mailbox.received' && e.licenseId === f.licenseId);
  expect(received).toMatchObject({
    outcome: 'success',
    tenant: 'tenant-feed',
    connection: CONNECTION,
    mailboxEventId: f.hookId,
  });
  for (const event of [activate, received] as FeedEvent[]) {
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    expect(
      Object.keys(event).every((k) =>
        [
          'id',
          'type',
          'time',
          'outcome',
          'tenant',
          'licenseId',
          'connection',
          'mailboxEventId',
        ].includes(k),
      ),
    ).toBe(true);
  }
  expect(events.some((e) => e.type === 'credentials.put' && e.connection === CONNECTION)).toBe(
    true,
  );
  for (const secret of [PAYLOAD_MARKER, API_KEY, h.webhookSecret, f.licenseKey, 'payment.received'])
    expect(raw).not.toContain(secret);
}

describe('event feed', () => {
  const harnesses: Harness[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const h of harnesses.reverse()) await h.close();
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it.skipIf(skipAmqp)(
    'RabbitMQ: a queue bound to fluxel.events gets license.activate and mailbox.received',
    async () => {
      const model = await amqp.connect(amqpUrl);
      model.on('error', () => {});
      cleanups.push(() => model.close());
      const channel = await model.createChannel();
      await channel.assertExchange(FEED_EXCHANGE, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, FEED_EXCHANGE, 'license.#');
      await channel.bindQueue(queue, FEED_EXCHANGE, 'mailbox.#');
      await channel.bindQueue(queue, FEED_EXCHANGE, 'credentials.#');
      const got: { event: FeedEvent; routingKey: string; type: string | undefined }[] = [];
      let raw = '';
      await channel.consume(
        queue,
        (msg) => {
          if (!msg) return;
          const text = msg.content.toString('utf8');
          raw += text;
          got.push({
            event: JSON.parse(text) as FeedEvent,
            routingKey: msg.fields.routingKey,
            type: msg.properties.type as string | undefined,
          });
        },
        { noAck: true },
      );

      const h = await startHarness({ relay: { feed: { amqpUrl } } });
      harnesses.push(h);
      const f = await flow(h);
      await until('both events over RabbitMQ', () =>
        got.some((g) => g.event.type === 'mailbox.received' && g.event.licenseId === f.licenseId) &&
        got.some((g) => g.event.type === 'license.activate' && g.event.licenseId === f.licenseId)
          ? true
          : undefined,
      );
      for (const g of got) {
        expect(g.routingKey).toBe(g.event.type);
        expect(g.type).toBe(g.event.type);
      }
      checkEvents(
        got.map((g) => g.event),
        raw,
        f,
        h,
      );
      const stats = h.relay.feed.stats().amqp;
      expect(stats?.dropped).toBe(0);
      expect(stats?.published).toBeGreaterThanOrEqual(3);
    },
  );

  it.skipIf(skipNats)(
    'NATS JetStream: a consumer on FLUXEL_EVENTS gets license.activate and mailbox.received',
    async () => {
      const nc: NatsConnection = await natsConnect({ servers: natsUrl });
      cleanups.push(() => nc.close());
      const start = new Date().toISOString();
      const h = await startHarness({ relay: { feed: { natsUrl } } });
      harnesses.push(h);
      const f = await flow(h);
      await until('the JetStream acks', () =>
        (h.relay.feed.stats().nats?.published ?? 0) >= 3 ? true : undefined,
      );
      // A string filter (not an array): nats-server 2.9 has no multi-subject filters.
      const consumer = await nc.jetstream().consumers.get(FEED_STREAM, {
        filterSubjects: 'fluxel.events.>',
        opt_start_time: start,
      });
      const events: FeedEvent[] = [];
      let raw = '';
      const complete = () =>
        ['mailbox.received', 'license.activate', 'credentials.put'].every((t) =>
          events.some((e) => e.type === t),
        );
      const deadline = Date.now() + READY_BOUND_MS;
      while (!complete() && Date.now() < deadline) {
        for await (const msg of await consumer.fetch({ max_messages: 100, expires: 1000 })) {
          const text = msg.string();
          const event = JSON.parse(text) as FeedEvent;
          expect(msg.subject).toBe(`fluxel.events.${event.type}`);
          if (event.licenseId !== f.licenseId && event.connection !== CONNECTION) continue;
          raw += text;
          events.push(event);
        }
      }
      checkEvents(events, raw, f, h);
      expect(h.relay.feed.stats().nats?.dropped).toBe(0);
    },
  );

  it('brokers unreachable: the relay keeps serving and counts and audits what it dropped', async () => {
    const h = await startHarness({
      relay: {
        feed: {
          amqpUrl: 'amqp://guest:guest@127.0.0.1:1',
          natsUrl: 'nats://127.0.0.1:1',
          maxQueue: 2,
          closeTimeoutMs: 200,
        },
      },
    });
    harnesses.push(h);
    const started = Date.now();
    const f = await flow(h);
    for (let i = 0; i < 3; i++)
      expect((await h.hook(CONNECTION, { payload: { n: i } })).status).toBe(204);
    expect(Date.now() - started).toBeLessThan(10_000);
    const { client } = await h.client();
    await client.activate({ body: { licenseKey: await h.issueKey('tenant-feed') } });
    expect((await client.status()).license.status).toBe('active');

    const stats = h.relay.feed.stats();
    for (const sink of ['amqp', 'nats'] as const) {
      expect(stats[sink]?.published).toBe(0);
      expect(stats[sink]?.queued).toBeLessThanOrEqual(2);
      expect(stats[sink]?.dropped).toBeGreaterThanOrEqual(5);
    }
    const drops = h.audited('feed.drop');
    expect(drops.map((d) => d.data?.sink).sort()).toEqual(['amqp', 'nats']);
    expect(drops[0]).toMatchObject({ outcome: 'failure', reason: 'queue-full' });
    expect(JSON.stringify(drops)).not.toContain(f.licenseKey);
  });

  it('retries with backoff until confirmed, in order; full queue and close drop and count', async () => {
    const confirmed: string[] = [];
    let failuresLeft = 3;
    const sink: FeedSink = {
      name: 'fake',
      async publish(event) {
        if (failuresLeft-- > 0) throw new Error('broker down');
        confirmed.push(event.type);
      },
      async close() {},
    };
    const notices: DropNotice[] = [];
    const feed = new EventFeed(
      [sink],
      { maxQueue: 3, minBackoffMs: 5, maxBackoffMs: 20, closeTimeoutMs: 100 },
      (n) => notices.push(n),
    );
    for (const type of ['a.one', 'a.two', 'a.three', 'a.four'])
      feed.publish({ type, outcome: 'success' });
    expect(feed.stats().fake).toMatchObject({ queued: 3, dropped: 1 });
    expect(notices).toEqual([{ sink: 'fake', type: 'a.four', reason: 'queue-full', dropped: 1 }]);
    await until('the retries', () => (confirmed.length === 3 ? true : undefined));
    expect(confirmed).toEqual(['a.one', 'a.two', 'a.three']);
    expect(feed.stats().fake).toMatchObject({ published: 3, failures: 3, queued: 0, dropped: 1 });

    failuresLeft = Number.POSITIVE_INFINITY;
    feed.publish({ type: 'a.five', outcome: 'success' });
    await feed.close();
    expect(feed.stats().fake).toMatchObject({ published: 3, queued: 0, dropped: 2 });
    expect(notices.at(-1)).toMatchObject({ type: 'a.five', reason: 'closed' });
    feed.publish({ type: 'a.six', outcome: 'success' });
    expect(feed.stats().fake?.dropped).toBe(3);
  });
});
