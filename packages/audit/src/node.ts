/**
 * `@fluxel/audit/node`: the Node adapters — the segment-file store with fsync batching,
 * file-based sink cursors, JSONL file and stdout sinks, syslog over TCP/TLS, and
 * `verifyPath` for log directories.
 *
 * @packageDocumentation
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CursorStore, Sink } from './delivery.js';
import { AuditError } from './errors.js';
import { listSegments } from './file-store.js';
import { type RecordFormat, renderRecord } from './format.js';
import { Verifier, type VerifyOptions, type VerifyReport } from './verify.js';

export type { CursorStore, Sink } from './delivery.js';
export type { Actor, AuditEvent, Geo, Outcome, Target } from './event.js';
export { FileStore, type FileStoreOptions, listSegments, segmentName } from './file-store.js';
export type { RecordFormat } from './format.js';
export type { VerifyingKey } from './keys.js';
export type { LogStore, LogStoreState } from './log.js';
export type { Checkpoint, CheckpointReason, StoredRecord } from './record.js';
export { formatSyslog, type SyslogOptions, syslogSink } from './syslog.js';
export type {
  Finding,
  FindingCode,
  FirstUseKey,
  VerifyOptions,
  VerifyReport,
} from './verify.js';

/**
 * Sink cursors in one small JSON file, replaced atomically (write, fsync, rename).
 *
 * Several sinks may share one store: their writes are serialised (each writes the newest
 * cursors of all sinks), and each write goes through a temporary file of its own, so two
 * stores on one path never rename each other's half-written file away.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCursorStore } from '@fluxel/audit/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'audit-cursors-'));
 * try {
 *   const cursors = new FileCursorStore(join(dir, 'audit-cursors.json'));
 *   await cursors.set('splunk', 42);
 *   assert.deepEqual(JSON.parse(readFileSync(cursors.path, 'utf8')), { splunk: 42 });
 *   // The next process resumes delivery where this one stopped.
 *   assert.equal(await new FileCursorStore(cursors.path).get('splunk'), 42);
 * } finally {
 *   rmSync(dir, { recursive: true, force: true });
 * }
 * ```
 */
export class FileCursorStore implements CursorStore {
  readonly path: string;
  #cache: Record<string, number> | undefined;
  #loading: Promise<Record<string, number>> | undefined;
  #writes: Promise<void> = Promise.resolve();
  #written = 0;

  constructor(path: string) {
    if (typeof path !== 'string' || path.length === 0)
      throw new AuditError(
        'ERR_AUDIT_INVALID_ARGUMENT',
        'FileCursorStore needs the path of its JSON file, e.g. new FileCursorStore("/var/lib/app/audit-cursors.json")',
      );
    this.path = path;
  }

