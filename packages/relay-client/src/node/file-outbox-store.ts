import { join } from 'node:path';
import { RelayError } from '../errors.js';
import { OutboxState } from '../outbox/state.js';
import type {
  DeadLetter,
  LeaseOptions,
  OutboxErrorInfo,
  OutboxMessage,
  OutboxStats,
  OutboxStore,
} from '../outbox/types.js';
import { checkFileStoreOptions } from './file-store-options.js';
import { type Compaction, Journal } from './journal.js';
import { type LockFile, lockStoreDir, storageError, wrap } from './lock-file.js';

/**
 * Options of {@link FileOutboxStore.open}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileOutboxStore, type FileOutboxStoreOptions } from '@fluxel/relay-client/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'relay-example-'));
 * const options: FileOutboxStoreOptions = { compactMinRecords: 10_000, compactRatio: 4 };
 * const store = await FileOutboxStore.open(join(dir, 'outbox'), options);
 * assert.equal((await store.stats()).depth, 0);
 * await store.close();
 * ```
 */
export interface FileOutboxStoreOptions {
  /**
   * Take over a lock file left by another host name (containers whose host name changes per
   * run). Only for a folder no other machine can reach. Default false: such a lock refuses.
   */
  readonly takeOverLockFromOtherHost?: boolean;
  /** Clock in ms, for `stats().inFlight`. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Whether durable records (enqueue, dead letter, revive, drop) are synced to disk before
   * the call resolves. Default true; false only for tests and benchmarks.
   */
  readonly sync?: boolean;
  /** Compact once the log holds at least this many records … Default 10 000. */
  readonly compactMinRecords?: number;
  /** … and more than this many per live message. Default 4. */
  readonly compactRatio?: number;
}

/**
 * What opening the store found.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileOutboxStore, type FileOutboxRecovery } from '@fluxel/relay-client/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'relay-example-'));
 * const store = await FileOutboxStore.open(join(dir, 'outbox'));
 * const recovery: FileOutboxRecovery = store.recovery;
 * assert.deepEqual([recovery.records, recovery.truncatedBytes], [0, 0]);
 * await store.close();
 * ```
 */
export interface FileOutboxRecovery {
  /** Records replayed. */
  readonly records: number;
  /** Bytes of a torn last write that were cut off. */
  readonly truncatedBytes: number;
  /** Messages that were leased when the previous process stopped (their leases are released). */
  readonly releasedLeases: number;
  /** Whether the lock was left by a process that is gone (it crashed). */
  readonly previousProcessCrashed: boolean;
}

type Record_ =
  | { t: 'e'; m: OutboxMessage }
  | { t: 's'; m: OutboxMessage; d?: number }
  | { t: 'l'; id: string; a: number }
  | { t: 'c'; id: string }
  | { t: 'r'; id: string; a: number; n: number; e: OutboxErrorInfo }
  | { t: 'x'; id: string; a: number }
  | { t: 'd'; id: string; a: number; at: number; e: OutboxErrorInfo }
  | { t: 'v'; id: string; at: number }
  | { t: 'p'; id: string };

const line = (record: Record_): string => `${JSON.stringify(record)}\n`;

/**
 * The durable outbox store on an append-only file log with group commit.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileOutboxStore, Outbox } from '@fluxel/relay-client/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'relay-example-'));
 * const outbox = new Outbox({ store: await FileOutboxStore.open(join(dir, 'outbox')) });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: 1 }); // on disk now
 * await outbox.close();
 * const reopened = await FileOutboxStore.open(join(dir, 'outbox'));
 * assert.equal((await reopened.stats()).depth, 1);
 * await reopened.close();
 * ```
 */
export class FileOutboxStore implements OutboxStore {
  /** The folder of the store. */
  readonly dir: string;
  /** What opening found. */
  readonly recovery: FileOutboxRecovery;
  readonly #state: OutboxState;
  readonly #log: Journal;
  readonly #lock: LockFile;
  readonly #now: () => number;
  /** Ids whose `appendIfAbsent` is being written: later callers wait for the outcome. */
  readonly #appending = new Map<string, Promise<void>>();
  #closed = false;

  private constructor(
    dir: string,
    state: OutboxState,
    log: Journal,
    lock: LockFile,
    now: () => number,
    recovery: FileOutboxRecovery,
  ) {
    this.dir = dir;
    this.#state = state;
    this.#log = log;
    this.#lock = lock;
    this.#now = now;
    this.recovery = recovery;
  }

