/**
 * Partner events to message brokers: RabbitMQ topic exchange `fluxel.partner-events` (routing
 * key = event type) and NATS JetStream stream `FLUXEL_PARTNER_EVENTS` (subject
 * `fluxel.partner.<tenant>.<type>`). Publishing never blocks the caller: events go to a bounded
 * in-memory queue per broker; a pump sends the head, waits for the publisher confirm /
 * JetStream ack, and retries with backoff (reconnecting) until confirmed. A full queue drops the
 * new event and counts it. Consumers de-duplicate by `id` (AMQP `messageId`, `Nats-Msg-Id`).
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { JetStreamClient, NatsConnection } from 'nats';
import { type PartnerEvent, subjectToken } from './model.ts';

export const PARTNER_EXCHANGE = 'fluxel.partner-events';
export const PARTNER_STREAM = 'FLUXEL_PARTNER_EVENTS';
export const PARTNER_SUBJECT_PREFIX = 'fluxel.partner';

export interface StreamSink {
  readonly name: 'amqp' | 'nats';
  publish(event: PartnerEvent, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface StreamStats {
  published: number;
  dropped: number;
  failures: number;
  queued: number;
}

const timeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no confirmation in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

class Pump {
  readonly stats: StreamStats = { published: 0, dropped: 0, failures: 0, queued: 0 };
  private readonly queue: { event: PartnerEvent; body: Buffer }[] = [];
  private wake: (() => void) | undefined;
  private sleeping: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    readonly sink: StreamSink,
    private readonly maxQueue: number,
    private readonly confirmMs: number,
  ) {
    this.done = this.run();
  }

  push(event: PartnerEvent, body: Buffer): void {
    if (this.stopped || this.queue.length >= this.maxQueue) {
      this.stats.dropped += 1;
      return;
    }
    this.queue.push({ event, body });
    this.stats.queued = this.queue.length;
    this.wake?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = () => resolve();
      this.sleeping = setTimeout(resolve, ms);
    }).then(() => {
      clearTimeout(this.sleeping);
      this.wake = undefined;
    });
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.stopped || this.queue.length > 0) {
      const head = this.queue[0];
      if (!head) {
        await this.pause(60_000);
        continue;
      }
      try {
        await timeout(this.sink.publish(head.event, head.body), this.confirmMs, this.sink.name);
        this.queue.shift();
        this.stats.published += 1;
        this.stats.queued = this.queue.length;
        backoff = 100;
      } catch {
        this.stats.failures += 1;
        if (this.stopped) break;
        // eslint-disable-next-line @microsoft/sdl/no-insecure-random -- reconnect jitter, not a secret
        await this.pause(backoff * (0.8 + Math.random() * 0.4));
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  /** Sends what is queued for up to `graceMs`, then drops (and counts) the rest. */
  async close(graceMs: number): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await Promise.race([this.done, new Promise((r) => setTimeout(r, graceMs).unref())]);
    this.stats.dropped += this.queue.splice(0).length;
    this.stats.queued = 0;
    this.wake?.();
    await this.sink.close().catch(() => {});
  }
}

export class PartnerStreams {
  private readonly pumps: Pump[];

  constructor(
    sinks: readonly StreamSink[],
    options: { maxQueue?: number; confirmMs?: number } = {},
  ) {
    this.pumps = sinks.map(
      (s) => new Pump(s, options.maxQueue ?? 10_000, options.confirmMs ?? 5000),
    );
  }

  get enabled(): boolean {
    return this.pumps.length > 0;
  }

  publish(event: PartnerEvent): void {
    if (this.pumps.length === 0) return;
    const body = Buffer.from(JSON.stringify(event));
    for (const pump of this.pumps) pump.push(event, body);
  }

  stats(): Record<string, StreamStats> {
    return Object.fromEntries(this.pumps.map((p) => [p.sink.name, { ...p.stats }]));
  }

  async close(graceMs = 2000): Promise<void> {
    await Promise.all(this.pumps.map((p) => p.close(graceMs)));
  }
}

/** RabbitMQ through a confirm channel; a lost connection is reopened on the next attempt. */
export function amqpStreamSink(url: string): StreamSink {
  let state: Promise<{ model: ChannelModel; channel: ConfirmChannel }> | undefined;
  const open = async () => {
    const amqp = await import('amqplib');
    const model = await amqp.connect(url, { timeout: 3000 });
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
      await channel.assertExchange(PARTNER_EXCHANGE, 'topic', { durable: true });
      return { model, channel };
    } catch (error) {
      await model.close().catch(() => {});
      throw error;
    }
  };
  const drop = () => {
    const current = state;
    state = undefined;
    current?.then(({ model }) => model.close()).catch(() => {});
  };
  return {
    name: 'amqp',
    async publish(event, body) {
      state ??= open();
      try {
        const { channel } = await state;
        await new Promise<void>((resolve, reject) => {
          channel.publish(
            PARTNER_EXCHANGE,
            event.type,
            body,
            {
              contentType: 'application/json',
              messageId: event.id,
              type: event.type,
              timestamp: Math.floor(Date.parse(event.timestamp) / 1000),
              persistent: true,
              headers: { tenant: event.tenant },
            },
            (error: unknown) => (error ? reject(error) : resolve()),
          );
        });
      } catch (error) {
        drop();
        throw error;
      }
    },
    async close() {
      const current = state;
      state = undefined;
      const opened = await current?.catch(() => undefined);
      await opened?.model.close().catch(() => {});
    },
  };
}

/** NATS JetStream: the stream is created when missing; `msgID` de-duplicates retried publishes. */
export function natsStreamSink(url: string): StreamSink {
  let state: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  const open = async () => {
    const nats = await import('nats');
    const nc = await nats.connect({
      servers: url,
      timeout: 3000,
      maxReconnectAttempts: -1,
      name: 'fluxel-portal-partner-events',
    });
    void nc.closed().then(() => {
      state = undefined;
    });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.info(PARTNER_STREAM).catch(async () => {
        await jsm.streams.add({ name: PARTNER_STREAM, subjects: [`${PARTNER_SUBJECT_PREFIX}.>`] });
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
      let current: { nc: NatsConnection; js: JetStreamClient };
      try {
        current = await state;
      } catch (error) {
        state = undefined;
        throw error;
      }
      await current.js.publish(
        `${PARTNER_SUBJECT_PREFIX}.${subjectToken(event.tenant)}.${event.type}`,
        body,
        { msgID: event.id, timeout: 4000 },
      );
    },
    async close() {
      const current = state;
      state = undefined;
      const opened = await current?.catch(() => undefined);
      await opened?.nc.close().catch(() => {});
    },
  };
}
