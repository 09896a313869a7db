/**
 * Mailbox pickup: inbound events (a third party's webhooks) are held by the relay for at
 * most seven days until the agent picks them up (design brief, promise 5). The
 * {@link MailboxConsumer} long-polls a {@link MailboxSource}, hands each event to a handler,
 * and acknowledges an event only after the handler succeeded and its id was recorded in a
 * {@link DedupeStore}. An event whose id is already recorded is acknowledged without calling
 * the handler again (the handler ran, the ack was lost); a failed handler leaves the event
 * unacknowledged, so the relay delivers it again on a later pickup.
 *
 * This module runs on the Web platform; the durable dedupe store is in `node/file-dedupe-store.ts`.
 */
import { optionalFunctions, optionalTimers } from '../check-options.js';
import { RelayError } from '../errors.js';
import {
  type DedupeStore,
  type InboundEvent,
  type MailboxSource,
  MIN_DEDUPE_RETENTION_MS,
} from './types.js';
/**
 * Something that happened in the consumer.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MailboxConsumer, type MailboxEvent, type MailboxInboundEvent, type MailboxSource, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const events: MailboxInboundEvent[] = [{ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }];
 * const acked: string[] = [];
 * const source: MailboxSource = {
 *   pickup: async () => events.splice(0),
 *   ack: async (ids) => void acked.push(...ids),
 * };
 * const seen: MailboxEvent['type'][] = [];
 * const consumer = new MailboxConsumer({ source, dedupe: new MemoryDedupeStore(), handler: async () => {}, onEvent: (event) => seen.push(event.type) });
 * await consumer.pollOnce();
 * assert.deepEqual(seen, ['handled', 'acked']);
 * ```
 */
export type MailboxEvent =
  | { readonly type: 'handled'; readonly event: InboundEvent }
  | { readonly type: 'duplicate'; readonly event: InboundEvent }
  | { readonly type: 'handler-error'; readonly event: InboundEvent; readonly error: unknown }
  | { readonly type: 'acked'; readonly ids: readonly string[] }
  | {
      readonly type: 'source-error';
      readonly error: unknown;
      /** Wait before the next pickup (ms). */
      readonly retryInMs: number;
    }
  | { readonly type: 'ack-error'; readonly ids: readonly string[]; readonly error: unknown }
  | { readonly type: 'dedupe-error'; readonly event: InboundEvent; readonly error: unknown };

/**
 * Handles one event; resolve = done (it is acknowledged). `stop` waits for it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MailboxConsumer, type MailboxHandler, type MailboxInboundEvent, type MailboxSource, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const events: MailboxInboundEvent[] = [{ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }];
 * const acked: string[] = [];
 * const source: MailboxSource = {
 *   pickup: async () => events.splice(0),
 *   ack: async (ids) => void acked.push(...ids),
 * };
 * const handler: MailboxHandler = async (event) => {
 *   if (event.type !== 'order.created') throw new Error('not ours'); // not acked: comes back later
 * };
 * const consumer = new MailboxConsumer({ source, dedupe: new MemoryDedupeStore(), handler });
 * assert.deepEqual(await consumer.pollOnce(), { handled: 1, failed: 0 });
 * ```
 */
export type MailboxHandler = (event: InboundEvent) => Promise<void>;

/**
 * Timer functions, injectable for fake-clock tests.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MailboxConsumer, type MailboxTimers, type MailboxInboundEvent, type MailboxSource, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const events: MailboxInboundEvent[] = [{ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }];
 * const acked: string[] = [];
 * const source: MailboxSource = {
 *   pickup: async () => events.splice(0),
 *   ack: async (ids) => void acked.push(...ids),
 * };
 * const timers: MailboxTimers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) };
 * const consumer = new MailboxConsumer({ source, dedupe: new MemoryDedupeStore(), handler: async () => {}, timers });
 * assert.equal(consumer.running, false);
 * ```
 */
export interface MailboxTimers {
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
}

/**
 * Options of {@link MailboxConsumer}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MailboxConsumer, type MailboxConsumerOptions, type MailboxInboundEvent, type MailboxSource, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const events: MailboxInboundEvent[] = [{ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }];
 * const acked: string[] = [];
 * const source: MailboxSource = {
 *   pickup: async () => events.splice(0),
 *   ack: async (ids) => void acked.push(...ids),
 * };
 * const options: MailboxConsumerOptions = { source, dedupe: new MemoryDedupeStore(), handler: async () => {}, waitSeconds: 10, limit: 20 };
 * assert.equal(new MailboxConsumer(options).running, false);
 * ```
 */
