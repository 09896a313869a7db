/**
 * The journal shared by the file outbox and the mailbox dedupe store: an append-only
 * JSON-lines log with group commit (one write and one fdatasync per batch of concurrent
 * appends), replay that tolerates a torn tail, and atomic rewrite for compaction. Node only;
 * not part of the public API.
 */
import { constants } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RelayError } from '../errors.js';
import { storageError } from './lock-file.js';

/** A rewrite of the log: its new lines, and who to tell where each one landed. */
export interface Compaction {
  readonly lines: readonly string[];
  readonly done: (offsets: readonly number[]) => void;
}

/** Result of replaying a log. */
export interface ReplayResult {
  /** Complete records read. */
  readonly records: number;
  /** Bytes kept (the file's size after a torn tail was cut off). */
  readonly size: number;
  /** Bytes of a torn or garbled tail that were cut off. */
  readonly truncatedBytes: number;
}

interface Pending {
  readonly text: string;
  readonly durable: boolean;
  readonly onWritten: ((offset: number) => void) | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Options of {@link Journal.open}. */
export interface JournalOptions {
  /**
   * Called for each complete record on open, with the byte offset and length of its line;
   * throwing marks the record as bad.
   */
  readonly onRecord: (record: unknown, offset: number, length: number) => void;
  /** Whether durable appends call fdatasync. Default true. */
  readonly sync?: boolean;
}

const NEWLINE = 0x0a;

/**
 * An append-only log of JSON lines. Appends are queued; while one batch is being written
 * and synced, the next one collects (group commit). A record is one line; a line that
 * does not parse is accepted only as the tail of the file (a torn last write), which is cut
 * off on open; a bad line followed by good ones is corruption and refuses to open.
 */
export class Journal {
  readonly path: string;
  #handle: FileHandle;
  readonly #sync: boolean;
  #queue: Pending[] = [];
  #flushing = false;
  #failed: unknown;
  #closed = false;
  #skipCompaction = 0;
  /** Records in the file now. */
  records: number;
  /** Bytes in the file now. */
  #size: number;
  /**
   * Called between batches; may return lines to rewrite the log with (compaction), and a
   * function told the byte offset of each line in the new file once it is in place.
   */
  beforeBatch: (() => Promise<Compaction | undefined>) | undefined;

  private constructor(
    path: string,
    handle: FileHandle,
    sync: boolean,
    records: number,
    size: number,
  ) {
    this.path = path;
    this.#handle = handle;
    this.#sync = sync;
    this.records = records;
    this.#size = size;
  }

