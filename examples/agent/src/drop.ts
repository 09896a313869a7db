/**
 * The drop folder: one JSON record per file, `{ connection, operation, payload, orderingKey? }`.
 *
 * Exactly once, even when the agent is killed at any moment: a file is first *claimed* by an
 * atomic rename into `outgoing/.claimed/<idempotency-key>__<name>`, which fixes its
 * idempotency key on disk; then it is enqueued durably (the key travels inside the outbox
 * message); then the claimed file is removed. A crash before the removal re-enqueues the same
 * record under the same key after restart, and the relay runs a key at most once.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Outbox, OutboxMessage } from '@fluxel/relay-client/node';
import { ConnectionId, JsonValue, OperationName } from '@fluxel/relay-client/node';
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

/** What the outbox holds as the payload: the record's payload plus its idempotency key. */
export interface Envelope {
  readonly idempotencyKey: string;
  readonly file: string;
  readonly payload: unknown;
}

export function unwrap(message: OutboxMessage): Envelope {
  const p = message.payload as Partial<Envelope> | null;
  if (p && typeof p === 'object' && typeof p.idempotencyKey === 'string' && 'payload' in p)
    return p as Envelope;
  return { idempotencyKey: message.id, file: '', payload: message.payload };
}

const CLAIM = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})__(.+)$/;

function isCandidate(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.');
}

export interface ScanResult {
  enqueued: number;
  rejected: number;
}

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
): Promise<void> {
  const match = CLAIM.exec(claimedName);
  if (!match) return;
  const [, key, name] = match as unknown as [string, string, string];
  const claimedPath = join(paths.claimed, claimedName);
  const size = statSync(claimedPath).size;
  if (size > MAX_RECORD_BYTES) {
    reject(paths, claimedPath, name, `larger than ${MAX_RECORD_BYTES} bytes (${size})`);
    result.rejected++;
    return;
  }
  const checked = checkRecord(readFileSync(claimedPath, 'utf8'));
  if (!checked.ok) {
    reject(paths, claimedPath, name, checked.reason);
    result.rejected++;
    return;
  }
  const { connection, operation, payload, orderingKey } = checked.record;
  const envelope: Envelope = { idempotencyKey: key, file: name, payload };
  await outbox.enqueue({ connection, operation, payload: envelope, orderingKey });
  unlinkSync(claimedPath);
  result.enqueued++;
}

/**
 * Takes over claims left by a previous run (same idempotency keys), then claims and enqueues
 * every `*.json` in the drop folder, oldest name first. Names starting with `.` are ignored,
 * so writers can write `.name.json` (or `name.tmp`) and rename when complete.
 */
export async function scanDropFolder(paths: AgentPaths, outbox: Outbox): Promise<ScanResult> {
  const result: ScanResult = { enqueued: 0, rejected: 0 };
  for (const claimed of readdirSync(paths.claimed).sort())
    await processClaimed(paths, outbox, claimed, result);
  const names = readdirSync(paths.outgoing, { withFileTypes: true })
    .filter((d) => d.isFile() && isCandidate(d.name))
    .map((d) => d.name)
    .sort();
  for (const name of names) {
    const claimedName = `${randomUUID()}__${name}`;
    try {
      renameSync(join(paths.outgoing, name), join(paths.claimed, claimedName));
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') continue; // gone meanwhile
      throw error;
    }
    fsyncDir(paths.claimed);
    fsyncDir(paths.outgoing);
    await processClaimed(paths, outbox, claimedName, result);
  }
  return result;
}