export interface MailboxConsumerOptions {
  readonly source: MailboxSource;
  readonly handler: MailboxHandler;
  /** Handled ids (durable: `FileDedupeStore` from the `node` subpath). */
  readonly dedupe: DedupeStore;
  /** Long-poll wait, 0–30 s. Default 25. */
  readonly waitSeconds?: number;
  /** Events per pickup, 1–100. Default 50. */
  readonly limit?: number;
  /** Backoff (ms, full jitter, last entry repeats) after source or handler failures. */
  readonly backoff?: readonly number[];
  /** How long ids are remembered at least. Default {@link MIN_DEDUPE_RETENTION_MS}. */
  readonly retentionMs?: number;
  /** Clock in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Random number in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Timer functions. Default the global ones. */
  readonly timers?: MailboxTimers;
  /** Called for every {@link MailboxEvent}; exceptions are ignored. */
  readonly onEvent?: (event: MailboxEvent) => void;
}

/**
 * The default backoff after failures: 1 s, 5 s, 30 s, 2 min, then 5 min.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DEFAULT_MAILBOX_BACKOFF } from '@fluxel/relay-client/outbox';
 *
 * assert.equal(DEFAULT_MAILBOX_BACKOFF[0], 1_000);
 * assert.equal(DEFAULT_MAILBOX_BACKOFF.at(-1), 300_000);
 * ```
 */
export const DEFAULT_MAILBOX_BACKOFF: readonly number[] = [1_000, 5_000, 30_000, 120_000, 300_000];

/**
 * Picks up inbound events, hands them to a handler, acknowledges what was handled.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MailboxConsumer, type MailboxInboundEvent, type MailboxSource, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const events: MailboxInboundEvent[] = [{ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }];
 * const acked: string[] = [];
 * const source: MailboxSource = {
 *   pickup: async () => events.splice(0),
 *   ack: async (ids) => void acked.push(...ids),
 * };
 * const handled: string[] = [];
 * const consumer = new MailboxConsumer({ source, dedupe: new MemoryDedupeStore(), handler: async (event) => void handled.push(event.id) });
 * assert.deepEqual(await consumer.pollOnce(), { handled: 1, failed: 0 });
 * assert.deepEqual([handled, acked], [['evt-1'], ['evt-1']]);
 * ```
 */
export class MailboxConsumer {
  readonly #source: MailboxSource;
  readonly #handler: MailboxHandler;
  readonly #dedupe: DedupeStore;
  readonly #waitSeconds: number;
  readonly #limit: number;
  readonly #backoff: readonly number[];
  readonly #retention: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #timers: MailboxTimers;
  readonly #onEvent: ((event: MailboxEvent) => void) | undefined;
  #loop: Promise<void> | undefined;
  #controller: AbortController | undefined;
  #wake: (() => void) | undefined;

