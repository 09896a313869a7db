/**
 * The partner hub of one portal: stores partner events, fans them out to the matching webhook
 * subscriptions (a delivery row each), runs the delivery worker (Standard Webhooks, retried on
 * a schedule with jitter), and publishes every event to RabbitMQ / NATS when configured.
 *
 * Who receives an event of tenant T: active subscriptions of T itself and of every partner
 * tenant assigned to T (`portal_partner_customers`) that chose the event's type.
 */
import { createHash, randomBytes } from 'node:crypto';
import { openText, sealText } from '@fluxel/crypto';
import { signWebhook } from '@fluxel-example/kit/webhooks';
import { request } from 'undici';
import type { Context } from '../../server/context.ts';
import type { PartnerEvent } from './contract.ts';
import { type PartnerEventInput, sanitizeData } from './model.ts';
import { checkTargetUrl, type TargetPolicy, webhookDispatcher } from './ssrf.ts';
import {
  claimDelivery,
  dueDeliveries,
  eventById,
  insertDelivery,
  insertEvent,
  markDelivered,
  markFailed,
  recentEvents,
  requeueDelivery,
  subscribersOf,
  subscriptionById,
} from './store.ts';
import { amqpStreamSink, natsStreamSink, PartnerStreams, type StreamSink } from './streams.ts';

/** Retry delays after the 1st, 2nd, … failed attempt; past the end the delivery has failed. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000,
  30_000,
  120_000,
  600_000,
  3_600_000,
  6 * 3_600_000,
  12 * 3_600_000,
  24 * 3_600_000,
];

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface HubOptions {
  readonly targets?: TargetPolicy;
  /** Extra CA (PEM) trusted for https receivers — dev/test receivers with the dev CA. */
  readonly webhookCa?: string;
  readonly retryScheduleMs?: readonly number[];
  /** ± fraction of each delay (default 0.2). */
  readonly jitter?: number;
  /** How often the worker looks for due deliveries (default 1000 ms; woken early by new events). */
  readonly pollMs?: number;
  readonly deliveryTimeoutMs?: number;
  /** Deliveries attempted at once (default 8). */
  readonly concurrency?: number;
  readonly clock?: () => number;
  readonly timers?: Timers;
  readonly amqpUrl?: string;
  readonly natsUrl?: string;
  /** Own sinks (tests); replace `amqpUrl`/`natsUrl`. */
  readonly sinks?: readonly StreamSink[];
  readonly streamMaxQueue?: number;
  readonly onError?: (error: unknown, where: string) => void;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;
const LEASE_MS = 120_000;

export class PartnerHub {
  readonly streams: PartnerStreams;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly schedule: readonly number[];
  private readonly dispatcher;
  private timer: unknown;
  private running = false;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly listeners = new Set<(event: PartnerEvent) => void>();

  constructor(
    readonly ctx: Context,
    readonly options: HubOptions = {},
  ) {
    this.now = options.clock ?? ctx.now;
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    this.schedule = options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
    this.dispatcher = webhookDispatcher(options.targets ?? {}, {
      timeoutMs: options.deliveryTimeoutMs ?? 10_000,
      ca: options.webhookCa,
    });
    const sinks =
      options.sinks ??
      [
        options.amqpUrl ? amqpStreamSink(options.amqpUrl) : undefined,
        options.natsUrl ? natsStreamSink(options.natsUrl) : undefined,
      ].filter((s): s is StreamSink => s !== undefined);
    this.streams = new PartnerStreams(sinks, {
      ...(options.streamMaxQueue ? { maxQueue: options.streamMaxQueue } : {}),
    });
  }

  get targets(): TargetPolicy {
    return this.options.targets ?? {};
  }

  private report(error: unknown, where: string): void {
    try {
      this.options.onError?.(error, where);
    } catch {}
  }

