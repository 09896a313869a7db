/**
 * The append-only, hash-chained audit log with signed checkpoints and group commit.
 */
import { hex32, toBase64url } from './encoding.js';
import { AuditError } from './errors.js';
import type { AuditEvent, AuditEventInput } from './event.js';
import type { GeoResolver } from './geo.js';
import { checkSigningKey, type SigningKey } from './keys.js';
import { EMPTY_TREE_ROOT, leafHash, MerkleFrontier } from './merkle.js';
import type { PrivacyTransform } from './privacy.js';
import {
  type Checkpoint,
  type CheckpointReason,
  checkpointRecord,
  eventRecord,
  GENESIS_HASH,
  type StoredRecord,
} from './record.js';
import { normalizeEvent } from './validate.js';

/**
 * What a store knows about the log it holds when opened.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { GENESIS_HASH, type LogStoreState, MemoryStore } from '@fluxel/audit';
 *
 * const state: LogStoreState = await new MemoryStore().open();
 * assert.deepEqual(state, { lastSeq: 0, lastHash: GENESIS_HASH }); // an empty store
 * ```
 */
export interface LogStoreState {
  /** Sequence number of the last record, 0 when empty. */
  readonly lastSeq: number;
  /** Hash of the last record, `GENESIS_HASH` when empty. */
  readonly lastHash: string;
  /** The newest checkpoint in the store, if any (gives the log id and the current key). */
  readonly lastCheckpoint?: Checkpoint;
  /** Set when the store repaired a torn final line on open (a crash during a write). */
  readonly recovered?: { readonly truncatedBytes: number };
}

/**
 * Where records are kept. `append` must make the records durable before it resolves and is
 * never called again before the previous call settled.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, GENESIS_HASH, type LogStore, type StoredRecord, verifyLines } from '@fluxel/audit';
 *
 * // A store over your own storage; `append` resolves only when the records are durable.
 * const lines: string[] = [];
 * const store: LogStore = {
 *   open: async () => ({ lastSeq: 0, lastHash: GENESIS_HASH }),
 *   append: async (records: readonly StoredRecord[]) => {
 *     for (const record of records) lines.push(record.line);
 *   },
 *   close: async () => {},
 * };
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * assert.equal(verifyLines(lines, { publicKeys: [signingKey] }).ok, true);
 * ```
 */
export interface LogStore {
  open(): Promise<LogStoreState>;
  append(records: readonly StoredRecord[]): Promise<void>;
  /** Records with `seq >= fromSeq`, in order (used by sinks to catch up). */
  read?(fromSeq: number): AsyncIterable<StoredRecord>;
  /**
   * True when the current segment should be sealed. The log then appends a `seal`
   * checkpoint followed by an `open` checkpoint; the store must start a new segment after
   * every record whose checkpoint reason is `seal`.
   */
  segmentFull?(): boolean;
  /** Drops whole sealed segments whose records all have `seq < beforeSeq`. */
  dropBefore?(beforeSeq: number): Promise<{ from: number; to: number } | undefined>;
  close(): Promise<void>;
}

/**
 * The receipt of a durable append.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AppendReceipt, AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const receipt: AppendReceipt = await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * assert.equal(receipt.seq, 2); // after the opening checkpoint
 * assert.match(receipt.hash, /^[0-9a-f]{64}$/);
 * ```
 */
export interface AppendReceipt {
  readonly id: string;
  readonly seq: number;
  readonly hash: string;
}

/**
 * Receives committed records in order; the log waits for it (backpressure).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, type RecordListener } from '@fluxel/audit';
 *
 * const actions: string[] = [];
 * const listener: RecordListener = (records) => {
 *   for (const record of records) if (record.event) actions.push(record.event.action);
 * };
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const unsubscribe = log.subscribe(listener);
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * unsubscribe();
 * await log.close();
 * assert.deepEqual(actions, ['auth.login']);
 * ```
 */
export type RecordListener = (records: readonly StoredRecord[]) => void | Promise<void>;

/**
 * Options of {@link AuditLog.open}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type AuditLogOptions, createPrivacy, generateSigningKey, MemoryStore, offlineGeoResolver } from '@fluxel/audit';
 *
 * const options: AuditLogOptions = {
 *   store: new MemoryStore(),
 *   signingKey: generateSigningKey(),
 *   checkpointEvery: 1_000,
 *   checkpointIntervalMs: 60_000,
 *   privacy: createPrivacy({ redact: ['data.password'] }),
 *   geo: offlineGeoResolver,
 *   merkle: true,
 * };
 * const log = await AuditLog.open(options);
 * assert.equal(log.size, 1); // the signed opening checkpoint
 * await log.close();
 * ```
 */
