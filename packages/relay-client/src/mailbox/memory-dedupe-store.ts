import { optionalFunctions, optionsRecord } from '../check-options.js';
import type { DedupeStore } from './types.js';

/**
 * Options of {@link MemoryDedupeStore}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryDedupeStore, type MemoryDedupeStoreOptions } from '@fluxel/relay-client/outbox';
 *
 * let now = 0;
 * const options: MemoryDedupeStoreOptions = { now: () => now };
 * const store = new MemoryDedupeStore(options);
 * await store.add('evt-1', 1_000);
 * now = 1_000;
 * assert.equal(await store.has('evt-1'), false); // expired
 * ```
 */
export interface MemoryDedupeStoreOptions {
  /** Clock in ms, for tests. */
  readonly now?: () => number;
}

/**
 * A dedupe store in this process's memory (tests; a process that never restarts).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const store = new MemoryDedupeStore();
 * await store.add('evt-1', Date.now() + 60_000);
 * assert.equal(await store.has('evt-1'), true);
 * assert.equal(await store.has('evt-2'), false);
 * ```
 */
export class MemoryDedupeStore implements DedupeStore {
  readonly #ids = new Map<string, number>();
  readonly #now: () => number;
  #adds = 0;

  constructor(options: MemoryDedupeStoreOptions = {}) {
    optionalFunctions(optionsRecord(options, 'MemoryDedupeStore'), ['now'], 'MemoryDedupeStore');
    this.#now = options.now ?? Date.now;
  }

  /** Ids remembered (expired ones may still be counted until the next sweep). */
  get size(): number {
    return this.#ids.size;
  }

  async has(id: string): Promise<boolean> {
    const until = this.#ids.get(id);
    return until !== undefined && until > this.#now();
  }

  async add(id: string, expiresAt: number): Promise<void> {
    this.#ids.set(id, Math.max(expiresAt, this.#ids.get(id) ?? 0));
    if (++this.#adds % 1024 === 0) {
      const now = this.#now();
      for (const [key, until] of this.#ids) if (until <= now) this.#ids.delete(key);
    }
  }
}
