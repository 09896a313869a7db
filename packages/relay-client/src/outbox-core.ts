/**
 * The durable outbox: what the agent could not deliver is kept here and retried later by
 * the agent itself (design brief, promise 4). `enqueue` resolves only once the message is
 * durable in the {@link OutboxStore}; a worker leases due messages, hands each to `deliver`,
 * and removes it when delivery succeeded. Failures are rescheduled on a long schedule with
 * full jitter (or after the relay's `retryAfterMs`), and dead-lettered when the error is not
 * retryable or the horizon (default 7 days) has passed. Delivery is at-least-once: the
 * message `id` (UUIDv7, minted once at enqueue and kept across restarts) is the idempotency
 * key the relay dedupes on. A caller may choose the id instead (`enqueue({ id, … })`): the
 * outbox then holds at most one message with that id, so enqueueing the same message again
 * (after a crash, from a retrying caller) is a no-op that resolves with the stored message.
 * Optional `metadata` (a small flat JSON object) is stored with the message and handed back
 * on every event and in the dead letters, so callers can say which record was delivered or
 * refused without reading payloads.
 *
 * This module runs on the Web platform; the durable file store is in `outbox-file.ts`.
 */
import { uuidv7 } from '../../internal/src/uuid.js';
import { ConnectionId, JsonValue, OperationName } from './contract.js';
import { RelayError } from './errors.js';

/** The longest caller-chosen message id ({@link OutboxInput.id}). */
export const MAX_OUTBOX_ID_LENGTH = 128;

/** The largest {@link OutboxMetadata} (bytes of its JSON text). */
export const MAX_OUTBOX_METADATA_BYTES = 2048;

/** The most keys an {@link OutboxMetadata} may have. */
export const MAX_OUTBOX_METADATA_KEYS = 32;

/**
 * Caller metadata of a message: a flat JSON object of strings, finite numbers, booleans and
 * `null`, at most {@link MAX_OUTBOX_METADATA_KEYS} keys (each 1–64 characters) and
 * {@link MAX_OUTBOX_METADATA_BYTES} bytes as JSON. Meant for logs and dead letters (a file
 * name, the operation, a correlation id), so keep secrets and payload data out of it.
 */
export type OutboxMetadata = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Why an attempt failed, as kept in {@link OutboxMessage.lastError} and given to events.
 * For a refusal by the relay, `status`, `problemCode` and `detail` come from its problem
 * document (RFC 9457), so a dead letter says what was refused and why.
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

/** One message in the outbox. */
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

/** A message that will not be delivered any more unless retried by hand. */
export interface DeadLetter extends OutboxMessage {
  /** When it was dead-lettered (ms). */
  readonly deadAt: number;
}

/** What a caller enqueues. */
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
 */
export type Deliver = (
  message: OutboxMessage,
  context: { readonly attempt: number; readonly signal: AbortSignal },
) => Promise<void>;

/** Figures of a store. */
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

/** Options of {@link OutboxStore.lease}. */
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

/** Something that happened in the outbox, for metrics and alerting. */
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

/** Timer functions, injectable for fake-clock tests. */
export interface OutboxTimers {
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
}