export interface AuditLogOptions {
  readonly store: LogStore;
  /** The key that signs checkpoints. */
  readonly signingKey: SigningKey;
  /**
   * The key that signed the log so far, when `signingKey` is new: the log writes a `rotate`
   * checkpoint signed by it that announces `signingKey`.
   */
  readonly previousKey?: SigningKey;
  /** The log's id, for a new log (default: random). An existing log keeps its id. */
  readonly logId?: string;
  /** Write a checkpoint after this many events (default 1000). */
  readonly checkpointEvery?: number;
  /** Write a checkpoint every this many ms, even when idle (default 60 000; 0 = never). */
  readonly checkpointIntervalMs?: number;
  /** Most records per store write (default 16 384). */
  readonly maxBatch?: number;
  /** How long an append may wait for others to join its batch (default 0 ms). */
  readonly maxDelayMs?: number;
  /** Applied to each event before hashing (redaction, pseudonymisation, encryption). */
  readonly privacy?: PrivacyTransform;
  /** Fills `actor.geo` from `actor.ip` when absent (before privacy is applied). */
  readonly geo?: GeoResolver;
  /** The clock (ms since epoch); injectable for tests. */
  readonly now?: () => number;
  /**
   * Keep a Merkle tree over each epoch's records and sign its root in every checkpoint, for
   * inclusion and consistency proofs (`proveInclusion`, `proveConsistency`). Costs two extra
   * small SHA-256 per record. Default false.
   */
  readonly merkle?: boolean;
}

/** `setImmediate` where the runtime has it (Node, Bun): runs after pending I/O, before timers. */
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;

interface Batch {
  records: StoredRecord[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { records: [], promise, resolve, reject };
}

/**
 * A tamper-evident audit log. Each record carries its sequence number, the previous
 * record's hash and its own SHA-256; Ed25519-signed checkpoints cover the chain every N
 * events, every T ms and at close. Appends are group-committed: `append()` resolves only
 * after the store made its batch durable, so a crash loses nothing that was acknowledged.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, verifyLines } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey, checkpointEvery: 100 });
 * await log.append({
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example', ip: '192.0.2.10' },
 *   action: 'auth.login',
 *   outcome: 'failure',
 *   reason: 'bad password',
 * });
 * await log.rotateKey(generateSigningKey()); // announced in the log, signed by the old key
 * await log.close(); // a signed closing checkpoint
 * const report = verifyLines(store.lines(), { publicKeys: [signingKey] });
 * assert.equal(report.ok, true);
 * assert.equal(report.events, 1);
 * ```
 */
export class AuditLog {
  readonly #store: LogStore;
  readonly #now: () => number;
  readonly #checkpointEvery: number;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  readonly #privacy: PrivacyTransform | undefined;
  readonly #geo: GeoResolver | undefined;
  readonly #listeners: RecordListener[] = [];
  #key: SigningKey;
  #logId: string;
  #seq: number;
  #head: string;
  #sinceCheckpoint = 0;
  #durable = 0;
  #closing: Promise<void> | undefined;
  #prep: Promise<void> | undefined;
  #prepCount = 0;
  #sealPending = false;
  readonly #tree: MerkleFrontier | undefined;
  #treeFrom = 0;
  #pending: Batch = newBatch();
  #writing = false;
  #scheduled = false;
  #closed = false;
  #failed: unknown;
  #timer: ReturnType<typeof setInterval> | undefined;
  #idle: Promise<void> = Promise.resolve();
  #idleResolve: (() => void) | undefined;

  private constructor(options: AuditLogOptions, state: LogStoreState) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#checkpointEvery = options.checkpointEvery ?? 1000;
    this.#maxBatch = options.maxBatch ?? 16_384;
    this.#maxDelayMs = options.maxDelayMs ?? 0;
    this.#privacy = options.privacy;
    this.#geo = options.geo;
    this.#key = options.signingKey;
    this.#logId =
      state.lastCheckpoint?.log ??
      options.logId ??
      toBase64url(crypto.getRandomValues(new Uint8Array(12)));
    this.#seq = state.lastSeq;
    this.#head = state.lastHash;
    this.#durable = state.lastSeq;
    this.#tree = options.merkle ? new MerkleFrontier() : undefined;
  }

