/** The outbox's messages, stores, events and limits. */
import type { RelayError } from '../errors.js';

/**
 * The longest caller-chosen message id ({@link OutboxInput.id}).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MAX_OUTBOX_ID_LENGTH, MemoryOutboxStore, Outbox } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * await assert.rejects(outbox.enqueue({ id: 'a'.repeat(MAX_OUTBOX_ID_LENGTH + 1), connection: 'shop-1', operation: 'order.status', payload: 1 }), { code: 'ERR_RELAY_INVALID_ARGUMENT' });
 * await outbox.close();
 * ```
 */
export const MAX_OUTBOX_ID_LENGTH = 128;

/**
 * The largest {@link OutboxMetadata} (bytes of its JSON text).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MAX_OUTBOX_METADATA_BYTES, MemoryOutboxStore, Outbox } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * const metadata = { note: 'x'.repeat(MAX_OUTBOX_METADATA_BYTES) };
 * await assert.rejects(outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: 1, metadata }), { code: 'ERR_RELAY_INVALID_ARGUMENT' });
 * await outbox.close();
 * ```
 */
export const MAX_OUTBOX_METADATA_BYTES = 2048;

/**
 * The most keys an {@link OutboxMetadata} may have.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MAX_OUTBOX_METADATA_KEYS, MemoryOutboxStore, Outbox } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * const metadata = Object.fromEntries(Array.from({ length: MAX_OUTBOX_METADATA_KEYS + 1 }, (_, i) => [`k${i}`, i]));
 * await assert.rejects(outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: 1, metadata }), { code: 'ERR_RELAY_INVALID_ARGUMENT' });
 * await outbox.close();
 * ```
 */
export const MAX_OUTBOX_METADATA_KEYS = 32;

/**
 * Caller metadata of a message: a flat JSON object of strings, finite numbers, booleans and
 * `null`, at most {@link MAX_OUTBOX_METADATA_KEYS} keys (each 1–64 characters) and
 * {@link MAX_OUTBOX_METADATA_BYTES} bytes as JSON. Meant for logs and dead letters (a file
 * name, the operation, a correlation id), so keep secrets and payload data out of it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxMetadata } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * const metadata: OutboxMetadata = { file: 'a-1.json', line: 3, retried: false };
 * const message = await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: 1, metadata });
 * assert.deepEqual(message.metadata, metadata);
 * await outbox.close();
 * ```
 */
export type OutboxMetadata = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Why an attempt failed, as kept in {@link OutboxMessage.lastError} and given to events.
 * For a refusal by the relay, `status`, `problemCode` and `detail` come from its problem
 * document (RFC 9457), so a dead letter says what was refused and why.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxErrorInfo, RelayError } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * await outbox.drain(async () => { throw new RelayError('ERR_RELAY_IDEMPOTENCY_CONFLICT', 'key reused', { status: 409 }); });
 * const info: OutboxErrorInfo | undefined = (await outbox.deadLetters())[0]?.lastError;
 * assert.equal(info?.status, 409);
 * await outbox.close();
 * ```
 */
export interface OutboxErrorInfo {
  /** The error's code, e.g. `ERR_RELAY_NOT_FOUND`. */
  readonly code: string;
  /** The error's message. */
  readonly message: string;
  /** The relay's HTTP status, when it answered. */
  readonly status?: number;
  /** The relay's machine-readable problem code, e.g. `ERR_OPERATION_UNKNOWN`. */
  readonly problemCode?: string;
  /** The relay's problem `detail` (at most 1,000 characters). */
  readonly detail?: string;
}

/**
 * One message in the outbox.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxMessage } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * const message: OutboxMessage = await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * assert.equal(message.attempts, 0);
 * await outbox.close();
 * ```
 */
export interface OutboxMessage {
  /**
   * UUIDv7 minted at enqueue, or the caller's id ({@link OutboxInput.id}); unique among the
   * messages in the outbox (waiting, in flight or dead). `relayDeliver` sends it as the
   * idempotency key.
   */
  readonly id: string;
  /** Which third-party connection the message is for. */
  readonly connection: string;
  /** What to do with it, e.g. `order.status`. */
  readonly operation: string;
  /** JSON-serialisable body. */
  readonly payload: unknown;
  /** Messages with the same key are delivered in enqueue order, one at a time. */
  readonly orderingKey?: string;
  /** When it was enqueued (ms since the epoch). */
  readonly enqueuedAt: number;
  /** Delivery attempts started so far (a leased message counts its current attempt). */
  readonly attempts: number;
  /** Not delivered before this time (ms). */
  readonly nextAttemptAt: number;
  /** Caller metadata given at enqueue. */
  readonly metadata?: OutboxMetadata;
  /** Why the last attempt failed. */
  readonly lastError?: OutboxErrorInfo;
  /** When the message was taken back from the dead letters ({@link Outbox.retryDead}); the horizon counts from here. */
  readonly revivedAt?: number;
}

