/**
 * At-least-once delivery of committed records to sinks: a persisted cursor per sink, a
 * bounded queue that makes the log wait (never drop) when a sink falls behind, retries with
 * exponential backoff and full jitter, strictly in-order delivery.
 */
import { AuditError } from './errors.js';
import type { AuditLog, LogStore } from './log.js';
import type { StoredRecord } from './record.js';

/**
 * A destination for records.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore, type Sink } from '@fluxel/audit';
 *
 * // A sink that keeps what it is sent (a queue client, a database…); throw to have a batch retried.
 * const delivered: string[] = [];
 * const memorySink: Sink = {
 *   name: 'memory',
 *   send: async (records) => {
 *     for (const record of records) delivered.push(record.event?.action ?? '');
 *   },
 * };
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const runner = await attachSink(log, { sink: memorySink });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await runner.drain();
 * await runner.stop();
 * await log.close();
 * assert.deepEqual(delivered, ['auth.login']);
 * ```
 */
export interface Sink {
  /** Unique per log: the key of the sink's cursor. */
  readonly name: string;
  /**
   * Delivers records (in order). Resolves only when the peer has accepted every one of them;
   * throws to have the whole batch retried. A peer may see a record twice (at-least-once);
   * records carry `event.id` for deduplication.
   */
  send(records: readonly StoredRecord[]): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Where each sink's cursor (the last delivered sequence number) is kept.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { CursorStore } from '@fluxel/audit';
 *
 * // Keep cursors where they survive a restart (a table, a file…); a Map stands in here.
 * const table = new Map<string, number>();
 * const cursors: CursorStore = {
 *   get: async (sink) => table.get(sink) ?? 0,
 *   set: async (sink, seq) => {
 *     table.set(sink, seq);
 *   },
 * };
 * await cursors.set('splunk', 42);
 * assert.equal(await cursors.get('splunk'), 42);
 * assert.equal(await cursors.get('elastic'), 0);
 * ```
 */
export interface CursorStore {
  get(sink: string): Promise<number>;
  set(sink: string, seq: number): Promise<void>;
}

/**
 * A {@link CursorStore} in memory (delivery restarts from the beginning after a restart).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryCursorStore } from '@fluxel/audit';
 *
 * const cursors = new MemoryCursorStore();
 * assert.equal(await cursors.get('splunk'), 0); // nothing delivered yet
 * await cursors.set('splunk', 17);
 * assert.equal(await cursors.get('splunk'), 17);
 * ```
 */
export class MemoryCursorStore implements CursorStore {
  readonly #map = new Map<string, number>();
  async get(sink: string): Promise<number> {
    return this.#map.get(sink) ?? 0;
  }
  async set(sink: string, seq: number): Promise<void> {
    this.#map.set(sink, seq);
  }
}

/**
 * Retry timing of a sink.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { backoffDelay, type RetryOptions } from '@fluxel/audit';
 *
 * const retry: RetryOptions = { initialMs: 100, maxMs: 5_000 };
 * assert.equal(backoffDelay(1, retry, () => 1), 100);
 * assert.equal(backoffDelay(20, retry, () => 1), 5_000);
 * ```
 */
export interface RetryOptions {
  /** First delay (default 200 ms). */
  readonly initialMs?: number;
  /** Largest delay (default 30 s). */
  readonly maxMs?: number;
}

/**
 * The delay before retry number `attempt` (1-based): full jitter over an exponential cap.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { backoffDelay } from '@fluxel/audit';
 *
 * // Full jitter between half the cap and the cap; the cap doubles per attempt (default 200 ms … 30 s).
 * assert.equal(backoffDelay(1, {}, () => 0), 100);
 * assert.equal(backoffDelay(3, {}, () => 1), 800);
 * const delay = backoffDelay(4);
 * assert.ok(delay >= 800 && delay <= 1_600);
 * ```
 */
export function backoffDelay(
  attempt: number,
  retry: RetryOptions = {},
  random: () => number = Math.random,
): number {
  const initial = retry.initialMs ?? 200;
  const max = retry.maxMs ?? 30_000;
  const cap = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * Options of {@link attachSink}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AttachSinkOptions, AuditLog, attachSink, generateSigningKey, MemoryCursorStore, MemoryStore } from '@fluxel/audit';
 *
 * const seqs: number[] = [];
 * const options: AttachSinkOptions = {
 *   sink: { name: 'archive', send: async (records) => void seqs.push(...records.map((r) => r.seq)) },
 *   cursor: new MemoryCursorStore(),
 *   batchSize: 100,
 *   retry: { initialMs: 50, maxMs: 2_000 },
 *   filter: () => true, // checkpoints too, so the archive can be verified
 *   onError: (error, attempt) => console.warn(`archive attempt ${attempt} failed`, error),
 * };
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const runner = await attachSink(log, options);
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await runner.drain();
 * await runner.stop();
 * await log.close();
 * assert.deepEqual(seqs, [1, 2]); // the opening checkpoint and the event
 * ```
 */
export interface AttachSinkOptions {
  readonly sink: Sink;
  /** Where the cursor is kept (default: in memory). */
  readonly cursor?: CursorStore;
  /** Most records waiting in memory before the log's appends wait (default 10 000). */
  readonly maxQueue?: number;
  /** Most records per `send` (default 500). */
  readonly batchSize?: number;
  readonly retry?: RetryOptions;
  /** Which records to deliver (default: events only; checkpoints advance the cursor). */
  readonly filter?: (record: StoredRecord) => boolean;
  /**
   * Told about every failed send attempt (`attempt` ≥ 1; delivery keeps retrying) and about a
   * cursor that could not be saved (`attempt` 0; delivery goes on, and after a restart those
   * records may be delivered again).
   */
  readonly onError?: (error: unknown, attempt: number) => void;
  /** Injectable sleep, for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A running sink: see {@link attachSink}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore, type SinkRunner } from '@fluxel/audit';
 *
 * let attempts = 0;
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const runner: SinkRunner = await attachSink(log, {
 *   sink: {
 *     name: 'flaky',
 *     send: async () => {
 *       if (++attempts === 1) throw new Error('503 from the SIEM'); // retried
 *     },
 *   },
 *   sleep: async () => {}, // no real backoff in this example
 * });
 * const { seq } = await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.logout', outcome: 'success' });
 * await runner.drain();
 * assert.equal(runner.cursor, seq);
 * assert.equal(runner.queued, 0);
 * await runner.stop();
 * await log.close();
 * ```
 */
export class SinkRunner {
  readonly sink: Sink;
  readonly #cursorStore: CursorStore;
  readonly #maxQueue: number;
  readonly #batchSize: number;
  readonly #retry: RetryOptions;
  readonly #filter: (record: StoredRecord) => boolean;
  readonly #onError: ((error: unknown, attempt: number) => void) | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #queue: StoredRecord[] = [];
  #cursor = 0;
  #committed = 0;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;
  #wakeLoop: (() => void) | undefined;
  #spaceWaiters: (() => void)[] = [];
  #drainWaiters: { seq: number; resolve: () => void }[] = [];
  #loop: Promise<void> = Promise.resolve();