  /** Observe stored events (tests, live views). */
  onEvent(listener: (event: PartnerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- events

  /**
   * Stores the event, queues a delivery per matching subscription, publishes it to the brokers.
   * With a `sourceId` already seen, nothing happens (returns undefined).
   */
  async emit(input: PartnerEventInput): Promise<PartnerEvent | undefined> {
    const id = input.sourceId
      ? `evt_${createHash('sha256').update(input.sourceId).digest('base64url').slice(0, 22)}`
      : newId('evt');
    const at = input.time ?? this.now();
    const event: PartnerEvent = {
      id,
      type: input.type,
      timestamp: new Date(at).toISOString(),
      tenant: input.tenant,
      data: sanitizeData(input.data),
    };
    if (!(await insertEvent(this.ctx.db, event, at))) return undefined;
    if (input.type !== 'test.ping') await this.fanOut(event);
    this.streams.publish(event);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {}
    }
    this.wake();
    return event;
  }

  private async fanOut(event: PartnerEvent): Promise<void> {
    const now = this.now();
    for (const sub of await subscribersOf(this.ctx.db, event.tenant)) {
      if (!sub.eventTypes.includes(event.type)) continue;
      const delivery = { id: newId('dlv'), subscriptionId: sub.id, eventId: event.id, now };
      await insertDelivery(this.ctx.db, delivery, true);
    }
  }

  /** A `test.ping` to one subscription. */
  async ping(subscriptionId: string, tenant: string): Promise<string> {
    const event = await this.emit({ type: 'test.ping', tenant, data: { subscriptionId } });
    const id = newId('dlv');
    await insertDelivery(
      this.ctx.db,
      { id, subscriptionId, eventId: event?.id, now: this.now() },
      false,
    );
    this.wake();
    return id;
  }

  recentEvents(
    tenants: readonly string[],
    q: { limit: number; before?: number; type?: string },
  ): Promise<PartnerEvent[]> {
    return recentEvents(this.ctx.db, tenants, q);
  }
  // ---------------------------------------------------------------- secrets

  sealSecret(subscriptionId: string, secret: string): Promise<string> {
    return sealText(secret, {
      keyring: this.ctx.keyring,
      context: { subscription: subscriptionId, field: 'webhook-secret' },
    });
  }

  openSecret(subscriptionId: string, sealed: string): Promise<string> {
    return openText(sealed, {
      keyring: this.ctx.keyring,
      context: { subscription: subscriptionId, field: 'webhook-secret' },
    });
  }

  // ---------------------------------------------------------------- deliveries

  /**
   * Manual redelivery: one more attempt now (also for a delivered or failed one). Refused
   * (`'in_progress'`) while an attempt is running — its lease has not expired — so the running
   * attempt's result cannot overwrite the redelivery and the event is not sent twice at once.
   * After an expired lease (a worker that died) the stale attempt loses its token: whatever it
   * still reports is dropped.
   */
  async redeliver(deliveryId: string): Promise<'pending' | 'in_progress' | 'not_found'> {
    const outcome = await requeueDelivery(this.ctx.db, deliveryId, this.now());
    if (outcome === 'pending') this.wake();
    return outcome;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.streams.close();
    await this.dispatcher.close().catch(() => {});
  }

  /** Looks for due deliveries now (also called by new events and redeliveries). */
  wake(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.ticking = this.tick()
      .then(() => undefined)
      .catch((error) => this.report(error, 'webhook worker'))
      .finally(() => {
        this.ticking = undefined;
        if (!this.running) return;
        if (this.again) {
          this.again = false;
          this.wake();
          return;
        }
        this.timer = this.timers.setTimeout(() => {
          this.timer = undefined;
          this.wake();
        }, this.options.pollMs ?? 1000);
      });
  }

  /** Runs every due delivery once; returns how many were attempted. */
  async tick(): Promise<number> {
    const ids = await dueDeliveries(this.ctx.db, this.now());
    const limit = Math.max(1, this.options.concurrency ?? 8);
    let attempted = 0;
    for (let i = 0; i < ids.length; i += limit) {
      const results = await Promise.all(ids.slice(i, i + limit).map((id) => this.attempt(id)));
      attempted += results.filter(Boolean).length;
    }
    return attempted;
  }

  private delayAfter(attempts: number): number | undefined {
    const base = this.schedule[attempts - 1];
    if (base === undefined) return undefined;
    const jitter = this.options.jitter ?? 0.2;
    // eslint-disable-next-line @microsoft/sdl/no-insecure-random -- retry jitter, not a secret
    return Math.round(base * (1 - jitter + Math.random() * 2 * jitter));
  }

  /** One attempt of one delivery, if this worker wins the claim. */
  private async attempt(id: string): Promise<boolean> {
    const now = this.now();
    // The claim hands this attempt a token of its own; its result is written only while the
    // row still carries that token (a redelivery clears it, a takeover replaces it).
    const token = randomBytes(12).toString('base64url');
    const c = await claimDelivery(this.ctx.db, id, { now, leaseUntil: now + LEASE_MS, token });
    if (!c) return false;
    const [sub, event] = await Promise.all([
      subscriptionById(this.ctx.db, c.subscriptionId),
      eventById(this.ctx.db, c.eventId),
    ]);
    let status: number | undefined;
    let error: string | undefined;
    if (!sub || !event) error = 'subscription or event gone';
    else if (!sub.active) error = 'subscription inactive';
    else {
      const checked = checkTargetUrl(sub.url, this.targets);
      if (!checked.ok) error = `target refused: ${checked.reason}`;
      else {
        try {
          const secret = await this.openSecret(sub.id, sub.secretSealed);
          status = await this.send(checked.url, secret, event);
          if (status < 200 || status >= 300) error = `HTTP ${status}`;
        } catch (e) {
          error = describe(e);
        }
      }
    }
    const after = this.now();
    if (error === undefined) {
      await markDelivered(this.ctx.db, id, { status, at: after, token });
      return true;
    }
    const delay = sub?.active ? this.delayAfter(c.attempts) : undefined;
    await markFailed(this.ctx.db, id, {
      retryAt: delay === undefined ? undefined : after + delay,
      status,
      error,
      token,
    });
    return true;
  }

  private async send(url: URL, secret: string, event: PartnerEvent): Promise<number> {
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      timestamp: event.timestamp,
      tenant: event.tenant,
      data: event.data,
    });
    const timestamp = Math.floor(this.now() / 1000);
    const res = await request(url, {
      method: 'POST',
      dispatcher: this.dispatcher,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fluxel-portal-webhooks/1',
        'webhook-id': event.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, event.id, timestamp, body),
      },
      body,
    });
    // The body of the answer is never stored; read and dropped (bounded by the timeout).
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    return res.statusCode;
  }
}

function describe(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    const c = typeof code === 'string' ? code : typeof cause === 'string' ? cause : undefined;
    if (c === 'ECONNREFUSED') return 'connection refused';
    if (c === 'ERR_SSRF_BLOCKED') return 'target refused: internal address';
    if (c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'UND_ERR_HEADERS_TIMEOUT') return 'timeout';
    if (c) return c;
  }
  return 'delivery failed';
}
