/**
 * The partner hub of one portal: stores partner events, fans them out to the matching webhook
 * subscriptions (a delivery row each), runs the delivery worker (Standard Webhooks, retried on
 * a schedule with jitter), and publishes every event to RabbitMQ / NATS when configured.
 *
 * Who receives an event of tenant T: active subscriptions of T itself and of every partner
 * tenant assigned to T (`portal_partner_customers`) that chose the event's type.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fromText, open, seal, toText } from '@fluxel/crypto';
import { request } from 'undici';
import type { Context } from '../../server/context.ts';
import { signWebhookPayload } from '../../server/partner/signing.ts';
import {
  eventRow,
  type PartnerEvent,
  type PartnerEventInput,
  type PartnerEventType,
  sanitizeData,
} from './model.ts';
import { checkTargetUrl, type TargetPolicy, webhookDispatcher } from './ssrf.ts';
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

export interface DeliveryRow {
  readonly id: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly tenantId: string;
  readonly status: 'pending' | 'delivering' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt?: string;
  readonly lastAttemptAt?: string;
  readonly lastStatus?: number;
  /** The technical reason of the last failed attempt (English, for API clients and logs). */
  readonly lastError?: string;
  /** The same as a stable code the web app translates (DELIVERY_ERRORS). */
  readonly lastErrorReason?: DeliveryError;
  readonly deliveredAt?: string;
  readonly createdAt: string;
}

/** Why a delivery attempt failed, as stable codes (see `deliveryError`). */
export const DELIVERY_ERRORS = [
  'gone',
  'inactive',
  'internal_address',
  'target_refused',
  'http_status',
  'connection_refused',
  'timeout',
  'unreachable',
  'failed',
] as const;
export type DeliveryError = (typeof DELIVERY_ERRORS)[number];

const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'UND_ERR_SOCKET',
]);

/** The stable code of a stored `last_error` (the texts `attempt` and `describe` write). */
export function deliveryError(lastError: string): DeliveryError {
  if (lastError === 'subscription or event gone') return 'gone';
  if (lastError === 'subscription inactive') return 'inactive';
  if (lastError === 'target refused: internal address') return 'internal_address';
  if (lastError.startsWith('target refused: ')) return 'target_refused';
  if (/^HTTP \d+$/.test(lastError)) return 'http_status';
  if (lastError === 'connection refused') return 'connection_refused';
  if (lastError === 'timeout') return 'timeout';
  if (UNREACHABLE_CODES.has(lastError)) return 'unreachable';
  return 'failed';
}

const iso = (v: unknown) => (v == null ? undefined : new Date(Number(v)).toISOString());