  /** @internal */
  constructor(options: AttachSinkOptions) {
    this.sink = options.sink;
    this.#cursorStore = options.cursor ?? new MemoryCursorStore();
    this.#maxQueue = options.maxQueue ?? 10_000;
    this.#batchSize = options.batchSize ?? 500;
    this.#retry = options.retry ?? {};
    this.#filter = options.filter ?? ((r) => r.kind === 'e');
    this.#onError = options.onError;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  /** The last delivered sequence number. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Records waiting in memory. */
  get queued(): number {
    return this.#queue.length;
  }

  /** @internal */
  async start(log: AuditLog, store: LogStore): Promise<void> {
    this.#cursor = await this.#cursorStore.get(this.sink.name);
    this.#committed = Math.max(this.#cursor, 0);
    // Subscribe first, then catch up from the store: nothing committed in between is missed,
    // and anything seen twice is skipped by sequence number.
    this.#unsubscribe = log.subscribe((records) => this.#offer(records));
    // Catch up only over what is durable: a record still being written could vanish in a
    // crash, and must never reach a peer before it is acknowledged.
    // The loop never ends in an unhandled rejection: what escapes it is reported.
    this.#loop = this.#run(store, log.durableSize).catch((error: unknown) => {
      this.#onError?.(error, 0);
    });
  }

