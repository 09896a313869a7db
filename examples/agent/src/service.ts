/**
 * The service loop: drop folder → durable outbox → relay; relay mailbox → `inbox/`.
 */
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import {
  type Deliver,
  FileDedupeStore,
  FileOutboxStore,
  type MailboxInboundEvent as InboundEvent,
  MailboxConsumer,
  type NodeRelayClient,
  Outbox,
  type OutboxEvent,
  type OutboxStats,
  relayMailboxSource,
} from '@fluxel/relay-client/node';
import { type AgentPaths, ensureFolders, writeFileAtomic } from './config.ts';
import { type ScanResult, scanDropFolder, unwrap } from './drop.ts';

/** Sends an outbox message with the idempotency key fixed when its file was claimed. */
export function agentDeliver(client: Pick<NodeRelayClient, 'send'>): Deliver {
  return async (message, { signal }) => {
    const { idempotencyKey, payload } = unwrap(message);
    await client.send(
      {
        connection: message.connection,
        idempotencyKey,
        body: { operation: message.operation, payload: payload as never },
      },
      { signal },
    );
  };
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

export interface RuntimeOptions {
  readonly paths: AgentPaths;
  readonly client: NodeRelayClient;
  readonly now?: () => number;
  /** Long-poll wait of the mailbox in seconds (0 for `--once`). */
  readonly waitSeconds: number;
  /** A human line plus structured fields (ids and codes only: never payloads or secrets). */
  readonly log: (line: string, fields?: Record<string, unknown>) => void;
  readonly concurrency?: number;
}

export interface Runtime {
  readonly outbox: Outbox;
  readonly consumer: MailboxConsumer;
  readonly store: FileOutboxStore;
  scan(): Promise<ScanResult>;
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
  const outbox = new Outbox({
    store,
    deliver: agentDeliver(client),
    now,
    concurrency: options.concurrency ?? 8,
    onEvent: (event: OutboxEvent) => {
      if (event.type === 'retry')
        log(
          `outbox: ${event.message.id} attempt ${event.attempt} failed (${event.error.code}); next at ${new Date(event.nextAttemptAt).toISOString()}`,
          {
            event: 'outbox.retry',
            messageId: event.message.id,
            attempt: event.attempt,
            code: event.error.code,
            nextAttemptAt: event.nextAttemptAt,
          },
        );
      else if (event.type === 'dead')
        log(`outbox: ${event.message.id} dead-lettered (${event.reason}: ${event.error.code})`, {
          event: 'outbox.dead',
          messageId: event.message.id,
          reason: event.reason,
          code: event.error.code,
        });
      else if (event.type === 'error')
        log(`outbox: ${event.error.code}: ${event.error.message}`, {
          event: 'outbox.error',
          code: event.error.code,
        });
    },
  });
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
        const r = await scanDropFolder(paths, outbox);
        total.enqueued += r.enqueued;
        total.rejected += r.rejected;
      } while (again);
      return total;
    })();
    try {
      return await scanning;
    } finally {
      scanning = undefined;
    }
  };
  return {
    outbox,
    consumer,
    store,
    scan,
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

/** Runs until `signal` aborts: watches the drop folder, delivers, picks up events. */
export async function runService(
  runtime: Runtime,
  paths: AgentPaths,
  signal: AbortSignal,
  log: (line: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
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
  await runtime.scan();
  const poll = setInterval(rescan, 2000); // watch events can be lost (network shares)
  const state = setInterval(() => {
    runtime.writeState({ running: true }).catch(() => {});
  }, 5000);
  await runtime.writeState({ running: true });
  log(`running: watching ${paths.outgoing}, inbox ${paths.inbox}`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log('stopping…');
  clearInterval(poll);
  clearInterval(state);
  watcher?.close();
}