  /**
   * Opens (or creates) the outbox in `dir`. Rejects with `ERR_RELAY_OUTBOX_STORAGE` when
   * another running process holds the folder, or the log is corrupt (a bad record that is
   * not the last one).
   */
  static async open(dir: string, options: FileOutboxStoreOptions = {}): Promise<FileOutboxStore> {
    checkFileStoreOptions(options, 'FileOutboxStore.open');
    const minRecords = options.compactMinRecords ?? 10_000;
    const ratio = options.compactRatio ?? 4;
    const lock = await lockStoreDir(
      dir,
      'outbox.lock',
      'the outbox',
      options.takeOverLockFromOtherHost ?? false,
    );
    const state = new OutboxState();
    const leased = new Set<string>();
    try {
      const { log, replay } = await Journal.open(join(dir, 'outbox.log'), {
        sync: options.sync ?? true,
        onRecord: (value, offset, length) =>
          applyRecord(state, value as Record_, leased, new DiskPayload(offset, length)),
      });
      // Whoever held these leases is gone (we hold the lock): release them all at once.
      state.releaseAll();
      let releasedLeases = 0;
      for (const id of leased) if (state.has(id)) releasedLeases++;
      const store = new FileOutboxStore(dir, state, log, lock, options.now ?? Date.now, {
        records: replay.records,
        truncatedBytes: replay.truncatedBytes,
        releasedLeases,
        previousProcessCrashed: lock.tookOverStale,
      });
      log.beforeBatch = () =>
        log.records >= minRecords && log.records > ratio * Math.max(state.size, 1)
          ? store.#snapshot()
          : Promise.resolve(undefined);
      return store;
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw wrap(error, `could not open the outbox log in ${dir}`);
    }
  }

