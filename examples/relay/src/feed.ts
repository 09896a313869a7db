/**
 * The partner event feed: metadata of mailbox and audit events, published to RabbitMQ (topic
 * exchange `fluxel.events`, routing key = event type) and/or NATS JetStream (stream
 * `FLUXEL_EVENTS`, subject `fluxel.events.<type>`).
 *
 * Publishing never blocks or fails the request path: `publish()` only appends to a bounded
 * in-memory queue per broker; a background pump sends the head of the queue, waits for the
 * broker's confirmation (publisher confirm / JetStream ack) and retries with exponential backoff
 * and a reconnect until it is confirmed. When a queue is full the new event is dropped and
 * counted, and `onDrop` is told (the relay logs it and writes a `feed.drop` audit event).
 */
import { randomUUID } from 'node:crypto';
import { withTimeout } from '@fluxel-example/kit/brokers';

export { FEED_EXCHANGE, FEED_STREAM, FEED_SUBJECT_PREFIX } from '@fluxel-example/kit/brokers';

/** What a partner receives: metadata only, never credential values or mailbox payloads. */
export interface FeedEvent {
  /** Unique per event (AMQP `messageId`, JetStream `Nats-Msg-Id` for de-duplication). */
  readonly id: string;
  /** e.g. `mailbox.received`, `license.activate`, `credentials.put`. */
  readonly type: string;
  /** ISO 8601. */
  readonly time: string;
  readonly outcome: string;
  readonly tenant?: string;
  readonly licenseId?: string;
  readonly connection?: string;
  /** The `webhook-id` of a mailbox event. */
  readonly mailboxEventId?: string;
}

export type FeedEventInput = Omit<FeedEvent, 'id' | 'time'> & { time?: number };

/** One broker. `publish` resolves once the broker has confirmed the event. */
export interface FeedSink {
  readonly name: string;
  publish(event: FeedEvent, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface FeedSinkStats {
  /** Confirmed by the broker. */
  published: number;
  /** Not published: the queue was full, or still queued when the relay closed. */
  dropped: number;
  /** Failed attempts (each is retried). */
  failures: number;
  /** Waiting in the queue (including the one in flight). */
  queued: number;
}

export interface FeedOptions {
  /** Events held per broker before new ones are dropped. Default 10 000. */
  readonly maxQueue?: number;
  /** First retry delay; doubles up to `maxBackoffMs` (with jitter). Default 100 ms. */
  readonly minBackoffMs?: number;
  /** Default 10 000 ms. */
  readonly maxBackoffMs?: number;
  /** How long a broker may take to confirm one event. Default 5000 ms. */
  readonly confirmTimeoutMs?: number;
  /** How long close() keeps publishing what is queued. Default 2000 ms. */
  readonly closeTimeoutMs?: number;
}

export interface DropNotice {
  readonly sink: string;
  readonly type: string;
  readonly reason: 'queue-full' | 'closed';
  /** Dropped by this sink so far. */
  readonly dropped: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((done) => {
    if (signal.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });

/** Routing keys and subject tokens: letters, digits, `_`, `-`, dots between tokens. */
export function feedType(type: string): string {
  const cleaned = type
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.|\.$/g, '');
  return cleaned.slice(0, 128) || 'event';
}

class SinkQueue {
  readonly stats: FeedSinkStats = { published: 0, dropped: 0, failures: 0, queued: 0 };
  private readonly queue: { event: FeedEvent; body: Buffer }[] = [];
  private wake: (() => void) | undefined;
  private readonly stop = new AbortController();
  private readonly done: Promise<void>;
  private closing = false;

  constructor(
    readonly sink: FeedSink,
    private readonly options: Required<FeedOptions>,
    private readonly onDrop: (notice: DropNotice) => void,
  ) {
    this.done = this.pump();
  }

  push(event: FeedEvent, body: Buffer): void {
    if (this.closing || this.queue.length >= this.options.maxQueue) {
      this.drop(event.type, this.closing ? 'closed' : 'queue-full');
      return;
    }
    this.queue.push({ event, body });
    this.stats.queued = this.queue.length;
    this.wake?.();
  }

  private drop(type: string, reason: DropNotice['reason']) {
    this.stats.dropped += 1;
    try {
      this.onDrop({ sink: this.sink.name, type, reason, dropped: this.stats.dropped });
    } catch {
      // a failing drop handler must not break publishing
    }
  }

  private async pump(): Promise<void> {
    let backoff = this.options.minBackoffMs;
    while (!this.stop.signal.aborted) {
      const head = this.queue[0];
      if (!head) {
        if (this.closing) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      try {
        await withTimeout(
          this.sink.publish(head.event, head.body),
          this.options.confirmTimeoutMs,
          `${this.sink.name} publish`,
        );
        this.queue.shift();
        this.stats.published += 1;
        this.stats.queued = this.queue.length;
        backoff = this.options.minBackoffMs;
      } catch {
        this.stats.failures += 1;
        // eslint-disable-next-line @microsoft/sdl/no-insecure-random -- retry jitter, not a secret
        const jitter = 0.8 + Math.random() * 0.4;
        await sleep(backoff * jitter, this.stop.signal);
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
      }
    }
  }

  /** Publishes what is queued for up to closeTimeoutMs, then drops (and counts) the rest. */
  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    const timer = setTimeout(() => this.stop.abort(), this.options.closeTimeoutMs);
    await this.done;
    clearTimeout(timer);
    this.stop.abort();
    for (const { event } of this.queue.splice(0)) this.drop(event.type, 'closed');
    this.stats.queued = 0;
    await this.sink.close().catch(() => {});
  }
}

export class EventFeed {
  private readonly queues: SinkQueue[];
  private closed: Promise<void> | undefined;

  constructor(
    sinks: readonly FeedSink[],
    options: FeedOptions = {},
    onDrop: (notice: DropNotice) => void = () => {},
  ) {
    const resolved: Required<FeedOptions> = {
      maxQueue: options.maxQueue ?? 10_000,
      minBackoffMs: options.minBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      confirmTimeoutMs: options.confirmTimeoutMs ?? 5000,
      closeTimeoutMs: options.closeTimeoutMs ?? 2000,
    };
    this.queues = sinks.map((sink) => new SinkQueue(sink, resolved, onDrop));
  }

  /** Queues the event for every broker; never throws, never waits. */
  publish(input: FeedEventInput): void {
    if (this.queues.length === 0) return;
    const { time, ...rest } = input;
    const event: FeedEvent = {
      id: randomUUID(),
      ...rest,
      type: feedType(input.type),
      time: new Date(time ?? Date.now()).toISOString(),
    };
    const body = Buffer.from(JSON.stringify(event));
    for (const queue of this.queues) queue.push(event, body);
  }

  /** Counters per broker (`amqp`, `nats`). */
  stats(): Record<string, FeedSinkStats> {
    return Object.fromEntries(this.queues.map((q) => [q.sink.name, { ...q.stats }]));
  }

  close(): Promise<void> {
    this.closed ??= Promise.all(this.queues.map((q) => q.close())).then(() => {});
    return this.closed;
  }
}