/**
 * A message that will not be delivered any more unless retried by hand.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type DeadLetter, MemoryOutboxStore, Outbox, RelayError } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * await outbox.drain(async () => { throw new RelayError('ERR_RELAY_REQUEST_VALIDATION', 'refused'); });
 * const [dead]: DeadLetter[] = await outbox.deadLetters();
 * assert.equal(dead?.lastError?.code, 'ERR_RELAY_REQUEST_VALIDATION');
 * await outbox.close();
 * ```
 */
export interface DeadLetter extends OutboxMessage {
  /** When it was dead-lettered (ms). */
  readonly deadAt: number;
}

/**
 * What a caller enqueues.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxInput } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * const input: OutboxInput = { connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' }, orderingKey: 'A-1', metadata: { file: 'a-1.json' } };
 * assert.equal((await outbox.enqueue(input)).orderingKey, 'A-1');
 * await outbox.close();
 * ```
 */
export interface OutboxInput {
  /**
   * The message id, chosen by the caller (default: a fresh UUIDv7). 1–{@link MAX_OUTBOX_ID_LENGTH}
   * characters of `A–Z a–z 0–9 . _ : -`, starting with a letter or digit. With `relayDeliver`
   * it is the relay's idempotency key, which must be a UUID. If the outbox already holds a
   * message with this id (waiting, in flight or dead), `enqueue` resolves with that message
   * when it is the same message (connection, operation, payload, ordering key, metadata), and
   * rejects with `ERR_RELAY_OUTBOX_DUPLICATE_ID` when it is not. Once delivered, the id is free
   * again (the relay's idempotency window dedupes a repeat).
   */
  readonly id?: string | undefined;
  readonly connection: string;
  readonly operation: string;
  readonly payload: unknown;
  readonly orderingKey?: string | undefined;
  /** Caller metadata, stored with the message and handed back on events and dead letters. */
  readonly metadata?: OutboxMetadata | undefined;
}

/**
 * Delivers one message. Resolves = delivered (the message is removed). Throws a
 * {@link RelayError}: retryable → rescheduled (after `retryAfterMs` when given, else on the
 * schedule); not retryable → dead-lettered at once. Any other thrown value counts as
 * retryable. Must honour `signal` (aborted when the lease runs out or the outbox stops).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Deliver, MemoryOutboxStore, Outbox } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * const delivered: string[] = [];
 * const deliver: Deliver = async (message, { signal }) => {
 *   assert.equal(signal.aborted, false);
 *   delivered.push(message.operation);
 * };
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * await outbox.drain(deliver);
 * assert.deepEqual(delivered, ['order.status']);
 * await outbox.close();
 * ```
 */
export type Deliver = (
  message: OutboxMessage,
  context: { readonly attempt: number; readonly signal: AbortSignal },
) => Promise<void>;

/**
 * Figures of a store.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxStats } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * const stats: OutboxStats = await outbox.stats();
 * assert.equal(stats.depth, 1);
 * assert.equal(stats.inFlight, 0);
 * await outbox.close();
 * ```
 */
export interface OutboxStats {
  /** Messages waiting or in flight (not dead). */
  readonly depth: number;
  /** `enqueuedAt` of the oldest message waiting or in flight, if any. */
  readonly oldestEnqueuedAt: number | undefined;
  /** Dead letters. */
  readonly dead: number;
  /** Messages currently leased. */
  readonly inFlight: number;
}

/**
 * Options of {@link OutboxStore.lease}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, type LeaseOptions } from '@fluxel/relay-client/outbox';
 *
 * const store = new MemoryOutboxStore();
 * const options: LeaseOptions = { now: Date.now(), leaseMs: 60_000, limit: 10 };
 * assert.deepEqual(await store.lease(options), []);
 * ```
 */
export interface LeaseOptions {
  /** The current time (ms). */
  readonly now: number;
  /** How long the lease lasts; after that the message is visible again. */
  readonly leaseMs: number;
  /** At most this many messages. */
  readonly limit: number;
}