  async append(messages: readonly OutboxMessage[]): Promise<void> {
    this.#open();
    let text = '';
    const lengths: number[] = [];
    for (const m of messages) {
      if (this.#state.has(m.id) || this.#appending.has(m.id))
        throw new RelayError(
          'ERR_RELAY_INVALID_ARGUMENT',
          `message ${m.id} is already in the outbox`,
        );
      const record = line({ t: 'e', m });
      lengths.push(Buffer.byteLength(record, 'utf8'));
      text += record;
    }
    // In memory the payload is only a reference to its record in the log.
    await this.#log.append(text, true, (offset) => {
      for (const [i, m] of messages.entries()) {
        const length = lengths[i] as number;
        this.#state.add({ ...m, payload: new DiskPayload(offset, length) });
        offset += length;
      }
    });
  }

  /**
   * Check and add without a gap: the id is reserved synchronously (no `await` between the
   * check and the reservation), so of concurrent calls with one id exactly one writes the
   * record; the others wait for it and get the stored message. One process holds the folder
   * (the lock file), so this is atomic for the store as a whole.
   */
  async appendIfAbsent(message: OutboxMessage): Promise<OutboxMessage | undefined> {
    this.#open();
    for (let pending = this.#appending.get(message.id); pending; ) {
      await pending.catch(() => undefined);
      pending = this.#appending.get(message.id);
    }
    this.#open();
    const existing = this.#state.get(message.id);
    if (existing) return this.#hydrate(existing);
    const written = this.append([message]);
    this.#appending.set(message.id, written);
    try {
      await written;
    } finally {
      this.#appending.delete(message.id);
    }
    return undefined;
  }

  async lease(options: LeaseOptions): Promise<OutboxMessage[]> {
    this.#open();
    const leased = this.#state.lease(options);
    if (leased.length > 0) {
      let text = '';
      for (const m of leased) text += line({ t: 'l', id: m.id, a: m.attempts });
      await this.#log.append(text, false);
    }
    return Promise.all(leased.map((m) => this.#hydrate(m)));
  }

  async complete(id: string): Promise<void> {
    this.#open();
    if (this.#state.complete(id)) await this.#log.append(line({ t: 'c', id }), false);
  }

  async reschedule(
    id: string,
    attempt: number,
    nextAttemptAt: number,
    error: OutboxErrorInfo,
  ): Promise<void> {
    this.#open();
    const e = errorRecord(error);
    if (this.#state.reschedule(id, attempt, nextAttemptAt, e))
      await this.#log.append(line({ t: 'r', id, a: attempt, n: nextAttemptAt, e }), false);
  }

  async release(id: string, attempt: number): Promise<void> {
    this.#open();
    if (this.#state.release(id, attempt))
      await this.#log.append(line({ t: 'x', id, a: attempt }), false);
  }

  async deadLetter(id: string, attempt: number, at: number, error: OutboxErrorInfo): Promise<void> {
    this.#open();
    const e = errorRecord(error);
    if (this.#state.deadLetter(id, attempt, at, e))
      await this.#log.append(line({ t: 'd', id, a: attempt, at, e }), true);
  }

  async revive(id: string, now: number): Promise<boolean> {
    this.#open();
    if (!this.#state.revive(id, now)) return false;
    await this.#log.append(line({ t: 'v', id, at: now }), true);
    return true;
  }

  async drop(id: string): Promise<boolean> {
    this.#open();
    if (!this.#state.drop(id)) return false;
    await this.#log.append(line({ t: 'p', id }), true);
    return true;
  }

  async list(): Promise<OutboxMessage[]> {
    this.#open();
    return Promise.all(this.#state.list().map((m) => this.#hydrate(m)));
  }

  async deadLetters(): Promise<DeadLetter[]> {
    this.#open();
    return Promise.all(this.#state.deadLetters().map((m) => this.#hydrate(m)));
  }

  async nextWakeAt(): Promise<number | undefined> {
    this.#open();
    return this.#state.nextWakeAt();
  }

  async stats(): Promise<OutboxStats> {
    this.#open();
    return this.#state.stats(this.#now());
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

  /** The current state as snapshot records (compaction); payloads are read back from the log. */
  async #snapshot(): Promise<Compaction> {
    const entries = this.#state.entries();
    const lines: string[] = [];
    const refs: (DiskPayload | undefined)[] = [];
    for (let i = 0; i < entries.length; i += 256) {
      const chunk = entries.slice(i, i + 256);
      const full = await Promise.all(chunk.map((e) => this.#hydrate(e.message)));
      for (const [j, { message, deadAt }] of chunk.entries()) {
        const m = full[j] as OutboxMessage;
        lines.push(line(deadAt === undefined ? { t: 's', m } : { t: 's', m, d: deadAt }));
        refs.push(message.payload instanceof DiskPayload ? message.payload : undefined);
      }
    }
    return {
      lines,
      done: (offsets) => {
        // Every copy of a message shares its reference: move them all to the new file.
        for (const [i, ref] of refs.entries()) {
          if (!ref) continue;
          ref.offset = offsets[i] as number;
          ref.length = Buffer.byteLength(lines[i] as string, 'utf8');
        }
      },
    };
  }

  /** The message with its payload read back from its record in the log. */
  async #hydrate<M extends OutboxMessage>(message: M): Promise<M> {
    const ref = message.payload;
    if (!(ref instanceof DiskPayload)) return message;
    for (let tries = 0; ; tries++) {
      // Offset and length are read together; a compaction may move them between tries.
      const bytes = await this.#log.read(ref.offset, ref.length);
      try {
        const record = JSON.parse(bytes.toString('utf8')) as { m?: OutboxMessage };
        if (record.m?.id === message.id) return { ...message, payload: record.m.payload };
      } catch {
        // moved by a compaction: try again
      }
      if (tries >= 2) throw storageError(`could not read the payload of ${message.id} back`);
    }
  }

  #open(): void {
    if (this.#closed) throw new RelayError('ERR_RELAY_OUTBOX_CLOSED', 'the outbox store is closed');
  }
}

/** Where a payload is in the log: the byte range of the record that holds it. */
class DiskPayload {
  constructor(
    public offset: number,
    public length: number,
  ) {}
}

function applyRecord(
  state: OutboxState,
  record: Record_,
  leased: Set<string>,
  payload: DiskPayload,
): void {
  switch (record.t) {
    case 'e':
      state.add({ ...checkMessage(record.m), payload });
      return;
    case 's':
      state.add(
        { ...checkMessage(record.m), payload },
        typeof record.d === 'number' ? record.d : undefined,
      );
      return;
    case 'l':
      state.countAttempt(record.id, record.a);
      leased.add(record.id);
      return;
    case 'c':
      state.complete(record.id);
      leased.delete(record.id);
      return;
    case 'r':
      state.reschedule(record.id, record.a, record.n, record.e);
      leased.delete(record.id);
      return;
    case 'x':
      state.release(record.id, record.a);
      leased.delete(record.id);
      return;
    case 'd':
      state.deadLetter(record.id, record.a, record.at, record.e);
      leased.delete(record.id);
      return;
    case 'v':
      state.revive(record.id, record.at);
      return;
    case 'p':
      state.drop(record.id);
      return;
    default:
      throw new Error(`unknown record type ${JSON.stringify((record as { t?: unknown }).t)}`);
  }
}

/** The error as written to the log: the known fields only. */
function errorRecord(error: OutboxErrorInfo): OutboxErrorInfo {
  return {
    code: error.code,
    message: error.message,
    ...(typeof error.status === 'number' ? { status: error.status } : {}),
    ...(typeof error.problemCode === 'string' ? { problemCode: error.problemCode } : {}),
    ...(typeof error.detail === 'string' ? { detail: error.detail } : {}),
  };
}

function checkMessage(m: OutboxMessage): OutboxMessage {
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.id !== 'string' ||
    typeof m.connection !== 'string' ||
    typeof m.operation !== 'string' ||
    typeof m.enqueuedAt !== 'number' ||
    typeof m.attempts !== 'number' ||
    typeof m.nextAttemptAt !== 'number' ||
    (m.metadata !== undefined &&
      (typeof m.metadata !== 'object' || m.metadata === null || Array.isArray(m.metadata)))
  )
    throw new Error('malformed message record');
  return m;
}
