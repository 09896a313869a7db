/**
 * Optional consumer of the relay's event feed (`examples/relay/src/feed.ts`): RabbitMQ exchange
 * `fluxel.events` and/or NATS JetStream stream `FLUXEL_EVENTS`. Relay event types are mapped to
 * partner events (see {@link mapRelayEvent}); everything else is acknowledged and ignored. The
 * partner event id is derived from the relay's event id, so an event arriving over both brokers
 * (or redelivered) is still one partner event. Messages are acknowledged only after the partner
 * event is stored; a failure requeues (AMQP nack / NATS nak with delay).
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { ConsumerMessages, NatsConnection } from 'nats';
import type { PartnerEventInput } from './model.ts';

export const RELAY_EXCHANGE = 'fluxel.events';
export const RELAY_STREAM = 'FLUXEL_EVENTS';

/** The metadata the relay publishes (`FeedEvent`). */
interface RelayFeedEvent {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly time?: unknown;
  readonly outcome?: unknown;
  readonly tenant?: unknown;
  readonly licenseId?: unknown;
  readonly connection?: unknown;
  readonly mailboxEventId?: unknown;
}

export interface RelayFeedOptions {
  readonly amqpUrl?: string;
  readonly natsUrl?: string;
  /** Durable AMQP queue bound to `fluxel.events` (shared by the portals). */
  readonly amqpQueue?: string;
  /** Durable JetStream consumer on `FLUXEL_EVENTS`. */
  readonly natsDurable?: string;
  /**
   * Also map the relay's `license.lock` / `license.unlock`. Off by default: the portal's own
   * lock/unlock routes report those (with `emitPartnerEvent`), and both would be two events.
   */
  readonly lockEvents?: boolean;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v.slice(0, 200) : undefined);

/** The partner event for a relay feed event, or undefined when partners do not get it. */
export function mapRelayEvent(
  raw: RelayFeedEvent,
  options: { lockEvents?: boolean } = {},
): PartnerEventInput | undefined {
  const id = str(raw.id);
  const type = str(raw.type);
  const tenant = str(raw.tenant);
  if (!id || !type || !tenant || raw.outcome !== 'success') return undefined;
  const time = typeof raw.time === 'string' ? Date.parse(raw.time) : Number.NaN;
  const base = {
    tenant,
    sourceId: `relay:${id}`,
    ...(Number.isFinite(time) ? { time } : {}),
  };
  const licenseId = str(raw.licenseId);
  const connection = str(raw.connection);
  const data = {
    source: 'relay',
    ...(licenseId ? { licenseId } : {}),
    ...(connection ? { connection } : {}),
  };
  switch (type) {
    case 'license.activate':
      return { ...base, type: 'license.activated', data };
    case 'license.lock':
      return options.lockEvents ? { ...base, type: 'license.locked', data } : undefined;
    case 'license.unlock':
      return options.lockEvents ? { ...base, type: 'license.unlocked', data } : undefined;
    // The relay's feed does not carry the operation: every forwarded call counts (today the
    // counterpart connector forwards `order.status` and `shipment.create`).
    case 'relay.send':
      return { ...base, type: 'order.status.forwarded', data };
    case 'mailbox.received': {
      const mailboxEventId = str(raw.mailboxEventId);
      return {
        ...base,
        type: 'mailbox.event.received',
        data: { ...data, ...(mailboxEventId ? { mailboxEventId } : {}) },
      };
    }
    default:
      return undefined;
  }
}

export interface RelayFeedConsumer {
  close(): Promise<void>;
}

type Handle = (event: PartnerEventInput) => Promise<void>;

