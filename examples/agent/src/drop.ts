/**
 * The drop folder: one JSON record per file, `{ connection, operation, payload, orderingKey? }`.
 *
 * Exactly once, even when the agent is killed at any moment: a file is first *claimed* by an
 * atomic rename into `outgoing/.claimed/<idempotency-key>__<name>`, which fixes its
 * idempotency key on disk; then it is enqueued durably with that key as the outbox message id
 * (which `relayDeliver` sends as the idempotency key) and the file name and operation as
 * metadata; then the claimed file is removed. A crash before the removal enqueues the same
 * record under the same id after restart: a no-op while the outbox still holds it, and the
 * relay runs a key at most once after it was delivered.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Outbox, OutboxMessage } from '@fluxel/relay-client/node';
import { ConnectionId, JsonValue, OperationName, RelayError } from '@fluxel/relay-client/node';
import { z } from 'zod';
import { type AgentPaths, fsyncDir, writeFileAtomic } from './config.ts';

/** Largest record file accepted (the relay's body limit). */
export const MAX_RECORD_BYTES = 256 * 1024;

const DropRecord = z.strictObject({
  connection: ConnectionId,
  operation: OperationName,
  payload: JsonValue,
  orderingKey: z.string().min(1).max(200).optional(),
});

/** The metadata the agent stores with each outbox message: which file, which operation. */
export interface RecordMetadata {
  readonly [key: string]: string;
  readonly file: string;
  readonly operation: string;
}

/** The drop file a message came from (its metadata), or `''` for a message without one. */
export function fileOf(message: Pick<OutboxMessage, 'metadata'>): string {
  const file = message.metadata?.file;
  return typeof file === 'string' ? file : '';
}

const CLAIM = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})__(.+)$/;

function isCandidate(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.');
}

export interface ScanResult {
  enqueued: number;
  rejected: number;
}

/** Told about each file the agent refuses (moved to `rejected/`), by name. */
export type OnRejected = (name: string, reason: string) => void;

function reject(paths: AgentPaths, claimedPath: string, name: string, reason: string): void {
  let target = name;
  for (let i = 1; existsSync(join(paths.rejected, target)); i++) target = `${name}.${i}`;
  renameSync(claimedPath, join(paths.rejected, target));
  writeFileAtomic(
    join(paths.rejected, `${target}.error.txt`),
    `${new Date().toISOString()} ${name}: ${reason}\n`,
    0o600,
  );
  fsyncDir(paths.claimed);
}

/** Validates a record; returns the reason when it is refused. */
export function checkRecord(
  text: string,
): { ok: true; record: z.output<typeof DropRecord> } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not valid JSON (${(error as Error).message})` };
  }
  const parsed = DropRecord.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') : '(record)'}: ${i.message}`)
      .join('; ');
    return {
      ok: false,
      reason: `not a record { connection, operation, payload, orderingKey? }: ${issues}`,
    };
  }
  return { ok: true, record: parsed.data };
}

async function processClaimed(
  paths: AgentPaths,
  outbox: Outbox,
  claimedName: string,
  result: ScanResult,
  onRejected: OnRejected,
): Promise<void> {
  const match = CLAIM.exec(claimedName);
  if (!match) return;
  const [, key, name] = match as unknown as [string, string, string];
  const claimedPath = join(paths.claimed, claimedName);
  const size = statSync(claimedPath).size;
  if (size > MAX_RECORD_BYTES) {
    refuse(`larger than ${MAX_RECORD_BYTES} bytes (${size})`);
    return;
  }
  const checked = checkRecord(readFileSync(claimedPath, 'utf8'));
  if (!checked.ok) {
    refuse(checked.reason);
    return;
  }
  const { connection, operation, payload, orderingKey } = checked.record;
  const metadata: RecordMetadata = { file: name, operation };
  try {
    await outbox.enqueue({ id: key, connection, operation, payload, orderingKey, metadata });
  } catch (error) {
    // Only when a claimed file was changed after its claim was enqueued: keep the outbox's one.
    if (!RelayError.isInstance(error) || error.code !== 'ERR_RELAY_OUTBOX_DUPLICATE_ID')
      throw error;
    refuse(`a different record with idempotency key ${key} is already in the outbox`);
    return;
  }
  unlinkSync(claimedPath);
  result.enqueued++;

  function refuse(reason: string): void {
    reject(paths, claimedPath, name, reason);
    result.rejected++;
    onRejected(name, reason);
  }
}

/**
 * Takes over claims left by a previous run (same idempotency keys), then claims and enqueues
 * every `*.json` in the drop folder, oldest name first. Names starting with `.` are ignored,
 * so writers can write `.name.json` (or `name.tmp`) and rename when complete.
 */
export async function scanDropFolder(
  paths: AgentPaths,
  outbox: Outbox,
  onRejected: OnRejected = () => {},
): Promise<ScanResult> {
  const result: ScanResult = { enqueued: 0, rejected: 0 };
  for (const claimed of readdirSync(paths.claimed).sort())
    await processClaimed(paths, outbox, claimed, result, onRejected);
  const names = readdirSync(paths.outgoing, { withFileTypes: true })
    .filter((d) => d.isFile() && isCandidate(d.name))
    .map((d) => d.name)
    .sort();
  // In chunks: claim up to CLAIM_CHUNK files (renames made durable by one fsync of each
  // folder, before any of them is enqueued), then enqueue them together — in name order, so
  // records with one ordering key keep their order — which the outbox writes with one
  // fdatasync (group commit).
  for (let start = 0; start < names.length; start += CLAIM_CHUNK) {
    const claimedNames: string[] = [];
    for (const name of names.slice(start, start + CLAIM_CHUNK)) {
      const claimedName = `${randomUUID()}__${name}`;
      try {
        renameSync(join(paths.outgoing, name), join(paths.claimed, claimedName));
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') continue; // gone meanwhile
        throw error;
      }
      claimedNames.push(claimedName);
    }
    if (claimedNames.length === 0) continue;
    fsyncDir(paths.claimed);
    fsyncDir(paths.outgoing);
    await Promise.all(
      claimedNames.map((claimedName) =>
        processClaimed(paths, outbox, claimedName, result, onRejected),
      ),
    );
  }
  return result;
}

/** Files claimed, then enqueued together, per step of a scan. */
const CLAIM_CHUNK = 100;