/**
 * Where the outbox keeps its messages. All methods may reject with a {@link RelayError}
 * `ERR_RELAY_OUTBOX_STORAGE` (or `ERR_RELAY_OUTBOX_CLOSED` after `close`).
 *
 * A lease is identified by the message id and its `attempts` after leasing: `lease` counts
 * an attempt; `reschedule`, `deadLetter` and `release` name the attempt they conclude and
 * are ignored when the message has been leased again since (a stale lease).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, type OutboxStore } from '@fluxel/relay-client/outbox';
 *
 * const store: OutboxStore = new MemoryOutboxStore();
 * await store.append([{ id: 'm-1', connection: 'shop-1', operation: 'order.status', payload: 1, enqueuedAt: Date.now(), attempts: 0, nextAttemptAt: 0 }]);
 * assert.equal((await store.lease({ now: Date.now(), leaseMs: 60_000, limit: 10 })).length, 1);
 * await store.close();
 * ```
 */
export interface OutboxStore {
  /** Adds new messages; resolves once they are durable. */
  append(messages: readonly OutboxMessage[]): Promise<void>;
  /**
   * Adds the message unless the store holds one with its id (waiting, in flight or dead), in
   * one atomic step: of concurrent calls with one id exactly one adds. Resolves with
   * `undefined` once the new message is durable, or with the message already there (with its
   * payload). Needed for caller-chosen ids ({@link OutboxInput.id}); a store without it
   * refuses them.
   */
  appendIfAbsent?(message: OutboxMessage): Promise<OutboxMessage | undefined>;
  /**
   * Leases up to `limit` messages that are due (`nextAttemptAt <= now`), not dead and not
   * leased (or whose lease expired), oldest first. Of the messages sharing an
   * `orderingKey`, only the oldest non-dead one may be leased, and only when no other
   * message of that key is leased. Each returned message has `attempts` incremented.
   */
  lease(options: LeaseOptions): Promise<OutboxMessage[]>;
  /** Removes a delivered message. */
  complete(id: string): Promise<void>;
  /** Ends the lease of `attempt` and sets the next attempt time and the error. */
  reschedule(
    id: string,
    attempt: number,
    nextAttemptAt: number,
    error: OutboxErrorInfo,
  ): Promise<void>;
  /** Ends the lease of `attempt` without counting a failure (the outbox is stopping). */
  release(id: string, attempt: number): Promise<void>;
  /** Moves the message of `attempt` to the dead letters. */
  deadLetter(id: string, attempt: number, at: number, error: OutboxErrorInfo): Promise<void>;
  /** Takes a dead letter back: attempts 0, due at `now`, horizon from `now`. False if no such dead letter. */
  revive(id: string, now: number): Promise<boolean>;
  /** Deletes a dead letter. False if no such dead letter. */
  drop(id: string): Promise<boolean>;
  /** Messages waiting or in flight, in enqueue order. */
  list(): Promise<OutboxMessage[]>;
  /** The dead letters, in enqueue order. */
  deadLetters(): Promise<DeadLetter[]>;
  /** The earliest time a message not leased becomes due, or a leased one's lease ends. */
  nextWakeAt(): Promise<number | undefined>;
  /** Figures. */
  stats(): Promise<OutboxStats>;
  /** Releases the store's resources; later calls reject with `ERR_RELAY_OUTBOX_CLOSED`. */
  close(): Promise<void>;
}

/**
 * Something that happened in the outbox, for metrics and alerting.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxEvent } from '@fluxel/relay-client/outbox';
 *
 * const events: OutboxEvent['type'][] = [];
 * const outbox = new Outbox({ store: new MemoryOutboxStore(), onEvent: (event) => events.push(event.type) });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * await outbox.drain(async () => {});
 * assert.deepEqual(events, ['enqueued', 'delivered']);
 * await outbox.close();
 * ```
 */
export type OutboxEvent =
  | { readonly type: 'enqueued'; readonly message: OutboxMessage }
  | { readonly type: 'delivered'; readonly message: OutboxMessage; readonly attempt: number }
  | {
      readonly type: 'retry';
      readonly message: OutboxMessage;
      readonly attempt: number;
      readonly error: OutboxErrorInfo;
      readonly nextAttemptAt: number;
    }
  | {
      readonly type: 'dead';
      readonly message: OutboxMessage;
      readonly attempt: number;
      readonly error: OutboxErrorInfo;
      /** `not-retryable`: the error said so; `horizon`: the dead-letter horizon passed. */
      readonly reason: 'not-retryable' | 'horizon';
    }
  | { readonly type: 'error'; readonly error: RelayError };

/**
 * Timer functions, injectable for fake-clock tests.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxTimers } from '@fluxel/relay-client/outbox';
 *
 * const timers: OutboxTimers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) };
 * const outbox = new Outbox({ store: new MemoryOutboxStore(), timers });
 * await outbox.close();
 * ```
 */
export interface OutboxTimers {
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
}
