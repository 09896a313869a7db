/**
 * How sinks render a record: the raw tamper-evident line, the event with its chain position,
 * or an ECS document.
 */
import type { AuditEvent } from './event.js';
import { type EcsDocument, toEcs } from './event.js';
import type { StoredRecord } from './record.js';

/**
 * A sink's output format.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, type RecordFormat, renderValue } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const record = store.records[1]!;
 * const format: RecordFormat = 'ecs'; // or 'event', or 'record' (the verifiable line)
 * assert.equal((renderValue(record, format) as { event: { action: string } }).event.action, 'auth.login');
 * ```
 */
export type RecordFormat = 'record' | 'event' | 'ecs';

/**
 * The event of a record with its chain position under `fluxel`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type EventWithChain, generateSigningKey, MemoryStore, renderValue } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * const receipt = await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const value = renderValue(store.records[1]!, 'event') as EventWithChain;
 * assert.deepEqual(value.fluxel, { seq: receipt.seq, hash: receipt.hash });
 * ```
 */
export type EventWithChain = AuditEvent & { fluxel: { seq: number; hash: string } };

/**
 * Renders a record in a format.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, renderRecord } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const record = store.records[1]!;
 * assert.equal(renderRecord(record, 'record'), record.line); // the verifiable line as stored
 * assert.equal(JSON.parse(renderRecord(record, 'event')).action, 'auth.login');
 * ```
 */
export function renderRecord(record: StoredRecord, format: RecordFormat): string {
  return JSON.stringify(renderValue(record, format));
}

/**
 * The value a record renders to (`record` parses the line back into an object).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, renderValue } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.close();
 * // A checkpoint has no event: every format renders it as its parsed line.
 * const opening = store.records[0]!;
 * assert.equal((renderValue(opening, 'ecs') as { k: string }).k, 'c');
 * ```
 */
export function renderValue(record: StoredRecord, format: RecordFormat): unknown {
  if (format === 'record' || !record.event) return JSON.parse(record.line) as unknown;
  if (format === 'ecs')
    return toEcs(record.event, { seq: record.seq, hash: record.hash }) satisfies EcsDocument;
  return {
    ...record.event,
    fluxel: { seq: record.seq, hash: record.hash },
  } satisfies EventWithChain;
}