  /**
   * Opens (or creates) a log on a store. A new log starts with a signed `open` checkpoint;
   * a log repaired after a crash gets a `recover` checkpoint.
   *
   * @throws `AuditError` `ERR_AUDIT_INVALID_KEY` when the log was signed by another key and
   * `previousKey` does not announce `signingKey`.
   */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    if (!options.store) throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'store is required');
    checkSigningKey(options.signingKey, 'signingKey');
    if (options.previousKey !== undefined) checkSigningKey(options.previousKey, 'previousKey');
    let state: LogStoreState;
    try {
      state = await options.store.open();
    } catch (cause) {
      if (AuditError.isInstance(cause)) throw cause;
      throw new AuditError('ERR_AUDIT_STORAGE', 'could not open the log store', { cause });
    }
    const log = new AuditLog(options, state);
    try {
      log.#start(state, options);
      await log.flush();
    } catch (error) {
      await options.store.close().catch(() => {});
      throw error;
    }
    const interval = options.checkpointIntervalMs ?? 60_000;
    if (interval > 0) {
      log.#timer = setInterval(() => {
        if (log.#closed || log.#failed) return;
        log.#pushCheckpoint('interval');
        log.#schedule();
      }, interval);
      (log.#timer as { unref?: () => void }).unref?.();
    }
    return log;
  }

  #start(state: LogStoreState, options: AuditLogOptions): void {
    const last = state.lastCheckpoint;
    const currentKid = last ? (last.next?.kid ?? last.kid) : undefined;
    if (state.lastSeq > 0 && currentKid !== undefined && currentKid !== options.signingKey.kid) {
      const previous = options.previousKey;
      if (!previous || previous.kid !== currentKid)
        throw new AuditError(
          'ERR_AUDIT_INVALID_KEY',
          `the log is signed by key ${currentKid}; pass it as previousKey to rotate to ${options.signingKey.kid}`,
        );
      this.#key = previous;
      this.#pushCheckpoint('rotate', {
        next: { kid: options.signingKey.kid, key: toBase64url(options.signingKey.publicKey) },
      });
      this.#key = options.signingKey;
    }
    if (state.recovered) this.#pushCheckpoint('recover', { recovered: state.recovered });
    // Every session (and every segment) starts with a signed `open` checkpoint that carries
    // the public key: restarts are visible in the log, and each segment verifies alone.
    this.#pushCheckpoint('open', { key: toBase64url(this.#key.publicKey) });
  }

  /** The store the log writes to. */
  get store(): LogStore {
    return this.#store;
  }

  /** The log's id. */
  get id(): string {
    return this.#logId;
  }

  /** Sequence number of the last record accepted (not necessarily durable yet). */
  get size(): number {
    return this.#seq;
  }

  /** Sequence number of the last record that is durable in the store. */
  get durableSize(): number {
    return this.#durable;
  }

  /** Hash of the last record accepted. */
  get head(): string {
    return this.#head;
  }

  /** Id of the key that signs the next checkpoint. */
  get keyId(): string {
    return this.#key.kid;
  }

  /**
   * Validates, fills in, privacy-transforms, chains and queues an event; resolves once it is
   * durable. Events appended in one tick are written and synced together.
   *
   * @throws `AuditError` `ERR_AUDIT_INVALID_EVENT` (nothing is written),
   * `ERR_AUDIT_LOG_CLOSED`, `ERR_AUDIT_STORAGE` (the log is then failed; reopen it).
   */
  append(input: AuditEventInput): Promise<AppendReceipt> {
    try {
      this.#checkOpen();
      let event = normalizeEvent(input, this.#now);
      if (this.#geo && event.actor.ip !== undefined && event.actor.geo === undefined) {
        const geo = this.#geo.lookup(event.actor.ip);
        if (geo) event = { ...event, actor: { ...event.actor, geo } };
      }
      const transformed = this.#privacy ? this.#privacy(event) : event;
      if (transformed instanceof Promise || this.#prep) return this.#appendLater(transformed);
      return this.#receipt(this.#sequence(transformed));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * An asynchronous privacy transform (e.g. a KMS-backed cipher): events are sequenced in
   * the order `append` was called, each once its own transform finished.
   */
  #appendLater(transformed: AuditEvent | Promise<AuditEvent>): Promise<AppendReceipt> {
    this.#prepCount++;
    const previous = this.#prep ?? Promise.resolve();
    const sequenced = previous.then(async () => {
      const event = await transformed;
      if (this.#failed) throw this.#storageError();
      return this.#sequence(event);
    });
    const settled = sequenced.then(
      () => this.#prepDone(),
      () => this.#prepDone(),
    );
    this.#prep = settled;
    return sequenced.then((sequencedRecord) => this.#receipt(sequencedRecord));
  }

  #prepDone(): void {
    if (--this.#prepCount === 0) this.#prep = undefined;
  }

  #receipt({ record, batch }: { record: StoredRecord; batch: Batch }): Promise<AppendReceipt> {
    const { id } = record.event as AuditEvent;
    const { seq, hash } = record;
    return batch.promise.then(() => ({ id, seq, hash }));
  }

  #sequence(event: AuditEvent): { record: StoredRecord; batch: Batch } {
    const record = eventRecord(this.#seq + 1, this.#head, event);
    this.#seq = record.seq;
    this.#head = record.hash;
    this.#tree?.add(leafHash(hex32(record.hash)));
    const batch = this.#pending;
    batch.records.push(record);
    if (++this.#sinceCheckpoint >= this.#checkpointEvery) this.#pushCheckpoint('count');
    if (!this.#sealPending && this.#store.segmentFull?.()) {
      // The seal is the last record of the segment, the opener the first of the next; both
      // are signed, so a segment verifies alone after earlier ones were dropped.
      const key = toBase64url(this.#key.publicKey);
      this.#pushCheckpoint('seal', { key });
      this.#pushCheckpoint('open', { key });
      this.#sealPending = true;
    }
    this.#schedule();
    return { record, batch };
  }

  /** Writes a checkpoint now and resolves when it is durable. */
  async checkpoint(): Promise<Checkpoint> {
    this.#checkOpen();
    const record = this.#pushCheckpoint('interval');
    this.#schedule();
    await this.#pending.promise;
    return record.checkpoint as Checkpoint;
  }

  /**
   * Rotates the signing key: a `rotate` checkpoint signed by the current key announces
   * `next`, which signs every later checkpoint. Resolves when durable.
   */
  async rotateKey(next: SigningKey): Promise<void> {
    this.#checkOpen();
    this.#pushCheckpoint('rotate', { next: { kid: next.kid, key: toBase64url(next.publicKey) } });
    this.#key = next;
    this.#schedule();
    await this.#pending.promise;
  }

  /**
   * Retention: drops whole sealed segments whose records all precede `beforeSeq` (stores
   * with segments only) and records the dropped range in a signed `retention` checkpoint,
   * so the verifier accepts the missing prefix. Returns the dropped range.
   */
  async dropBefore(beforeSeq: number): Promise<{ from: number; to: number } | undefined> {
    this.#checkOpen();
    if (!this.#store.dropBefore)
      throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'this store has no segments to drop');
    await this.flush();
    const dropped = await this.#store.dropBefore(beforeSeq);
    if (dropped) {
      this.#pushCheckpoint('retention', { dropped });
      await this.flush();
    }
    return dropped;
  }

  /**
   * Adds a listener that receives every committed batch, in order, before the batch's appends
   * resolve (so a slow listener applies backpressure). Errors it throws are ignored.
   */
  subscribe(listener: RecordListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** Resolves when everything appended so far is durable (and delivered to listeners). */
  async flush(): Promise<void> {
    while (this.#prep) await this.#prep;
    if (this.#failed) throw this.#storageError();
    if (this.#pending.records.length > 0) {
      this.#schedule(true);
      await this.#pending.promise;
    }
    await this.#idle;
    if (this.#failed) throw this.#storageError();
  }

  /** Writes a final `close` checkpoint, flushes everything and closes the store. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    while (this.#prep) await this.#prep;
    if (!this.#failed) {
      this.#pushCheckpoint('close');
      this.#closed = true;
      try {
        await this.flush();
      } finally {
        await this.#store.close();
      }
    } else {
      this.#closed = true;
      await this.#store.close();
    }
  }

  #checkOpen(): void {
    if (this.#closed || this.#closing)
      throw new AuditError('ERR_AUDIT_LOG_CLOSED', 'the audit log is closed');
    if (this.#failed) throw this.#storageError();
  }

  #storageError(): AuditError {
    return AuditError.isInstance(this.#failed)
      ? this.#failed
      : new AuditError('ERR_AUDIT_STORAGE', 'the audit log store failed; reopen the log', {
          cause: this.#failed,
        });
  }

  #pushCheckpoint(reason: CheckpointReason, extra: Partial<Checkpoint> = {}): StoredRecord {
    const tree = this.#tree;
    if (tree && reason === 'open') {
      tree.reset();
      this.#treeFrom = this.#seq + 1;
    }
    const checkpoint: Checkpoint = {
      log: this.#logId,
      size: this.#seq,
      head: this.#head,
      time: new Date(this.#now()).toISOString(),
      kid: this.#key.kid,
      reason,
      ...extra,
      // Only within an epoch this writer opened (not for `rotate`/`recover` before the
      // session's `open`, whose records it has not seen).
      ...(tree && this.#treeFrom > 0
        ? {
            tree: { from: this.#treeFrom, root: reason === 'open' ? EMPTY_TREE_ROOT : tree.root() },
          }
        : {}),
    };
    const record = checkpointRecord(this.#seq + 1, this.#head, checkpoint, this.#key);
    this.#seq = record.seq;
    this.#head = record.hash;
    tree?.add(leafHash(hex32(record.hash)));
    this.#pending.records.push(record);
    this.#sinceCheckpoint = 0;
    return record;
  }

  #schedule(now = false): void {
    if (this.#writing) return;
    if (now || this.#pending.records.length >= this.#maxBatch) {
      this.#scheduled = true;
      queueMicrotask(() => void this.#drain());
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.#maxDelayMs <= 0 && immediate) immediate(() => void this.#drain());
    else setTimeout(() => void this.#drain(), this.#maxDelayMs);
  }

  async #drain(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    this.#idle = new Promise((resolve) => {
      this.#idleResolve = resolve;
    });
    try {
      while (this.#pending.records.length > 0 && !this.#failed) {
        const batch = this.#pending;
        this.#pending = newBatch();
        try {
          await this.#commit(batch.records);
          if (!this.#store.segmentFull?.()) this.#sealPending = false;
          batch.resolve();
        } catch (error) {
          this.#failed = error;
          batch.reject(this.#storageError());
          this.#pending.reject(this.#storageError());
        }
      }
    } finally {
      this.#writing = false;
      this.#scheduled = false;
      this.#idleResolve?.();
    }
  }

  async #commit(records: readonly StoredRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += this.#maxBatch) {
      const slice =
        records.length <= this.#maxBatch ? records : records.slice(i, i + this.#maxBatch);
      try {
        await this.#store.append(slice);
      } catch (cause) {
        throw AuditError.isInstance(cause)
          ? cause
          : new AuditError('ERR_AUDIT_STORAGE', 'the audit log store failed to write', { cause });
      }
      this.#durable = (slice.at(-1) as StoredRecord).seq;
      // A listener's failure (a sink, an alert rule) must not fail the log: the records are
      // durable, and sinks catch up from their cursor.
      for (const listener of this.#listeners) {
        try {
          await listener(slice);
        } catch {
          // ignored by design
        }
      }
    }
  }
}

/**
 * A {@link LogStore} in memory: for tests and examples (nothing survives the process).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const store = new MemoryStore(); // for tests and demos: nothing survives the process
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * assert.deepEqual(store.records.map((r) => r.kind), ['c', 'e', 'c']);
 * assert.equal(store.lines().length, 3);
 * ```
 */
export class MemoryStore implements LogStore {
  readonly records: StoredRecord[] = [];

  async open(): Promise<LogStoreState> {
    const last = this.records.at(-1);
    if (!last) return { lastSeq: 0, lastHash: GENESIS_HASH };
    const checkpoint = this.records.findLast((r) => r.kind === 'c')?.checkpoint;
    return {
      lastSeq: last.seq,
      lastHash: last.hash,
      ...(checkpoint ? { lastCheckpoint: checkpoint } : {}),
    };
  }

  async append(records: readonly StoredRecord[]): Promise<void> {
    this.records.push(...records);
  }

  async *read(fromSeq: number): AsyncIterable<StoredRecord> {
    for (const record of this.records) if (record.seq >= fromSeq) yield record;
  }

  /** The record lines, as a file would hold them. */
  lines(): string[] {
    return this.records.map((r) => r.line);
  }

  async close(): Promise<void> {}
}
