/**
 * {@link MemoryOutboxStore}: an outbox store in this process's memory, for tests and for
 * processes that accept losing their outbox on exit. Web platform.
 */
import { optionalFunctions, optionsRecord } from '../check-options.js';
import { RelayError } from '../errors.js';
import { OutboxState } from './state.js';
import type {
  DeadLetter,
  LeaseOptions,
  OutboxErrorInfo,
  OutboxMessage,
  OutboxStats,
  OutboxStore,
} from './types.js';

/**
 * Options of {@link MemoryOutboxStore}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, type MemoryOutboxStoreOptions } from '@fluxel/relay-client/outbox';
 *
 * let now = 0;
 * const options: MemoryOutboxStoreOptions = { now: () => now };
 * const store = new MemoryOutboxStore(options);
 * now = 1_000;
 * assert.equal((await store.stats()).depth, 0);
 * ```
 */
export interface MemoryOutboxStoreOptions {
  /** Clock in ms, for `stats().inFlight`. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * An outbox store in this process's memory: nothing survives the process. For tests.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryOutboxStore, Outbox } from '@fluxel/relay-client/outbox';
 *
 * const store = new MemoryOutboxStore();
 * const outbox = new Outbox({ store });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: 1 });
 * assert.equal((await store.stats()).depth, 1);
 * await outbox.close();
 * ```
 */
export class MemoryOutboxStore implements OutboxStore {
  readonly #state = new OutboxState();
  readonly #now: () => number;
  #closed = false;

  constructor(options: MemoryOutboxStoreOptions = {}) {
    optionalFunctions(optionsRecord(options, 'MemoryOutboxStore'), ['now'], 'MemoryOutboxStore');
    this.#now = options.now ?? Date.now;
  }

  async append(messages: readonly OutboxMessage[]): Promise<void> {
    this.#open();
    for (const m of messages) {
      if (this.#state.has(m.id))
        throw new RelayError(
          'ERR_RELAY_INVALID_ARGUMENT',
          `message ${m.id} is already in the outbox`,
        );
    }
    for (const m of messages) this.#state.add({ ...m });
  }

  /** Check and add in one synchronous step: of concurrent calls with one id, one adds. */
  async appendIfAbsent(message: OutboxMessage): Promise<OutboxMessage | undefined> {
    this.#open();
    const existing = this.#state.get(message.id);
    if (existing) return existing;
    this.#state.add({ ...message });
    return undefined;
  }

  async lease(options: LeaseOptions): Promise<OutboxMessage[]> {
    this.#open();
    return this.#state.lease(options);
  }

  async complete(id: string): Promise<void> {
    this.#open();
    this.#state.complete(id);
  }

  async reschedule(
    id: string,
    attempt: number,
    nextAttemptAt: number,
    error: OutboxErrorInfo,
  ): Promise<void> {
    this.#open();
    this.#state.reschedule(id, attempt, nextAttemptAt, error);
  }

  async release(id: string, attempt: number): Promise<void> {
    this.#open();
    this.#state.release(id, attempt);
  }

  async deadLetter(id: string, attempt: number, at: number, error: OutboxErrorInfo): Promise<void> {
    this.#open();
    this.#state.deadLetter(id, attempt, at, error);
  }

  async revive(id: string, now: number): Promise<boolean> {
    this.#open();
    return this.#state.revive(id, now);
  }

  async drop(id: string): Promise<boolean> {
    this.#open();
    return this.#state.drop(id);
  }

  async list(): Promise<OutboxMessage[]> {
    this.#open();
    return this.#state.list();
  }

  async deadLetters(): Promise<DeadLetter[]> {
    this.#open();
    return this.#state.deadLetters();
  }

  async nextWakeAt(): Promise<number | undefined> {
    this.#open();
    return this.#state.nextWakeAt();
  }

  async stats(): Promise<OutboxStats> {
    this.#open();
    return this.#state.stats(this.#now());
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new RelayError('ERR_RELAY_OUTBOX_CLOSED', 'the outbox store is closed');
  }
}