  #load(): Promise<Record<string, number>> {
    this.#loading ??= readFile(this.path, 'utf8').then(
      (text) => JSON.parse(text) as Record<string, number>,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        this.#loading = undefined;
        throw new AuditError('ERR_AUDIT_STORAGE', `cannot read cursors ${this.path}`, {
          cause: error,
        });
      },
    );
    return this.#loading;
  }

  async get(sink: string): Promise<number> {
    return (this.#cache ?? (await this.#load()))[sink] ?? 0;
  }

  async set(sink: string, seq: number): Promise<void> {
    if (!this.#cache) {
      const loaded = await this.#load();
      this.#cache ??= { ...loaded };
    }
    this.#cache[sink] = seq;
    // Queued behind the write in flight; a failed write does not poison the ones after it.
    const write = this.#writes.catch(() => {}).then(() => this.#write());
    this.#writes = write;
    await write;
  }

  async #write(): Promise<void> {
    const cursors = JSON.stringify(this.#cache);
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.${++this.#written}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(cursors);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}

/**
 * Options of {@link jsonlFileSink}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { jsonlFileSink, type JsonlFileSinkOptions } from '@fluxel/audit/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'audit-jsonl-'));
 * try {
 *   const store = new MemoryStore();
 *   const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 *   await log.close();
 *   const options: JsonlFileSinkOptions = { name: 'ecs-file', format: 'ecs', fsync: false };
 *   const sink = jsonlFileSink(join(dir, 'audit.ecs.jsonl'), options);
 *   await sink.send(store.records.filter((r) => r.kind === 'e'));
 *   await sink.close?.();
 *   const doc = JSON.parse(readFileSync(join(dir, 'audit.ecs.jsonl'), 'utf8'));
 *   assert.equal(doc.event.action, 'auth.login');
 * } finally {
 *   rmSync(dir, { recursive: true, force: true });
 * }
 * ```
 */
export interface JsonlFileSinkOptions {
  readonly name?: string;
  /** `record` (default: the raw line, verifiable), `event` or `ecs`. */
  readonly format?: RecordFormat;
  /** fsync after each batch (default true). */
  readonly fsync?: boolean;
}

/**
 * Appends one JSON line per record to a file.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { jsonlFileSink, verifyPath } from '@fluxel/audit/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'audit-jsonl-'));
 * try {
 *   const signingKey = generateSigningKey();
 *   const log = await AuditLog.open({ store: new MemoryStore(), signingKey });
 *   // Raw record lines, checkpoints included: the copy verifies on its own.
 *   const runner = await attachSink(log, { sink: jsonlFileSink(join(dir, 'copy.log')), filter: () => true });
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 *   await log.close();
 *   await runner.drain();
 *   await runner.stop();
 *   assert.equal((await verifyPath(join(dir, 'copy.log'), { publicKeys: [signingKey] })).ok, true);
 * } finally {
 *   rmSync(dir, { recursive: true, force: true });
 * }
 * ```
 */
export function jsonlFileSink(path: string, options: JsonlFileSinkOptions = {}): Sink {
  const format = options.format ?? 'record';
  let fh: FileHandle | undefined;
  return {
    name: options.name ?? `jsonl:${path}`,
    async send(records) {
      if (!fh) {
        await mkdir(dirname(path), { recursive: true });
        fh = await open(path, 'a');
      }
      let text = '';
      for (const record of records)
        text += `${format === 'record' ? record.line : renderRecord(record, format)}\n`;
      await fh.write(text);
      if (options.fsync ?? true) await fh.datasync();
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}

/**
 * A writable stream, as far as {@link stdoutSink} needs one (`process.stdout` is one).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { type LineStream, stdoutSink } from '@fluxel/audit/node';
 *
 * // Anything with a Node-style write(text, callback): process.stdout, a socket, a file stream.
 * const written: string[] = [];
 * const stream: LineStream = {
 *   write: (text, callback) => {
 *     written.push(text);
 *     callback();
 *     return true;
 *   },
 * };
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * await stdoutSink({ stream }).send(store.records.filter((r) => r.kind === 'e'));
 * assert.equal(JSON.parse(written[0]!).action, 'auth.login');
 * ```
 */
export interface LineStream {
  write(text: string, callback: (error?: Error | null) => void): unknown;
}

/**
 * Writes one JSON line per record to standard output (or another stream).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { PassThrough } from 'node:stream';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { stdoutSink } from '@fluxel/audit/node';
 *
 * // Default: one JSON line per event on process.stdout (for a log shipper); here into a stream.
 * const stream = new PassThrough();
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const runner = await attachSink(log, { sink: stdoutSink({ format: 'ecs', stream }) });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await runner.drain();
 * await runner.stop();
 * await log.close();
 * assert.equal(JSON.parse(String(stream.read())).event.action, 'auth.login');
 * ```
 */
export function stdoutSink(
  options: { name?: string; format?: RecordFormat; stream?: LineStream } = {},
): Sink {
  const format = options.format ?? 'event';
  const stream: LineStream = options.stream ?? process.stdout;
  return {
    name: options.name ?? 'stdout',
    async send(records) {
      let text = '';
      for (const record of records)
        text += `${format === 'record' ? record.line : renderRecord(record, format)}\n`;
      await new Promise<void>((resolve, reject) => {
        stream.write(text, (error?: Error | null) => (error ? reject(error) : resolve()));
      });
    },
  };
}

/**
 * Verifies a log on disk: a directory of segment files (`<seq>.log`) or a single file.
 * Streams the files; memory stays constant. An empty segment file or a directory without
 * segment files is the finding `empty-log` unless `allowEmpty` is set.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AuditLog, generateSigningKey } from '@fluxel/audit';
 * import { FileStore, verifyPath } from '@fluxel/audit/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'audit-verify-'));
 * try {
 *   const signingKey = generateSigningKey();
 *   const log = await AuditLog.open({ store: new FileStore(dir), signingKey });
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 *   await log.close();
 *   const report = await verifyPath(dir, { publicKeys: [signingKey] }); // a directory or one segment file
 *   assert.equal(report.ok, true);
 *   assert.equal(report.events, 1);
 * } finally {
 *   rmSync(dir, { recursive: true, force: true });
 * }
 * ```
 */
export async function verifyPath(
  path: string,
  options: VerifyOptions & { onTotal?: (bytes: number) => void } = {},
): Promise<VerifyReport> {
  const verifier = new Verifier(options); // checks the options before anything is read
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', `cannot read ${path}`, { cause });
  }
  const files = info.isDirectory()
    ? (await listSegments(path)).map((s) => ({ name: s.name, path: s.path }))
    : [{ name: path.split(/[\\/]/).pop() as string, path }];
  if (options.onTotal) {
    let total = 0;
    for (const f of files) total += (await stat(f.path)).size;
    options.onTotal(total);
  }
  for (const file of files) {
    for await (const chunk of createReadStream(file.path, { highWaterMark: 1 << 20 }))
      verifier.push(chunk as Buffer, file.name);
    verifier.endSource();
  }
  return verifier.finish();
}
