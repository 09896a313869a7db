/**
 * Partner events to message brokers: RabbitMQ topic exchange `fluxel.partner-events` (routing
 * key = event type) and NATS JetStream stream `FLUXEL_PARTNER_EVENTS` (subject
 * `fluxel.partner.<tenant>.<type>`). Publishing never blocks the caller: events go to a bounded
 * in-memory queue per broker; a pump sends the head, waits for the publisher confirm /
 * JetStream ack, and retries with backoff (reconnecting) until confirmed. A full queue drops the
 * new event and counts it. Consumers de-duplicate by `id` (AMQP `messageId`, `Nats-Msg-Id`).
 * The broker connections are the kit's sinks (`amqpSink`, `natsSink`) with the partner names.
 */
import {
  amqpSink,
  type BrokerAddress,
  type BrokerSink,
  natsSink,
} from '@fluxel-example/kit/brokers';
import { type PartnerEvent, subjectToken } from './model.ts';

export const PARTNER_EXCHANGE = 'fluxel.partner-events';
export const PARTNER_STREAM = 'FLUXEL_PARTNER_EVENTS';
export const PARTNER_SUBJECT_PREFIX = 'fluxel.partner';

/** One broker for partner events (the relay's broker sinks, parametrised). */
export type StreamSink = BrokerSink<PartnerEvent>;

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

/** How a partner event is addressed on both brokers (routing key / subject per tenant). */
const partnerAddress = (event: PartnerEvent): BrokerAddress => ({
  id: event.id,
  type: event.type,
  time: event.timestamp,
  subject: `${subjectToken(event.tenant)}.${event.type}`,
  headers: { tenant: event.tenant },
});

/** RabbitMQ (the relay's broker sink, with the partner exchange). */
export function amqpStreamSink(url: string): StreamSink {
  return amqpSink(url, { exchange: PARTNER_EXCHANGE, address: partnerAddress });
}

/** NATS JetStream (the relay's broker sink, with the partner stream and subjects). */
export function natsStreamSink(url: string): StreamSink {
  return natsSink(url, {
    stream: PARTNER_STREAM,
    subjectPrefix: PARTNER_SUBJECT_PREFIX,
    clientName: 'fluxel-portal-partner-events',
    address: partnerAddress,
  });
}