  constructor(options: MailboxConsumerOptions) {
    if (!options || typeof options.source?.pickup !== 'function')
      throw invalid('options.source must have pickup and ack');
    if (typeof options.source.ack !== 'function') throw invalid('options.source must have ack');
    if (typeof options.handler !== 'function') throw invalid('options.handler is required');
    if (typeof options.dedupe?.has !== 'function' || typeof options.dedupe.add !== 'function')
      throw invalid('options.dedupe must have has and add');
    const record = options as unknown as Record<string, unknown>;
    optionalFunctions(record, ['now', 'random', 'onEvent'], 'MailboxConsumer');
    optionalTimers(record, 'MailboxConsumer');
    this.#source = options.source;
    this.#handler = options.handler;
    this.#dedupe = options.dedupe;
    this.#waitSeconds = options.waitSeconds ?? 25;
    if (!(Number.isInteger(this.#waitSeconds) && this.#waitSeconds >= 0 && this.#waitSeconds <= 30))
      throw invalid('waitSeconds must be an integer from 0 to 30');
    this.#limit = options.limit ?? 50;
    if (!(Number.isInteger(this.#limit) && this.#limit >= 1 && this.#limit <= 100))
      throw invalid('limit must be an integer from 1 to 100');
    this.#backoff = options.backoff ?? DEFAULT_MAILBOX_BACKOFF;
    if (this.#backoff.length === 0 || this.#backoff.some((ms) => !(ms >= 0)))
      throw invalid('backoff must be a non-empty list of non-negative delays');
    this.#retention = options.retentionMs ?? MIN_DEDUPE_RETENTION_MS;
    if (!(this.#retention >= MIN_DEDUPE_RETENTION_MS))
      throw invalid(`retentionMs must be at least ${MIN_DEDUPE_RETENTION_MS} (8 days)`);
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    this.#onEvent = options.onEvent;
  }

  /** Whether the loop is running. */
  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Starts the pickup loop. */
  start(): void {
    if (this.#loop) return;
    const controller = new AbortController();
    this.#controller = controller;
    this.#loop = this.#run(controller.signal).finally(() => {
      this.#loop = undefined;
    });
  }

  /**
   * Stops: aborts the pending long-poll, lets the handler in flight finish (and
   * acknowledges what was handled), then resolves.
   */
  async stop(): Promise<void> {
    const loop = this.#loop;
    if (!loop) return;
    this.#controller?.abort(new RelayError('ERR_RELAY_ABORTED', 'the mailbox consumer stopped'));
    this.#wake?.();
    await loop;
  }

  /** One pickup round (for tests and for callers that drive the loop themselves). */
  async pollOnce(signal?: AbortSignal): Promise<{ handled: number; failed: number }> {
    const events = await this.#source.pickup({
      waitSeconds: this.#waitSeconds,
      limit: this.#limit,
      signal: signal ?? new AbortController().signal,
    });
    return this.#process(events, signal);
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let events: readonly InboundEvent[];
      try {
        events = await this.#source.pickup({
          waitSeconds: this.#waitSeconds,
          limit: this.#limit,
          signal,
        });
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        const retryAfter = RelayError.isInstance(error) ? error.retryAfterMs : undefined;
        const delay =
          retryAfter !== undefined && retryAfter >= 0 ? retryAfter : this.#jittered(failures);
        this.#emit({ type: 'source-error', error, retryInMs: delay });
        await this.#sleep(delay, signal);
        continue;
      }
      const { failed } = await this.#process(events, signal);
      if (failed > 0) {
        // Unhandled events come back on a later pickup: do not spin on them.
        failures++;
        await this.#sleep(this.#jittered(failures), signal);
      } else failures = 0;
    }
  }

  async #process(
    events: readonly InboundEvent[],
    signal: AbortSignal | undefined,
  ): Promise<{ handled: number; failed: number }> {
    const toAck: string[] = [];
    const seen = new Set<string>();
    let handled = 0;
    let failed = 0;
    for (const event of events) {
      if (signal?.aborted) break;
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      let known: boolean;
      try {
        known = await this.#dedupe.has(event.id);
      } catch (error) {
        this.#emit({ type: 'dedupe-error', event, error });
        failed++;
        continue;
      }
      if (known) {
        toAck.push(event.id);
        this.#emit({ type: 'duplicate', event });
        continue;
      }
      try {
        await this.#handler(event);
      } catch (error) {
        failed++;
        this.#emit({ type: 'handler-error', event, error });
        continue;
      }
      try {
        await this.#dedupe.add(event.id, this.#expiry(event));
      } catch (error) {
        // Not recorded: not acknowledged either, so it is handled again later.
        failed++;
        this.#emit({ type: 'dedupe-error', event, error });
        continue;
      }
      handled++;
      toAck.push(event.id);
      this.#emit({ type: 'handled', event });
    }
    if (toAck.length > 0) {
      try {
        await this.#source.ack(toAck);
        this.#emit({ type: 'acked', ids: toAck });
      } catch (error) {
        // They are in the dedupe store: a redelivery is acknowledged without the handler.
        this.#emit({ type: 'ack-error', ids: toAck, error });
      }
    }
    return { handled, failed };
  }

  /** Remember an id past the relay's own horizon for the event, and at least 8 days. */
  #expiry(event: InboundEvent): number {
    const now = this.#now();
    const relayExpiry = Date.parse(event.expiresAt);
    const base = now + this.#retention;
    return Number.isFinite(relayExpiry) ? Math.max(base, relayExpiry + 86_400_000) : base;
  }

  #jittered(failures: number): number {
    const base = this.#backoff[Math.min(failures - 1, this.#backoff.length - 1)] as number;
    return Math.floor(this.#random() * base);
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#timers.clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = this.#timers.setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #emit(event: MailboxEvent): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent(event);
    } catch {
      // ignored
    }
  }
}

function invalid(message: string): RelayError {
  return new RelayError('ERR_RELAY_INVALID_ARGUMENT', message);
}
