/**
 * A short-lived cache of license rows in front of the license store, for the one read every
 * verified request makes (`get` by id). Entries live at most `ttlMs` (default 1000 ms) and
 * are dropped by every `update` through this store — lock, unlock, rebind, activation and
 * refresh all write through it — so a change made at this instance is seen at once, and a
 * change made at another instance (or directly in the database) within `ttlMs`. Concurrent
 * reads of one id share one query. Only found rows are cached; every other method passes
 * through (`touch`, the "last seen" write, drops the row too).
 */
import type {
  LicenseListFilter,
  LicensePatch,
  LicenseRecord,
  LicenseSeen,
  LicenseStore,
} from '@fluxel/license';

interface Entry {
  readonly at: number;
  readonly record: Promise<LicenseRecord | undefined>;
}

export class CachedLicenseStore implements LicenseStore {
  readonly #inner: LicenseStore;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(
    inner: LicenseStore,
    options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {
    this.#inner = inner;
    this.#ttlMs = Math.min(options.ttlMs ?? 1000, 1000);
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Drops a cached row (or all). */
  invalidate(id?: string): void {
    if (id === undefined) this.#entries.clear();
    else this.#entries.delete(id);
  }

  get(id: string): Promise<LicenseRecord | undefined> {
    if (this.#ttlMs <= 0) return this.#inner.get(id);
    const now = this.#now();
    const hit = this.#entries.get(id);
    if (hit && now - hit.at < this.#ttlMs) return hit.record;
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    const record = this.#inner.get(id);
    const entry = { at: now, record };
    this.#entries.set(id, entry);
    // Misses and failures are not kept.
    record.then(
      (found) => {
        if (!found && this.#entries.get(id) === entry) this.#entries.delete(id);
      },
      () => {
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
      },
    );
    return record;
  }

  async update(
    id: string,
    version: number,
    patch: LicensePatch,
  ): Promise<LicenseRecord | undefined> {
    this.#entries.delete(id);
    try {
      return await this.#inner.update(id, version, patch);
    } finally {
      // Also after a lost race (stale version): the next read goes to the database.
      this.#entries.delete(id);
    }
  }

  async touch(id: string, seen: LicenseSeen): Promise<boolean> {
    if (!this.#inner.touch) return false;
    try {
      return await this.#inner.touch(id, seen);
    } finally {
      this.#entries.delete(id);
    }
  }

  insert(record: LicenseRecord): Promise<void> {
    return this.#inner.insert(record);
  }

  findByKeyHash(keyHash: string): Promise<LicenseRecord | undefined> {
    return this.#inner.findByKeyHash(keyHash);
  }

  findByRebindHash(rebindHash: string): Promise<LicenseRecord | undefined> {
    return this.#inner.findByRebindHash(rebindHash);
  }

  findByDevice(jkt: string): Promise<LicenseRecord | undefined> {
    return this.#inner.findByDevice(jkt);
  }

  list(filter: LicenseListFilter): Promise<LicenseRecord[]> {
    return this.#inner.list(filter);
  }
}