/** The default long schedule (ms per failed attempt; the last repeats): 1 s … 1 day. */
export const DEFAULT_OUTBOX_SCHEDULE: readonly number[] = [
  1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

const DAY = 86_400_000;

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /** Where messages are kept (`MemoryOutboxStore` for tests, `FileOutboxStore` on Node). */
  readonly store: OutboxStore;
  /** The delivery function, when not given to `start`. */
  readonly deliver?: Deliver;
  /** Deliveries in flight at once. Default 4. */
  readonly concurrency?: number;
  /**
   * How long an attempt may take: its signal is aborted after this, and the lease in the
   * store (10% longer, so the abort is recorded first) then makes the message visible again.
   * Default 60 s.
   */
  readonly leaseMs?: number;
  /**
   * Delay before the n-th retry (ms; index = failed attempts − 1; the last entry repeats).
   * Full jitter is applied (a uniform random delay between 0 and the entry). Capped at a day.
   * Default {@link DEFAULT_OUTBOX_SCHEDULE}.
   */
  readonly schedule?: readonly number[];
  /** Dead-letter a message this long after enqueue (or revival). Default 7 days. */
  readonly deadLetterAfterMs?: number;
  /** How long `stop` lets in-flight deliveries finish before aborting them. Default 10 s. */
  readonly stopGraceMs?: number;
  /** Clock in ms, for tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Random number in [0, 1), for tests. Default `Math.random`. */
  readonly random?: () => number;
  /** Timer functions, for tests. Default the global ones. */
  readonly timers?: OutboxTimers;
  /** Called for every {@link OutboxEvent}; exceptions are ignored. */
  readonly onEvent?: (event: OutboxEvent) => void;
}

interface Running {
  readonly promise: Promise<void>;
  readonly controller: AbortController;
}

/** The durable outbox: enqueue now, deliver at least once, later. */
export class Outbox {
  readonly #store: OutboxStore;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #schedule: readonly number[];
  readonly #horizon: number;
  readonly #stopGraceMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #timers: OutboxTimers;
  readonly #onEvent: ((event: OutboxEvent) => void) | undefined;
  #deliver: Deliver | undefined;
  readonly #inFlight = new Map<string, Running>();
  #loop: Promise<void> | undefined;
  #running = false;
  #stopping = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #wakePending = false;

  constructor(options: OutboxOptions) {
    if (!options || typeof options.store !== 'object' || options.store === null)
      throw invalid('options.store is required');
    this.#store = options.store;
    this.#deliver = options.deliver;
    this.#concurrency = positiveInt(options.concurrency ?? 4, 'concurrency');
    this.#leaseMs = positiveInt(options.leaseMs ?? 60_000, 'leaseMs');
    this.#schedule = options.schedule ?? DEFAULT_OUTBOX_SCHEDULE;
    if (
      this.#schedule.length === 0 ||
      this.#schedule.some((ms) => !(Number.isFinite(ms) && ms >= 0))
    )
      throw invalid('schedule must be a non-empty list of non-negative delays');
    this.#horizon = positiveInt(options.deadLetterAfterMs ?? 7 * DAY, 'deadLetterAfterMs');
    this.#stopGraceMs = nonNegative(options.stopGraceMs ?? 10_000, 'stopGraceMs');
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    this.#onEvent = options.onEvent;
  }

  /** Whether the worker is running. */
  get running(): boolean {
    return this.#running;
  }

  get #storeLeaseMs(): number {
    return Math.ceil(this.#leaseMs * 1.1);
  }