async function consumeAmqp(
  url: string,
  queue: string,
  handle: Handle,
  lockEvents: boolean,
  onError: (error: unknown) => void,
): Promise<() => Promise<void>> {
  const amqp = await import('amqplib');
  let closed = false;
  let model: ChannelModel | undefined;
  let retry: NodeJS.Timeout | undefined;
  const start = async () => {
    try {
      const m = await amqp.connect(url, { timeout: 3000 });
      model = m;
      m.on('error', () => {});
      m.on('close', () => {
        if (!closed) retry = setTimeout(() => void start(), 2000);
      });
      const channel: Channel = await m.createChannel();
      channel.on('error', () => {});
      await channel.assertExchange(RELAY_EXCHANGE, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: true });
      await channel.bindQueue(queue, RELAY_EXCHANGE, '#');
      await channel.prefetch(16);
      await channel.consume(queue, (msg: ConsumeMessage | null) => {
        if (!msg) return;
        let parsed: RelayFeedEvent | undefined;
        try {
          parsed = JSON.parse(msg.content.toString('utf8')) as RelayFeedEvent;
        } catch {}
        const mapped = parsed ? mapRelayEvent(parsed, { lockEvents }) : undefined;
        if (!mapped) return channel.ack(msg);
        handle(mapped).then(
          () => channel.ack(msg),
          (error: unknown) => {
            onError(error);
            setTimeout(() => channel.nack(msg, false, true), 1000).unref();
          },
        );
      });
    } catch (error) {
      onError(error);
      if (!closed) retry = setTimeout(() => void start(), 2000);
    }
  };
  await start();
  return async () => {
    closed = true;
    clearTimeout(retry);
    await model?.close().catch(() => {});
  };
}

async function consumeNats(
  url: string,
  durable: string,
  handle: Handle,
  lockEvents: boolean,
  onError: (error: unknown) => void,
): Promise<() => Promise<void>> {
  const nats = await import('nats');
  const nc: NatsConnection = await nats.connect({
    servers: url,
    timeout: 3000,
    maxReconnectAttempts: -1,
    name: 'fluxel-portal-relay-feed',
  });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.info(RELAY_STREAM).catch(async () => {
    await jsm.streams.add({ name: RELAY_STREAM, subjects: [`${RELAY_EXCHANGE}.>`] });
  });
  await jsm.consumers.info(RELAY_STREAM, durable).catch(async () => {
    await jsm.consumers.add(RELAY_STREAM, {
      durable_name: durable,
      ack_policy: nats.AckPolicy.Explicit,
      deliver_policy: nats.DeliverPolicy.New,
      ack_wait: nats.nanos(30_000),
    });
  });
  const consumer = await nc.jetstream().consumers.get(RELAY_STREAM, durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 32 });
  void (async () => {
    for await (const m of messages) {
      let parsed: RelayFeedEvent | undefined;
      try {
        parsed = m.json<RelayFeedEvent>();
      } catch {}
      const mapped = parsed ? mapRelayEvent(parsed, { lockEvents }) : undefined;
      if (!mapped) {
        m.ack();
        continue;
      }
      try {
        await handle(mapped);
        m.ack();
      } catch (error) {
        onError(error);
        m.nak(1000);
      }
    }
  })().catch(onError);
  return async () => {
    await messages.close().catch(() => {});
    await nc.drain().catch(() => {});
  };
}

/** Starts the configured consumers; a broker down at start is retried (AMQP) or reported. */
export async function startRelayFeedConsumer(
  options: RelayFeedOptions,
  handle: Handle,
  onError: (error: unknown) => void,
): Promise<RelayFeedConsumer> {
  const stops: (() => Promise<void>)[] = [];
  const lockEvents = options.lockEvents ?? false;
  if (options.amqpUrl)
    stops.push(
      await consumeAmqp(
        options.amqpUrl,
        options.amqpQueue ?? 'fluxel.portal.partner-events',
        handle,
        lockEvents,
        onError,
      ),
    );
  if (options.natsUrl) {
    try {
      stops.push(
        await consumeNats(
          options.natsUrl,
          options.natsDurable ?? 'fluxel-portal-partner-events',
          handle,
          lockEvents,
          onError,
        ),
      );
    } catch (error) {
      onError(error);
    }
  }
  return {
    async close() {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