export function deliveryRow(r: Record<string, unknown>): DeliveryRow {
  const next = iso(r.next_attempt_at);
  const last = iso(r.last_attempt_at);
  const done = iso(r.delivered_at);
  return {
    id: String(r.id),
    subscriptionId: String(r.subscription_id),
    eventId: String(r.event_id),
    eventType: String(r.event_type ?? ''),
    tenantId: String(r.tenant_id ?? ''),
    status: r.status as DeliveryRow['status'],
    attempts: Number(r.attempts),
    ...(next && (r.status === 'pending' || r.status === 'delivering')
      ? { nextAttemptAt: next }
      : {}),
    ...(last ? { lastAttemptAt: last } : {}),
    ...(r.last_status == null ? {} : { lastStatus: Number(r.last_status) }),
    ...(r.last_error == null
      ? {}
      : {
          lastError: String(r.last_error),
          lastErrorReason: deliveryError(String(r.last_error)),
        }),
    ...(done ? { deliveredAt: done } : {}),
    createdAt: new Date(Number(r.created_at)).toISOString(),
  };
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
    const data = sanitizeData(input.data);
    const { rows } = await this.ctx.db.query(
      `INSERT INTO portal_partner_events (id, type, tenant_id, data, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [id, input.type, input.tenant, JSON.stringify(data), at],
    );
    if (rows.length === 0) return undefined;
    const event: PartnerEvent = {
      id,
      type: input.type,
      timestamp: new Date(at).toISOString(),
      tenant: input.tenant,
      data,
    };
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
    const { rows } = await this.ctx.db.query(
      `SELECT id, event_types FROM portal_partner_subscriptions
       WHERE active AND (tenant_id = $1 OR tenant_id IN
         (SELECT partner_id FROM portal_partner_customers WHERE customer_id = $1))`,
      [event.tenant],
    );
    const now = this.now();
    for (const r of rows) {
      const types = String(r.event_types).split(' ');
      if (!types.includes(event.type)) continue;
      await this.ctx.db.query(
        `INSERT INTO portal_partner_deliveries
           (id, subscription_id, event_id, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4) ON CONFLICT (subscription_id, event_id) DO NOTHING`,
        [newId('dlv'), String(r.id), event.id, now],
      );
    }
  }

  /** A `test.ping` to one subscription. */
  async ping(subscriptionId: string, tenant: string): Promise<string> {
    const event = await this.emit({ type: 'test.ping', tenant, data: { subscriptionId } });
    const id = newId('dlv');
    await this.ctx.db.query(
      `INSERT INTO portal_partner_deliveries
         (id, subscription_id, event_id, status, attempts, next_attempt_at, created_at)
       VALUES ($1, $2, $3, 'pending', 0, $4, $4)`,
      [id, subscriptionId, event?.id, this.now()],
    );
    this.wake();
    return id;
  }

  async recentEvents(
    tenants: readonly string[],
    q: { limit: number; before?: number; type?: string },
  ): Promise<PartnerEvent[]> {
    if (tenants.length === 0) return [];
    const params: unknown[] = [tenants, q.limit];
    let where = 'tenant_id = ANY($1)';
    if (q.type) {
      params.push(q.type);
      where += ` AND type = $${params.length}`;
    }
    if (q.before) {
      params.push(q.before);
      where += ` AND created_at < $${params.length}`;
    }
    const { rows } = await this.ctx.db.query(
      `SELECT * FROM portal_partner_events WHERE ${where} ORDER BY created_at DESC, id LIMIT $2`,
      params,
    );
    return rows.map(eventRow);
  }

  // ---------------------------------------------------------------- secrets

  sealSecret(subscriptionId: string, secret: string): Promise<string> {
    return seal(new TextEncoder().encode(secret), {
      keyring: this.ctx.keyring,
      context: { subscription: subscriptionId, field: 'webhook-secret' },
    }).then(toText);
  }

  async openSecret(subscriptionId: string, sealed: string): Promise<string> {
    const plain = await open(fromText(sealed), {
      keyring: this.ctx.keyring,
      context: { subscription: subscriptionId, field: 'webhook-secret' },
    });
    return new TextDecoder().decode(plain);
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
    const now = this.now();
    const { rows } = await this.ctx.db.query(
      `UPDATE portal_partner_deliveries SET status = 'pending', next_attempt_at = $2, attempt_token = NULL
       WHERE id = $1 AND NOT (status = 'delivering' AND next_attempt_at > $2) RETURNING id`,
      [deliveryId, now],
    );
    if (rows.length > 0) {
      this.wake();
      return 'pending';
    }
    const { rows: exists } = await this.ctx.db.query(
      'SELECT 1 FROM portal_partner_deliveries WHERE id = $1',
      [deliveryId],
    );
    return exists.length > 0 ? 'in_progress' : 'not_found';
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
    const now = this.now();
    const { rows } = await this.ctx.db.query(
      `SELECT id FROM portal_partner_deliveries
       WHERE status IN ('pending', 'delivering') AND next_attempt_at <= $1
       ORDER BY next_attempt_at LIMIT 64`,
      [now],
    );
    const ids = rows.map((r) => String(r.id));
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
    const claimed = await this.ctx.db.query(
      `UPDATE portal_partner_deliveries
       SET status = 'delivering', next_attempt_at = $2, attempts = attempts + 1, last_attempt_at = $3,
         attempt_token = $4
       WHERE id = $1 AND status IN ('pending', 'delivering') AND next_attempt_at <= $3
       RETURNING subscription_id, event_id, attempts`,
      [id, now + LEASE_MS, now, token],
    );
    const c = claimed.rows[0];
    if (!c) return false;
    const attempts = Number(c.attempts);
    const [subs, events] = await Promise.all([
      this.ctx.db.query('SELECT * FROM portal_partner_subscriptions WHERE id = $1', [
        c.subscription_id,
      ]),
      this.ctx.db.query('SELECT * FROM portal_partner_events WHERE id = $1', [c.event_id]),
    ]);
    const sub = subs.rows[0];
    const eventRecord = events.rows[0];
    let status: number | undefined;
    let error: string | undefined;
    if (!sub || !eventRecord) error = 'subscription or event gone';
    else if (!sub.active) error = 'subscription inactive';
    else {
      const event = eventRow(eventRecord);
      const checked = checkTargetUrl(String(sub.url), this.targets);
      if (!checked.ok) error = `target refused: ${checked.reason}`;
      else {
        try {
          const secret = await this.openSecret(String(sub.id), String(sub.secret_sealed));
          status = await this.send(checked.url, secret, event);
          if (status < 200 || status >= 300) error = `HTTP ${status}`;
        } catch (e) {
          error = describe(e);
        }
      }
    }
    const after = this.now();
    if (error === undefined) {
      await this.ctx.db.query(
        `UPDATE portal_partner_deliveries SET status = 'delivered', next_attempt_at = NULL,
           last_status = $2, last_error = NULL, delivered_at = $3, attempt_token = NULL
         WHERE id = $1 AND attempt_token = $4`,
        [id, status, after, token],
      );
      return true;
    }
    const delay = sub?.active ? this.delayAfter(attempts) : undefined;
    await this.ctx.db.query(
      `UPDATE portal_partner_deliveries SET status = $2, next_attempt_at = $3,
         last_status = $4, last_error = $5, attempt_token = NULL
       WHERE id = $1 AND attempt_token = $6`,
      [
        id,
        delay === undefined ? 'failed' : 'pending',
        delay === undefined ? null : after + delay,
        status ?? null,
        error.slice(0, 300),
        token,
      ],
    );
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
        'webhook-signature': signWebhookPayload(secret, event.id, timestamp, body),
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

export type { PartnerEventType };