  /**
   * Adds a message. Resolves with it (its `id` is the idempotency key) once it is durable
   * in the store. With a caller-chosen `id` the outbox holds at most one message per id:
   * enqueueing the same message again resolves with the stored one (no new message, no
   * `enqueued` event). Rejects with `ERR_RELAY_INVALID_ARGUMENT` for bad input,
   * `ERR_RELAY_OUTBOX_DUPLICATE_ID` when a different message holds the id,
   * `ERR_RELAY_OUTBOX_CLOSED` after `close`, `ERR_RELAY_OUTBOX_STORAGE` when the store failed.
   */
  async enqueue(input: OutboxInput): Promise<OutboxMessage> {
    if (this.#closed) throw closedError();
    const metadata = validateInput(input);
    const now = this.#now();
    const message: OutboxMessage = {
      id: input.id ?? uuidv7(now),
      connection: input.connection,
      operation: input.operation,
      payload: input.payload,
      ...(input.orderingKey !== undefined ? { orderingKey: input.orderingKey } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
      enqueuedAt: now,
      attempts: 0,
      nextAttemptAt: now,
    };
    if (input.id !== undefined) {
      const store = this.#store;
      const appendIfAbsent = store.appendIfAbsent;
      if (typeof appendIfAbsent !== 'function')
        throw invalid('this outbox store cannot take caller-chosen ids (it has no appendIfAbsent)');
      const existing = await storeCall(() => appendIfAbsent.call(store, message));
      if (existing !== undefined) {
        if (sameMessage(existing, message)) return existing;
        throw new RelayError(
          'ERR_RELAY_OUTBOX_DUPLICATE_ID',
          `the outbox already holds a different message with id ${message.id}; give this message a new id (enqueueing the very same message again is fine)`,
        );
      }
    } else await storeCall(() => this.#store.append([message]));
    this.#emit({ type: 'enqueued', message });
    this.#signal();
    return message;
  }

  /** Starts the worker, which delivers due messages until `stop`. */
  start(deliver?: Deliver): void {
    if (this.#closed) throw closedError();
    if (deliver) this.#deliver = deliver;
    if (!this.#deliver) throw invalid('start needs a deliver function');
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /**
   * Stops the worker: no new leases; in-flight deliveries may finish for `stopGraceMs`,
   * then they are aborted and their leases released. Resolves when nothing is in flight, or
   * after a second `stopGraceMs` if a delivery ignores its abort signal.
   */
  async stop(): Promise<void> {
    if (!this.#running) {
      await this.#settleInFlight();
      return;
    }
    this.#stopping = true;
    this.#signal();
    await this.#loop;
    await this.#settleInFlight();
    this.#running = false;
    this.#stopping = false;
  }

  /**
   * Delivers everything due now (by the outbox's clock), each message at most once per
   * call, and resolves when nothing due is left and nothing is in flight. A message that
   * fails is rescheduled as usual (even when due again at once, it waits for the next
   * `drain` or the worker). For tests and for a final flush before exit.
   */
  async drain(deliver?: Deliver): Promise<void> {
    if (this.#closed) throw closedError();
    const fn = deliver ?? this.#deliver;
    if (!fn) throw invalid('drain needs a deliver function');
    const tried = new Set<string>();
    for (;;) {
      const free = this.#concurrency - this.#inFlight.size;
      const leased =
        free > 0
          ? await storeCall(() =>
              this.#store.lease({ now: this.#now(), leaseMs: this.#storeLeaseMs, limit: free }),
            )
          : [];
      let fresh = 0;
      for (const message of leased) {
        if (tried.has(message.id)) {
          await storeCall(() => this.#store.release(message.id, message.attempts));
          continue;
        }
        tried.add(message.id);
        fresh++;
        this.#attempt(message, fn);
      }
      if (fresh === 0) {
        if (this.#inFlight.size === 0) return;
        await Promise.race([...this.#inFlight.values()].map((r) => r.promise));
      }
    }
  }

  /** Figures: depth, oldest message, dead letters, in flight. */
  stats(): Promise<OutboxStats> {
    return storeCall(() => this.#store.stats());
  }

  /** Messages waiting or in flight. */
  pending(): Promise<OutboxMessage[]> {
    return storeCall(() => this.#store.list());
  }

  /** The dead letters. */
  deadLetters(): Promise<DeadLetter[]> {
    return storeCall(() => this.#store.deadLetters());
  }

  /** Puts a dead letter back in the queue (attempts reset, horizon restarted). */
  async retryDead(id: string): Promise<boolean> {
    if (this.#closed) throw closedError();
    if (typeof id !== 'string' || id === '') throw invalid('id must be a non-empty string');
    const ok = await storeCall(() => this.#store.revive(id, this.#now()));
    if (ok) this.#signal();
    return ok;
  }

  /** Deletes a dead letter for good. */
  async dropDead(id: string): Promise<boolean> {
    if (this.#closed) throw closedError();
    if (typeof id !== 'string' || id === '') throw invalid('id must be a non-empty string');
    return storeCall(() => this.#store.drop(id));
  }

  /** Stops the worker and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.stop();
    this.#closed = true;
    await storeCall(() => this.#store.close());
  }

  // --- the worker ---------------------------------------------------------------------

  async #run(): Promise<void> {
    const deliver = this.#deliver as Deliver;
    let failures = 0;
    while (!this.#stopping) {
      try {
        const free = this.#concurrency - this.#inFlight.size;
        const leased =
          free > 0
            ? await this.#store.lease({
                now: this.#now(),
                leaseMs: this.#storeLeaseMs,
                limit: free,
              })
            : [];
        failures = 0;
        if (this.#stopping) {
          // Stopped while leasing: give them back at once.
          for (const m of leased) await this.#store.release(m.id, m.attempts);
          break;
        }
        for (const message of leased) this.#attempt(message, deliver);
        if (leased.length > 0 && leased.length === free) continue;
        let delay: number | undefined;
        if (this.#inFlight.size < this.#concurrency) {
          const wakeAt = await this.#store.nextWakeAt();
          if (wakeAt !== undefined) delay = Math.max(0, wakeAt - this.#now());
        }
        if (delay === 0) continue;
        await this.#sleep(delay);
      } catch (error) {
        this.#emit({ type: 'error', error: asStorageError(error) });
        failures++;
        await this.#sleep(Math.min(30_000, 100 * 2 ** Math.min(failures, 9)));
      }
    }
  }

  #attempt(message: OutboxMessage, deliver: Deliver): void {
    const controller = new AbortController();
    const attempt = message.attempts;
    // One entry per attempt: an expired lease may be taken again while the old attempt ends.
    const key = `${message.id}#${attempt}`;
    const leaseTimer = this.#timers.setTimeout(
      () =>
        controller.abort(
          new RelayError('ERR_RELAY_TIMEOUT', `delivery took longer than the lease`, {
            retryable: true,
          }),
        ),
      this.#leaseMs,
    );
    const promise = (async () => {
      try {
        await deliver(message, { attempt, signal: controller.signal });
      } catch (error) {
        this.#timers.clearTimeout(leaseTimer);
        await this.#failed(message, attempt, error, controller.signal.aborted);
        return;
      }
      this.#timers.clearTimeout(leaseTimer);
      try {
        await this.#store.complete(message.id);
        this.#emit({ type: 'delivered', message, attempt });
      } catch (error) {
        this.#emit({ type: 'error', error: asStorageError(error) });
      }
    })().finally(() => {
      this.#inFlight.delete(key);
      this.#signal();
    });
    this.#inFlight.set(key, { promise, controller });
  }

  async #failed(
    message: OutboxMessage,
    attempt: number,
    error: unknown,
    aborted: boolean,
  ): Promise<void> {
    try {
      if (aborted && this.#stopping) {
        await this.#store.release(message.id, attempt);
        return;
      }
      const info = errorInfo(error);
      const retryable = RelayError.isInstance(error) ? error.retryable : true;
      const now = this.#now();
      const horizonEnd = (message.revivedAt ?? message.enqueuedAt) + this.#horizon;
      if (!retryable || now >= horizonEnd) {
        await this.#store.deadLetter(message.id, attempt, now, info);
        this.#emit({
          type: 'dead',
          message: { ...message, lastError: info },
          attempt,
          error: info,
          reason: retryable ? 'horizon' : 'not-retryable',
        });
        return;
      }
      const retryAfter = RelayError.isInstance(error) ? error.retryAfterMs : undefined;
      const delay =
        retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0
          ? Math.min(retryAfter, DAY)
          : this.#backoff(attempt);
      // The last attempt happens at the horizon, not after it.
      const nextAttemptAt = Math.min(now + delay, horizonEnd);
      await this.#store.reschedule(message.id, attempt, nextAttemptAt, info);
      this.#emit({
        type: 'retry',
        message: { ...message, lastError: info, nextAttemptAt },
        attempt,
        error: info,
        nextAttemptAt,
      });
    } catch (storeError) {
      this.#emit({ type: 'error', error: asStorageError(storeError) });
    }
  }

  /** Full jitter over the schedule entry of this failed attempt, capped at a day. */
  #backoff(attempt: number): number {
    const index = Math.min(Math.max(attempt - 1, 0), this.#schedule.length - 1);
    const base = Math.min(this.#schedule[index] as number, DAY);
    return Math.floor(this.#random() * base);
  }

  async #settleInFlight(): Promise<void> {
    if (this.#inFlight.size === 0) return;
    const all = Promise.allSettled([...this.#inFlight.values()].map((r) => r.promise));
    let timer: unknown;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = this.#timers.setTimeout(() => resolve('timeout'), this.#stopGraceMs);
    });
    const outcome = await Promise.race([all.then(() => 'done' as const), grace]);
    this.#timers.clearTimeout(timer);
    if (outcome === 'timeout') {
      const stopping = this.#stopping;
      this.#stopping = true;
      for (const r of this.#inFlight.values())
        r.controller.abort(new RelayError('ERR_RELAY_ABORTED', 'the outbox is stopping'));
      // A delivery that ignores its signal is left behind after a second grace period: its
      // lease runs out (or is released when the store is reopened), so it is delivered again.
      let timer2: unknown;
      await Promise.race([
        all,
        new Promise<void>((resolve) => {
          timer2 = this.#timers.setTimeout(resolve, this.#stopGraceMs);
        }),
      ]);
      this.#timers.clearTimeout(timer2);
      this.#stopping = stopping;
    }
  }

  #sleep(ms: number | undefined): Promise<void> {
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: unknown;
      const done = () => {
        if (timer !== undefined) this.#timers.clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      // Wake at least once per lease period so expired leases of others are noticed.
      timer = this.#timers.setTimeout(done, Math.min(ms ?? this.#leaseMs, this.#leaseMs, DAY));
    });
  }

  #signal(): void {
    if (this.#wake) this.#wake();
    else this.#wakePending = true;
  }

  #emit(event: OutboxEvent): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent(event);
    } catch {
      // An observer's failure must not break delivery.
    }
  }
}

// --- helpers ----------------------------------------------------------------------------

function invalid(message: string): RelayError {
  return new RelayError('ERR_RELAY_INVALID_ARGUMENT', message);
}

function closedError(): RelayError {
  return new RelayError('ERR_RELAY_OUTBOX_CLOSED', 'the outbox is closed');
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw invalid(`${name} must be a positive integer`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 0))
    throw invalid(`${name} must be a non-negative number`);
  return value;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const METADATA_KEY_MAX = 64;

/** Checks the input; returns the metadata as a plain copy (or undefined). */
function validateInput(input: OutboxInput): OutboxMetadata | undefined {
  if (typeof input !== 'object' || input === null) throw invalid('message must be an object');
  if (input.id !== undefined) {
    if (typeof input.id !== 'string' || input.id === '')
      throw invalid('id must be a non-empty string when given');
    if (input.id.length > MAX_OUTBOX_ID_LENGTH)
      throw invalid(`id must be at most ${MAX_OUTBOX_ID_LENGTH} characters`);
    if (!ID_PATTERN.test(input.id))
      throw invalid(
        'id may only hold letters, digits and . _ : - (starting with a letter or digit)',
      );
  }
  // What the relay would refuse is refused here, before it is stored: such a message could
  // only wait out its retries and end as a dead letter.
  if (typeof input.connection !== 'string' || !ConnectionId.safeParse(input.connection).success)
    throw invalid(
      `connection must be a connection id (lower-case letters, digits and dashes, at most 63, e.g. shop-1), got ${JSON.stringify(String(input.connection).slice(0, 80))}`,
    );
  if (typeof input.operation !== 'string' || !OperationName.safeParse(input.operation).success)
    throw invalid(
      `operation must be a dotted lower-case name (e.g. order.status), got ${JSON.stringify(String(input.operation).slice(0, 80))}`,
    );
  if (
    input.orderingKey !== undefined &&
    (typeof input.orderingKey !== 'string' || input.orderingKey === '')
  )
    throw invalid('orderingKey must be a non-empty string when given');
  let json: string | undefined;
  try {
    json = JSON.stringify(input.payload);
  } catch (cause) {
    throw new RelayError('ERR_RELAY_INVALID_ARGUMENT', 'payload must be JSON-serialisable', {
      cause,
    });
  }
  if (json === undefined) throw invalid('payload must be JSON-serialisable');
  const payload = JsonValue.safeParse(input.payload);
  if (!payload.success)
    throw invalid(
      `payload is not accepted by the relay: ${payload.error.issues[0]?.message ?? 'invalid'}`,
    );
  return input.metadata === undefined ? undefined : validateMetadata(input.metadata);
}

function validateMetadata(metadata: unknown): OutboxMetadata {
  if (
    typeof metadata !== 'object' ||
    metadata === null ||
    Array.isArray(metadata) ||
    (Object.getPrototypeOf(metadata) !== Object.prototype &&
      Object.getPrototypeOf(metadata) !== null)
  )
    throw invalid('metadata must be a plain object when given');
  const entries = Object.entries(metadata);
  if (entries.length > MAX_OUTBOX_METADATA_KEYS)
    throw invalid(`metadata may have at most ${MAX_OUTBOX_METADATA_KEYS} keys`);
  const copy: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of entries) {
    if (key === '' || key.length > METADATA_KEY_MAX || key === '__proto__')
      throw invalid(`metadata keys must be 1–${METADATA_KEY_MAX} characters (not __proto__)`);
    if (
      !(
        value === null ||
        typeof value === 'string' ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value))
      )
    )
      throw invalid(
        `metadata.${key} must be a string, a finite number, a boolean or null (metadata is flat)`,
      );
    copy[key] = value;
  }
  const bytes = new TextEncoder().encode(JSON.stringify(copy)).length;
  if (bytes > MAX_OUTBOX_METADATA_BYTES)
    throw invalid(`metadata must be at most ${MAX_OUTBOX_METADATA_BYTES} bytes as JSON (${bytes})`);
  return copy;
}

/** Whether a stored message is the one being enqueued again (everything the caller gave). */
function sameMessage(stored: OutboxMessage, message: OutboxMessage): boolean {
  return (
    stored.connection === message.connection &&
    stored.operation === message.operation &&
    stored.orderingKey === message.orderingKey &&
    canonicalJson(stored.metadata ?? null) === canonicalJson(message.metadata ?? null) &&
    canonicalJson(stored.payload) === canonicalJson(message.payload)
  );
}

/** JSON text with object keys sorted, after a JSON round trip (as a store keeps it). */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort())
        Object.defineProperty(out, key, {
          value: sort((v as Record<string, unknown>)[key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(JSON.parse(JSON.stringify(value) ?? 'null')));
}

const DETAIL_MAX = 1000;

function errorInfo(error: unknown): OutboxErrorInfo {
  if (RelayError.isInstance(error)) {
    const problem = error.problem;
    const detail = typeof problem?.detail === 'string' ? problem.detail : undefined;
    return {
      code: error.code,
      message: error.message,
      ...(typeof error.status === 'number' ? { status: error.status } : {}),
      ...(typeof problem?.code === 'string' ? { problemCode: problem.code.slice(0, 200) } : {}),
      ...(detail !== undefined ? { detail: detail.slice(0, DETAIL_MAX) } : {}),
    };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'ERR_DELIVER', message: error.message };
  }
  return { code: 'ERR_DELIVER', message: String(error) };
}

function asStorageError(error: unknown): RelayError {
  if (RelayError.isInstance(error)) return error;
  return new RelayError('ERR_RELAY_OUTBOX_STORAGE', 'the outbox store failed', { cause: error });
}

async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asStorageError(error);
  }
}
