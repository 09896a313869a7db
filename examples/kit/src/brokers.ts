/**
 * Broker sinks: publish an event to RabbitMQ (a confirm channel on a topic exchange) or NATS
 * JetStream and resolve once the broker confirmed it; reconnect on the next attempt after a
 * loss. Queueing and retrying are the caller's (the relay's event feed, the portal's partner
 * streams). The default names are the Fluxel event feed's (`fluxel.events`, `FLUXEL_EVENTS`);
 * other publishers pass their own.
 */

export const FEED_EXCHANGE = 'fluxel.events';
export const FEED_STREAM = 'FLUXEL_EVENTS';
export const FEED_SUBJECT_PREFIX = 'fluxel.events';

/** What the default addressing reads of an event. */
export interface BrokerEvent {
  readonly id: string;
  readonly type: string;
  /** ISO 8601. */
  readonly time: string;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** How a broker sink addresses one event. */
export interface BrokerAddress {
  /** AMQP `messageId`, JetStream `Nats-Msg-Id` (de-duplication). */
  readonly id: string;
  /** AMQP routing key and `type`. */
  readonly type: string;
  /** ISO 8601 (AMQP `timestamp`). */
  readonly time: string;
  /** NATS subject after the prefix; default `type`. */
  readonly subject?: string;
  /** Extra AMQP headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** One broker for events of type `E`. `publish` resolves once the broker has confirmed. */
export interface BrokerSink<E> {
  readonly name: 'amqp' | 'nats';
  publish(event: E, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * Names and addressing of a broker sink; the defaults are the relay feed's (`fluxel.events`,
 * `FLUXEL_EVENTS`), other publishers (the portal's partner events) pass their own.
 */
export interface BrokerSinkOptions<E> {
  readonly connectTimeoutMs?: number;
  /** How long the broker may take to confirm one event. Default 4000 ms. */
  readonly confirmTimeoutMs?: number;
  /** RabbitMQ topic exchange. Default {@link FEED_EXCHANGE}. */
  readonly exchange?: string;
  /** JetStream stream. Default {@link FEED_STREAM}. */
  readonly stream?: string;
  /** Subject prefix of the stream. Default {@link FEED_SUBJECT_PREFIX}. */
  readonly subjectPrefix?: string;
  /** NATS connection name. Default `fluxel-relay-feed`. */
  readonly clientName?: string;
  /** How an event is addressed. Default: a {@link BrokerEvent}'s id, type and time. */
  readonly address?: (event: E) => BrokerAddress;
}

const feedAddress = (event: BrokerEvent): BrokerAddress => ({
  id: event.id,
  type: event.type,
  time: event.time,
});
function addressOf<E>(options: BrokerSinkOptions<E>): (event: E) => BrokerAddress {
  return options.address ?? (feedAddress as unknown as (event: E) => BrokerAddress);
}

/** RabbitMQ: a confirm channel on a topic exchange; reconnects on the next attempt after a loss. */
export function amqpSink<E = BrokerEvent>(
  url: string,
  options: BrokerSinkOptions<E> = {},
): BrokerSink<E> {
  type Amqp = typeof import('amqplib');
  const exchange = options.exchange ?? FEED_EXCHANGE;
  const address = addressOf(options);
  let state:
    | Promise<{
        model: Awaited<ReturnType<Amqp['connect']>>;
        channel: import('amqplib').ConfirmChannel;
      }>
    | undefined;
  const reset = () => {
    const current = state;
    state = undefined;
    current?.then(({ model }) => model.close()).catch(() => {});
  };
  const open = async () => {
    const amqp: Amqp = await import('amqplib');
    const model = await amqp.connect(url, { timeout: options.connectTimeoutMs ?? 3000 });
    model.on('error', () => {});
    model.on('close', () => {
      state = undefined;
    });
    try {
      const channel = await model.createConfirmChannel();
      channel.on('error', () => {});
      channel.on('close', () => {
        state = undefined;
      });
      await channel.assertExchange(exchange, 'topic', { durable: true });
      return { model, channel };
    } catch (error) {
      await model.close().catch(() => {});
      throw error;
    }
  };
  return {
    name: 'amqp',
    async publish(event, body) {
      state ??= open();
      const to = address(event);
      try {
        const { channel } = await state;
        const confirmed = new Promise<void>((resolve, reject) => {
          channel.publish(
            exchange,
            to.type,
            body,
            {
              contentType: 'application/json',
              messageId: to.id,
              type: to.type,
              timestamp: Math.floor(Date.parse(to.time) / 1000),
              persistent: true,
              ...(to.headers ? { headers: { ...to.headers } } : {}),
            },
            (error: unknown) => (error ? reject(error) : resolve()),
          );
        });
        // No confirm in time: the channel is suspect, so the next attempt reconnects.
        await withTimeout(confirmed, options.confirmTimeoutMs ?? 4000, 'publisher confirm');
      } catch (error) {
        reset();
        throw error;
      }
    },
    async close() {
      const current = state;
      state = undefined;
      if (current) await (await current.catch(() => undefined))?.model.close().catch(() => {});
    },
  };
}

/** NATS JetStream: publishes to `<prefix>.<subject>` and waits for the stream's ack. */
export function natsSink<E = BrokerEvent>(
  url: string,
  options: BrokerSinkOptions<E> = {},
): BrokerSink<E> {
  type Nats = typeof import('nats');
  const stream = options.stream ?? FEED_STREAM;
  const prefix = options.subjectPrefix ?? FEED_SUBJECT_PREFIX;
  const address = addressOf(options);
  let state:
    | Promise<{
        nc: import('nats').NatsConnection;
        js: import('nats').JetStreamClient;
      }>
    | undefined;
  const open = async () => {
    const nats: Nats = await import('nats');
    const nc = await nats.connect({
      servers: url,
      timeout: options.connectTimeoutMs ?? 3000,
      maxReconnectAttempts: -1,
      name: options.clientName ?? 'fluxel-relay-feed',
    });
    nc.closed().then(() => {
      state = undefined;
    });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.info(stream).catch(async () => {
        await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
      });
      return { nc, js: nc.jetstream() };
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  };
  return {
    name: 'nats',
    async publish(event, body) {
      state ??= open();
      const to = address(event);
      let current: Awaited<NonNullable<typeof state>>;
      try {
        current = await state;
      } catch (error) {
        state = undefined;
        throw error;
      }
      // JetStream de-duplicates by msgID, so a retry after a lost ack is stored once.
      await current.js.publish(`${prefix}.${to.subject ?? to.type}`, body, {
        msgID: to.id,
        timeout: options.confirmTimeoutMs ?? 4000,
      });
    },
    async close() {
      const current = state;
      state = undefined;
      if (current) await (await current.catch(() => undefined))?.nc.close().catch(() => {});
    },
  };
}
