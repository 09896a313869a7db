/**
 * The service loop: drop folder → durable outbox → relay; relay mailbox → `inbox/`.
 */
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import {
  FileDedupeStore,
  FileOutboxStore,
  type MailboxInboundEvent as InboundEvent,
  MAX_SEND_BATCH_ITEMS,
  MailboxConsumer,
  type NodeRelayClient,
  Outbox,
  type OutboxEvent,
  type OutboxMessage,
  type OutboxStats,
  relayDeliver,
  relayDeliverBatch,
  relayMailboxSource,
} from '@fluxel/relay-client/node';
import { clockTolerant } from './clock.ts';
import { type AgentPaths, ensureFolders, writeFileAtomic } from './config.ts';
import { isStorageFailure, storageReason } from './disk-full.ts';
import { fileOf, type ScanResult, scanDropFolder } from './drop.ts';
import { convertLegacyOutbox } from './legacy.ts';

type Log = (line: string, fields?: Record<string, unknown>) => void;

/** Which record a message is, for people and for the structured log: file name and operation. */
function recordFields(message: OutboxMessage) {
  return { messageId: message.id, file: fileOf(message), operation: message.operation };
}

/** Text from outside (file names, the relay's detail) for a plain log line: no control characters. */
export function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

/** How a plain log line names a record: its file name, else its id. */
function shown(r: { file: string; messageId: string }): string {
  return printable(r.file) || r.messageId;
}

/** One log line per delivered, retried and refused (dead-lettered) record, by file name. */
export function logOutboxEvent(log: Log, event: OutboxEvent): void {
  if (event.type === 'delivered') {
    const r = recordFields(event.message);
    log(`delivered ${shown(r)} (${r.operation})`, {
      event: 'outbox.delivered',
      ...r,
      attempt: event.attempt,
    });
  } else if (event.type === 'retry') {
    const r = recordFields(event.message);
    log(
      `outbox: ${shown(r)} attempt ${event.attempt} failed (${r.operation}: ${event.error.code}); next at ${new Date(event.nextAttemptAt).toISOString()}`,
      {
        event: 'outbox.retry',
        ...r,
        attempt: event.attempt,
        code: event.error.code,
        nextAttemptAt: event.nextAttemptAt,
      },
    );
  } else if (event.type === 'dead') {
    const r = recordFields(event.message);
    const e = event.error;
    const why =
      event.reason === 'horizon'
        ? `not delivered within the dead-letter horizon (last: ${e.problemCode ?? e.code})`
        : `${e.problemCode ?? e.code}: ${printable(e.detail ?? e.message)}`;
    log(`refused ${shown(r)} (${r.operation}): ${why} — see "fluxel-agent outbox list"`, {
      event: 'outbox.dead',
      ...r,
      reason: event.reason,
      code: e.code,
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(e.problemCode !== undefined ? { problemCode: e.problemCode } : {}),
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
    });
  } else if (event.type === 'error')
    log(`outbox: ${event.error.code}: ${event.error.message}`, {
      event: 'outbox.error',
      code: event.error.code,
    });
}

/** A file name for an event id (ids are opaque; anything unusual is percent-encoded). */
export function inboxName(id: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(id)
    ? `${id}.json`
    : `${encodeURIComponent(id).replace(/\./g, '%2E')}.json`;
}

export function writeInbox(paths: AgentPaths, event: InboundEvent): string {
  const file = join(paths.inbox, inboxName(event.id));
  writeFileAtomic(file, `${JSON.stringify(event, null, 2)}\n`);
  return file;
}

/** Batch requests the agent keeps under way at once. */
const BATCHES_IN_FLIGHT = 4;

export interface RuntimeOptions {
  readonly paths: AgentPaths;
  readonly client: NodeRelayClient;
  readonly now?: () => number;
  /** Long-poll wait of the mailbox in seconds (0 for `--once`). */
  readonly waitSeconds: number;
  /** A human line plus structured fields (ids and codes only: never payloads or secrets). */
  readonly log: Log;
  readonly concurrency?: number;
  /**
   * Records per request to the relay (1–100, default 100): the outbox's due messages go as
   * `sendBatch` requests, each record with its own key and outcome; 1 sends each alone.
   */
  readonly batchSize?: number;
}

