import { join } from 'node:path';
import { RelayError } from '../errors.js';
import type { DedupeStore } from '../mailbox/types.js';
import { checkFileStoreOptions } from './file-store-options.js';
import { Journal } from './journal.js';
import { type LockFile, lockStoreDir, wrap } from './lock-file.js';

/**
 * Options of {@link FileDedupeStore.open}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileDedupeStore, type FileDedupeStoreOptions } from '@fluxel/relay-client/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'relay-example-'));
 * const options: FileDedupeStoreOptions = { compactMinRecords: 10_000 };
 * const store = await FileDedupeStore.open(join(dir, 'mailbox'), options);
 * assert.equal(store.size, 0);
 * await store.close();
 * ```
 */
export interface FileDedupeStoreOptions {
  /**
   * Take over a lock file left by another host name (containers whose host name changes per
   * run). Only for a folder no other machine can reach. Default false: such a lock refuses.
   */
  readonly takeOverLockFromOtherHost?: boolean;
  /** Clock in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Whether `add` syncs to disk before resolving. Default true; false only for tests. */
  readonly sync?: boolean;
  /** Compact once the log holds at least this many records … Default 10 000. */
  readonly compactMinRecords?: number;
  /** … and more than this many per remembered id. Default 2. */
  readonly compactRatio?: number;
}

/**
 * Handled event ids on disk, each until its expiry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileDedupeStore } from '@fluxel/relay-client/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'relay-example-'));
 * const store = await FileDedupeStore.open(join(dir, 'mailbox'));
 * await store.add('evt-1', Date.now() + 60_000);
 * await store.close();
 * const reopened = await FileDedupeStore.open(join(dir, 'mailbox'));
 * assert.equal(await reopened.has('evt-1'), true);
 * await reopened.close();
 * ```
 */
export class FileDedupeStore implements DedupeStore {
  /** The folder of the store. */
  readonly dir: string;
  readonly #ids: Map<string, number>;
  readonly #log: Journal;
  readonly #lock: LockFile;
  readonly #now: () => number;
  #closed = false;

  private constructor(
    dir: string,
    ids: Map<string, number>,
    log: Journal,
    lock: LockFile,
    now: () => number,
  ) {
    this.dir = dir;
    this.#ids = ids;
    this.#log = log;
    this.#lock = lock;
    this.#now = now;
  }

  /** Opens (or creates) the store in `dir`; rejects when another running process holds it. */
  static async open(dir: string, options: FileDedupeStoreOptions = {}): Promise<FileDedupeStore> {
    checkFileStoreOptions(options, 'FileDedupeStore.open');
    const now = options.now ?? Date.now;
    const minRecords = options.compactMinRecords ?? 10_000;
    const ratio = options.compactRatio ?? 2;
    const lock = await lockStoreDir(
      dir,
      'mailbox-dedupe.lock',
      'the dedupe store',
      options.takeOverLockFromOtherHost ?? false,
    );
    const ids = new Map<string, number>();
    try {
      const { log } = await Journal.open(join(dir, 'mailbox-dedupe.log'), {
        sync: options.sync ?? true,
        onRecord: (value) => {
          const { i, x } = value as { i?: unknown; x?: unknown };
          if (typeof i !== 'string' || typeof x !== 'number') throw new Error('malformed record');
          ids.set(i, Math.max(x, ids.get(i) ?? 0));
        },
      });
      const t = now();
      for (const [id, until] of ids) if (until <= t) ids.delete(id);
      const store = new FileDedupeStore(dir, ids, log, lock, now);
      let checkedAt = 0;
      log.beforeBatch = async () => {
        // Look (an O(n) sweep) only every so many records, not on every batch.
        const every = Math.max(1, Math.min(1_000, Math.floor(minRecords / 4)));
        if (log.records < minRecords || log.records - checkedAt < every) return undefined;
        checkedAt = log.records;
        const t2 = now();
        for (const [id, until] of ids) if (until <= t2) ids.delete(id);
        if (log.records <= ratio * Math.max(ids.size, 1)) return undefined;
        return {
          lines: [...ids].map(([i, x]) => `${JSON.stringify({ i, x })}\n`),
          done: () => {
            checkedAt = 0;
          },
        };
      };
      return store;
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw wrap(error, `could not open the dedupe log in ${dir}`);
    }
  }

  /** Ids remembered (expired ones may still be counted until compaction). */
  get size(): number {
    return this.#ids.size;
  }

  async has(id: string): Promise<boolean> {
    this.#open();
    const until = this.#ids.get(id);
    return until !== undefined && until > this.#now();
  }

  async add(id: string, expiresAt: number): Promise<void> {
    this.#open();
    if (typeof id !== 'string' || id === '' || !Number.isFinite(expiresAt))
      throw new RelayError('ERR_RELAY_INVALID_ARGUMENT', 'id and expiresAt are required');
    await this.#log.append(`${JSON.stringify({ i: id, x: expiresAt })}\n`, true, () => {
      this.#ids.set(id, Math.max(expiresAt, this.#ids.get(id) ?? 0));
    });
  }

  /** Waits for pending writes, closes the log and removes the lock file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#log.close();
    } finally {
      await this.#lock.release();
    }
  }

  #open(): void {
    if (this.#closed) throw new RelayError('ERR_RELAY_OUTBOX_CLOSED', 'the dedupe store is closed');
  }
}
