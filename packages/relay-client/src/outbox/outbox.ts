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
 * This module runs on the Web platform; the durable file store is in `node/file-outbox-store.ts`.
 */
import { uuidv7 } from '../../../internal/src/uuid.js';
import { optionalFunctions, optionalTimers, withMethods } from '../check-options.js';
import { ConnectionId, JsonValue, OperationName } from '../contract.js';
import { RelayError } from '../errors.js';
import {
  type DeadLetter,
  type Deliver,
  MAX_OUTBOX_ID_LENGTH,
  MAX_OUTBOX_METADATA_BYTES,
  MAX_OUTBOX_METADATA_KEYS,
  type OutboxErrorInfo,
  type OutboxEvent,
  type OutboxInput,
  type OutboxMessage,
  type OutboxMetadata,
  type OutboxStats,
  type OutboxStore,
  type OutboxTimers,
} from './types.js';

/**
 * The default long schedule (ms per failed attempt; the last repeats): 1 s … 1 day.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DEFAULT_OUTBOX_SCHEDULE } from '@fluxel/relay-client/outbox';
 *
 * assert.equal(DEFAULT_OUTBOX_SCHEDULE[0], 1_000); // the first retry within a second
 * assert.equal(DEFAULT_OUTBOX_SCHEDULE.at(-1), 86_400_000); // then daily
 * ```
 */
export const DEFAULT_OUTBOX_SCHEDULE: readonly number[] = [
  1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

const DAY = 86_400_000;

const OUTBOX_STORE_METHODS = [
  'append',
  'lease',
  'complete',
  'reschedule',
  'release',
  'deadLetter',
  'revive',
  'drop',
  'list',
  'deadLetters',
  'nextWakeAt',
  'stats',
  'close',
];

/**
 * Options of {@link Outbox}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox, type OutboxOptions } from '@fluxel/relay-client/outbox';
 *
 * const options: OutboxOptions = { store: new MemoryOutboxStore(), concurrency: 8, deadLetterAfterMs: 86_400_000 };
 * const outbox = new Outbox(options);
 * assert.equal(outbox.running, false);
 * await outbox.close();
 * ```
 */
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

/**
 * The durable outbox: enqueue now, deliver at least once, later.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox } from '@fluxel/relay-client/outbox';
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore() });
 * const message = await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * await outbox.drain(async (m) => assert.equal(m.id, message.id));
 * assert.equal((await outbox.stats()).depth, 0);
 * await outbox.close();
 * ```
 */
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
    withMethods(options.store, OUTBOX_STORE_METHODS, 'options.store (an OutboxStore)');
    const record = options as unknown as Record<string, unknown>;
    optionalFunctions(record, ['deliver', 'now', 'random', 'onEvent'], 'Outbox');
    optionalTimers(record, 'Outbox');
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
        // Aborted by the lease timer: what failed is the attempt's time, whatever the deliver
        // function made of the abort (the transport says "aborted", not retryable) — so the
        // lease's retryable timeout counts, and the message is retried, not dead-lettered.
        const outlived = controller.signal.aborted && !this.#stopping;
        await this.#failed(
          message,
          attempt,
          outlived ? controller.signal.reason : error,
          controller.signal.aborted,
        );
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