export interface Runtime {
  readonly outbox: Outbox;
  readonly consumer: MailboxConsumer;
  readonly store: FileOutboxStore;
  scan(): Promise<ScanResult>;
  /** Settles with the first outbox storage failure (the outbox refuses writes until reopened). */
  readonly storageFailed: Promise<Error>;
  writeState(extra?: Record<string, unknown>): Promise<OutboxStats>;
  close(): Promise<void>;
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { paths, client, log } = options;
  ensureFolders(paths);
  const now = options.now ?? Date.now;
  const store = await FileOutboxStore.open(paths.outbox, { now });
  let dedupe: FileDedupeStore;
  try {
    dedupe = await FileDedupeStore.open(paths.mailbox, { now });
  } catch (error) {
    await store.close();
    throw error;
  }
  if (store.recovery.previousProcessCrashed)
    log(
      `outbox: the previous run stopped without closing; released ${store.recovery.releasedLeases} lease(s)`,
    );
  // The relay client's own delivery: the message id (the claim's key) is the idempotency key.
  // Due messages go in batches (one request, one proof, each record its own outcome); the
  // outbox leases a whole batch at once.
  const batchSize = options.batchSize ?? MAX_SEND_BATCH_ITEMS;
  let failStorage: (error: Error) => void = () => {};
  const storageFailed = new Promise<Error>((resolve) => {
    failStorage = resolve;
  });
  const outbox = new Outbox({
    store,
    deliver: clockTolerant(
      batchSize > 1
        ? relayDeliverBatch(client, {
            maxBatch: batchSize,
            onRequest: ({ size }) =>
              log(`relay: ${size} record(s) in one request`, { event: 'relay.request', size }),
          })
        : relayDeliver(client),
      log,
    ),
    now,
    // Room for BATCHES_IN_FLIGHT whole batches at once, so the next request is under way while
    // one waits for its answer.
    concurrency: Math.max(options.concurrency ?? 8, batchSize * BATCHES_IN_FLIGHT),
    onEvent: (event: OutboxEvent) => {
      logOutboxEvent(log, event);
      if (event.type === 'error' && isStorageFailure(event.error)) failStorage(event.error);
    },
  });
  try {
    const converted = await convertLegacyOutbox(outbox, store, paths.outbox);
    if (converted > 0)
      log(`outbox: converted ${converted} message(s) written by an earlier agent version`);
  } catch (error) {
    await outbox.close();
    await dedupe.close();
    throw error;
  }
  const consumer = new MailboxConsumer({
    source: relayMailboxSource(client),
    dedupe,
    waitSeconds: options.waitSeconds,
    now,
    handler: async (event) => {
      writeInbox(paths, event);
    },
    onEvent: (event) => {
      if (event.type === 'handled')
        log(`inbox: ${event.event.id} (${event.event.type})`, {
          event: 'inbox.written',
          eventId: event.event.id,
          type: event.event.type,
          connection: event.event.connection,
        });
      else if (event.type === 'source-error' || event.type === 'ack-error')
        log(`mailbox: ${event.type}: ${(event.error as Error).message}`);
      else if (event.type === 'handler-error')
        log(`inbox: cannot write ${event.event.id}: ${(event.error as Error).message}`);
    },
  });
  let scanning: Promise<ScanResult> | undefined;
  let again = false;
  const scan = async (): Promise<ScanResult> => {
    if (scanning) {
      again = true;
      return scanning;
    }
    const total: ScanResult = { enqueued: 0, rejected: 0 };
    scanning = (async () => {
      do {
        again = false;
        const r = await scanDropFolder(paths, outbox, (name, reason) =>
          log(`rejected ${printable(name)}: ${printable(reason)}`, {
            event: 'drop.rejected',
            file: name,
            reason,
          }),
        );
        total.enqueued += r.enqueued;
        total.rejected += r.rejected;
      } while (again);
      return total;
    })();
    try {
      return await scanning;
    } catch (error) {
      if (isStorageFailure(error)) failStorage(error);
      throw error;
    } finally {
      scanning = undefined;
    }
  };
  return {
    outbox,
    consumer,
    store,
    scan,
    storageFailed,
    async writeState(extra = {}) {
      const stats = await outbox.stats();
      writeFileAtomic(
        paths.state,
        JSON.stringify({
          pid: process.pid,
          at: new Date(now()).toISOString(),
          outbox: stats,
          ...extra,
        }),
      );
      return stats;
    },
    async close() {
      if (scanning) await scanning.catch(() => {});
      await consumer.stop();
      await outbox.close();
      await dedupe.close();
    },
  };
}

/**
 * Runs until `signal` aborts (resolves undefined) or the outbox fails to write (resolves the
 * failure; the caller closes the runtime and reopens once the disk takes writes again):
 * watches the drop folder, delivers, picks up events.
 */
export async function runService(
  runtime: Runtime,
  paths: AgentPaths,
  signal: AbortSignal,
  log: Log,
): Promise<Error | undefined> {
  let failed: Error | undefined;
  const rescan = () => {
    runtime.scan().catch((error: Error) => log(`drop folder: ${error.message}`));
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(paths.outgoing, { persistent: false }, rescan);
    watcher.on('error', (error) => log(`drop folder watch: ${error.message}`));
  } catch (error) {
    log(`drop folder watch unavailable (${(error as Error).message}); polling only`);
  }
  runtime.outbox.start();
  runtime.consumer.start();
  await runtime.scan().catch((error: Error) => {
    if (!isStorageFailure(error)) throw error;
  });
  const poll = setInterval(rescan, 2000); // watch events can be lost (network shares)
  const state = setInterval(() => {
    runtime.writeState({ running: true }).catch(() => {});
  }, 5000);
  await runtime.writeState({ running: true });
  log(`running: watching ${paths.outgoing}, inbox ${paths.inbox}`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
    void runtime.storageFailed.then((error) => {
      failed = error;
      resolve();
    });
  });
  clearInterval(poll);
  clearInterval(state);
  watcher?.close();
  if (signal.aborted) {
    log('stopping…');
    return undefined;
  }
  if (failed)
    log(
      `outbox: cannot write ${paths.outbox}: ${storageReason(failed)} — stopped claiming new files (they stay in ${paths.outgoing}; nothing is lost); resuming when the outbox takes writes again`,
      { event: 'outbox.storage-failed', code: (failed as { code?: string }).code },
    );
  return failed;
}