  async #offer(records: readonly StoredRecord[]): Promise<void> {
    for (const record of records) {
      while (this.#queue.length >= this.#maxQueue && !this.#stopped) {
        this.#wakeLoop?.();
        await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
      }
      this.#queue.push(record);
      if (record.seq > this.#committed) this.#committed = record.seq;
    }
    this.#wakeLoop?.();
  }

  async #run(store: LogStore, upTo: number): Promise<void> {
    if (store.read && upTo > this.#cursor) {
      let batch: StoredRecord[] = [];
      for await (const record of store.read(this.#cursor + 1)) {
        if (this.#stopped) return;
        if (record.seq > upTo) break;
        if (record.seq <= this.#cursor) continue;
        if (record.seq > this.#committed) this.#committed = record.seq;
        batch.push(record);
        if (batch.length >= this.#batchSize) {
          await this.#deliver(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.#deliver(batch);
    }
    while (!this.#stopped) {
      if (this.#queue.length === 0) {
        await new Promise<void>((resolve) => {
          this.#wakeLoop = resolve;
        });
        this.#wakeLoop = undefined;
        continue;
      }
      const taken = this.#queue.splice(0, this.#batchSize);
      for (const resolve of this.#spaceWaiters.splice(0)) resolve();
      const fresh = taken.filter((r) => r.seq > this.#cursor);
      if (fresh.length > 0) await this.#deliver(fresh);
    }
  }

  async #deliver(records: StoredRecord[]): Promise<void> {
    const wanted = records.filter(this.#filter);
    for (let attempt = 1; wanted.length > 0 && !this.#stopped; attempt++) {
      try {
        await this.sink.send(wanted);
        break;
      } catch (error) {
        this.#onError?.(error, attempt);
        await this.#sleep(backoffDelay(attempt, this.#retry));
      }
    }
    if (this.#stopped && wanted.length > 0) return;
    const last = records.at(-1) as StoredRecord;
    this.#cursor = last.seq;
    try {
      await this.#cursorStore.set(this.sink.name, last.seq);
    } catch (error) {
      // The records are delivered; a cursor that could not be saved only means they may be
      // delivered again after a restart (at least once). Report it, keep delivering.
      this.#onError?.(error, 0);
    }
    this.#drainWaiters = this.#drainWaiters.filter((w) => {
      if (w.seq > this.#cursor) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when every record committed so far has been delivered. */
  async drain(): Promise<void> {
    const target = this.#committed;
    if (this.#cursor >= target) return;
    await new Promise<void>((resolve) => this.#drainWaiters.push({ seq: target, resolve }));
  }

  /** Stops delivery (after the batch in flight) and closes the sink. Undelivered records stay behind the cursor. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#wakeLoop?.();
    for (const resolve of this.#spaceWaiters.splice(0)) resolve();
    await this.#loop.catch(() => {});
    await this.sink.close?.();
  }
}

/**
 * Attaches a sink to a log: catches up from the sink's cursor by reading the log's store,
 * then delivers each committed batch in order. The log's appends wait while the sink's
 * queue is full, so a long outage slows the log down instead of losing events.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_ARGUMENT` for bad options.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * // Attached later, the sink catches up from its cursor by reading the store.
 * const ids: string[] = [];
 * const runner = await attachSink(log, { sink: { name: 'late', send: async (records) => void ids.push(...records.map((r) => r.event?.id ?? '')) } });
 * await runner.drain();
 * await runner.stop();
 * await log.close();
 * assert.equal(ids.length, 1);
 * ```
 */
export async function attachSink(log: AuditLog, options: AttachSinkOptions): Promise<SinkRunner> {
  if (!options.sink || typeof options.sink.send !== 'function')
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'sink must have send()');
  const runner = new SinkRunner(options);
  await runner.start(log, log.store);
  return runner;
}