  static async open(
    path: string,
    options: JournalOptions,
  ): Promise<{ log: Journal; replay: ReplayResult }> {
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND);
    try {
      const replay = await replayFile(handle, path, options.onRecord);
      const log = new Journal(path, handle, options.sync ?? true, replay.records, replay.size);
      return { log, replay };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Appends lines (each ending in `\n`). Resolves once written, and synced to disk when
   * `durable`. `onWritten` runs synchronously right after the batch reached the file, before
   * any compaction can look at the state, with the byte offset `text` was written at.
   */
  append(text: string, durable: boolean, onWritten?: (offset: number) => void): Promise<void> {
    if (this.#closed) return Promise.reject(closed());
    if (this.#failed !== undefined)
      return Promise.reject(storageError('the log failed earlier', this.#failed));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ text, durable, onWritten, resolve, reject });
      if (!this.#flushing) {
        // Start after the current turn, so appends made in the same turn (the callers
        // released by the previous batch) form one batch.
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /**
   * Reads `length` bytes at `offset`. After a compaction the file is another one: callers
   * check that they read what they expected and ask again with the new offset if not.
   */
  async read(offset: number, length: number): Promise<Buffer> {
    if (this.#closed) throw closed();
    // eslint-disable-next-line @microsoft/sdl/no-unsafe-alloc -- filled by read(); only the bytesRead prefix is returned
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.#handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  }

  /** Waits for queued appends, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing) await new Promise((r) => setTimeout(r, 1));
    await this.#handle.close();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        await this.#maybeCompact();
        if (this.#failed !== undefined) {
          const failure = storageError(`the log ${this.path} failed`, this.#failed);
          for (const p of this.#queue) p.reject(failure);
          this.#queue = [];
          return;
        }
        const batch = this.#queue;
        this.#queue = [];
        let text = '';
        let durable = false;
        let count = 0;
        const offsets: number[] = [];
        let offset = this.#size;
        for (const p of batch) {
          text += p.text;
          if (p.durable) durable = true;
          count += countLines(p.text);
          offsets.push(offset);
          offset += Buffer.byteLength(p.text, 'utf8');
        }
        try {
          await writeAll(this.#handle, Buffer.from(text, 'utf8'));
          if (durable && this.#sync) await this.#handle.datasync();
        } catch (error) {
          this.#failed = error;
          const failure = storageError(`could not write ${this.path}`, error);
          for (const p of batch) p.reject(failure);
          for (const p of this.#queue) p.reject(failure);
          this.#queue = [];
          return;
        }
        this.records += count;
        this.#size = offset;
        for (const [i, p] of batch.entries()) p.onWritten?.(offsets[i] as number);
        for (const p of batch) p.resolve();
      }
    } catch (error) {
      // Nothing above should throw; if it does, fail loudly rather than leave callers waiting.
      this.#failed = error;
      const failure = storageError(`the log ${this.path} failed`, error);
      for (const p of this.#queue) p.reject(failure);
      this.#queue = [];
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * Compacts when the owner asks for it. A failure before the new file is in place leaves
   * the old log as it was (compaction is tried again 1,000 batches later); a failure after
   * that marks the log failed, since appends could no longer reach the file.
   */
  async #maybeCompact(): Promise<void> {
    if (this.#skipCompaction > 0) {
      this.#skipCompaction--;
      return;
    }
    try {
      const compaction = await this.beforeBatch?.();
      if (compaction) await this.#rewrite(compaction);
    } catch {
      this.#skipCompaction = 1_000;
    }
  }

  /** Replaces the log with `lines` atomically: temp file, sync, rename, sync directory. */
  async #rewrite(compaction: Compaction): Promise<void> {
    const { lines } = compaction;
    const tmp = `${this.path}.compact`;
    const out = await open(tmp, 'w');
    const offsets: number[] = [];
    let size = 0;
    try {
      let chunk = '';
      for (const line of lines) {
        offsets.push(size);
        size += Buffer.byteLength(line, 'utf8');
        chunk += line;
        if (chunk.length > 1 << 20) {
          await writeAll(out, Buffer.from(chunk, 'utf8'));
          chunk = '';
        }
      }
      if (chunk) await writeAll(out, Buffer.from(chunk, 'utf8'));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.path);
    await syncDirectory(dirname(this.path));
    const old = this.#handle;
    try {
      this.#handle = await open(this.path, constants.O_RDWR | constants.O_APPEND);
    } catch (error) {
      this.#failed = error;
      throw error;
    }
    this.records = lines.length;
    this.#size = size;
    compaction.done(offsets);
    await old.close();
  }
}

function closed(): RelayError {
  return new RelayError('ERR_RELAY_OUTBOX_CLOSED', 'the store is closed');
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, null);
    offset += bytesWritten;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not supported on every platform (Windows); the rename itself is atomic.
  }
}

/**
 * Reads every line of the file; calls `onRecord` for each parsed one; cuts off a bad tail.
 * Reads in chunks so a large log does not need one string of its size.
 */
async function replayFile(
  handle: FileHandle,
  path: string,
  onRecord: (record: unknown, offset: number, length: number) => void,
): Promise<ReplayResult> {
  const { size } = await handle.stat();
  const chunkSize = 1 << 20;
  let position = 0;
  let carry: Buffer = Buffer.alloc(0);
  let carryStart = 0;
  let goodEnd = 0; // byte offset just after the last good record
  let records = 0;
  let badAt: number | undefined; // offset of the first bad line not yet followed by a good one
  let badCause: unknown;
  while (position < size) {
    // eslint-disable-next-line @microsoft/sdl/no-unsafe-alloc -- filled by read(); only the first bytesRead bytes are parsed
    const buf = Buffer.allocUnsafe(Math.min(chunkSize, size - position));
    const { bytesRead } = await handle.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf;
    const dataLength = carry.length > 0 ? data.length : bytesRead;
    let start = 0;
    for (let nl = data.indexOf(NEWLINE, 0); nl !== -1 && nl < dataLength; ) {
      const lineStart = carryStart + start;
      const line = data.toString('utf8', start, nl);
      let ok = false;
      if (line.trim() !== '') {
        try {
          onRecord(JSON.parse(line), lineStart, carryStart + nl + 1 - lineStart);
          ok = true;
        } catch (error) {
          badCause = error;
        }
      } else ok = badAt === undefined; // blank lines are harmless unless after a bad one
      if (ok) {
        if (badAt !== undefined && line.trim() !== '')
          throw storageError(
            `${path} is corrupt at byte ${badAt} (a bad record followed by good ones)`,
            badCause,
          );
        if (line.trim() !== '') records++;
        goodEnd = carryStart + nl + 1;
      } else if (badAt === undefined) badAt = lineStart;
      start = nl + 1;
      nl = data.indexOf(NEWLINE, start);
    }
    carry = Buffer.from(data.subarray(start, dataLength));
    carryStart += start;
  }
  const truncatedBytes = size - goodEnd;
  if (truncatedBytes > 0) {
    await handle.truncate(goodEnd);
    await handle.sync();
  }
  return { records, size: goodEnd, truncatedBytes };
}
