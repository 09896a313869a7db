/**
 * Outboxes written by agents before the outbox took caller ids: each message carried
 * `{ idempotencyKey, file, payload }` as its payload under a minted id. Such a message is
 * converted into the current form (id = the idempotency key, the record's payload, the file
 * name and operation as metadata) before the outbox starts — waiting ones when the runtime
 * opens, dead ones when `outbox retry` puts them back — so `relayDeliver` sends exactly what
 * the old agent would have sent, under the same idempotency key.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Outbox, OutboxMessage, OutboxStore } from '@fluxel/relay-client/node';
import { writeFileAtomic } from './config.ts';
import type { RecordMetadata } from './drop.ts';

/** Written into the outbox folder once it holds no legacy message (checked only once). */
const CONVERTED = 'converted-v2';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface LegacyEnvelope {
  readonly idempotencyKey: string;
  readonly file: string;
  readonly payload: unknown;
}

/** The old envelope of a message, if it is one (no metadata, the envelope as its payload). */
export function legacyEnvelope(message: OutboxMessage): LegacyEnvelope | undefined {
  if (message.metadata !== undefined) return undefined;
  const p = message.payload as Partial<LegacyEnvelope> | null;
  if (
    p !== null &&
    typeof p === 'object' &&
    !Array.isArray(p) &&
    typeof p.idempotencyKey === 'string' &&
    UUID.test(p.idempotencyKey) &&
    typeof p.file === 'string' &&
    'payload' in p &&
    Object.keys(p).length === 3
  )
    return p as LegacyEnvelope;
  return undefined;
}

/** The file a message came from: its metadata, or the old envelope's. */
export function legacyFile(message: OutboxMessage): string | undefined {
  return legacyEnvelope(message)?.file;
}

/**
 * Enqueues the current form of a legacy message. Idempotent: after a crash between this and
 * the removal of the old message, doing it again finds the converted one in the outbox.
 */
export async function enqueueConverted(outbox: Outbox, message: OutboxMessage): Promise<boolean> {
  const envelope = legacyEnvelope(message);
  if (!envelope) return false;
  const metadata: RecordMetadata = { file: envelope.file, operation: message.operation };
  await outbox.enqueue({
    id: envelope.idempotencyKey,
    connection: message.connection,
    operation: message.operation,
    payload: envelope.payload,
    orderingKey: message.orderingKey,
    metadata,
  });
  return true;
}

/**
 * Converts every waiting legacy message (before the outbox starts); returns how many. Reading
 * the backlog back costs a pass over the log, so it runs once per outbox folder: afterwards a
 * marker file in the folder says there is nothing left to convert.
 */
export async function convertLegacyOutbox(
  outbox: Outbox,
  store: OutboxStore,
  outboxDir: string,
): Promise<number> {
  const marker = join(outboxDir, CONVERTED);
  if (existsSync(marker)) return 0;
  let converted = 0;
  if ((await outbox.stats()).depth > 0)
    for (const message of await outbox.pending()) {
      if (!(await enqueueConverted(outbox, message))) continue;
      await store.complete(message.id);
      converted++;
    }
  writeFileAtomic(marker, `${new Date().toISOString()}\n`);
  return converted;
}
