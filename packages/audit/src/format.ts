/**
 * How sinks render a record: the raw tamper-evident line, the event with its chain position,
 * or an ECS document.
 */
import type { AuditEvent } from './event.js';
import { type EcsDocument, toEcs } from './event.js';
import type { StoredRecord } from './record.js';

/** A sink's output format. */
export type RecordFormat = 'record' | 'event' | 'ecs';

/** The event of a record with its chain position under `fluxel`. */
export type EventWithChain = AuditEvent & { fluxel: { seq: number; hash: string } };

/** Renders a record in a format. */
export function renderRecord(record: StoredRecord, format: RecordFormat): string {
  return JSON.stringify(renderValue(record, format));
}

/** The value a record renders to (`record` parses the line back into an object). */
export function renderValue(record: StoredRecord, format: RecordFormat): unknown {
  if (format === 'record' || !record.event) return JSON.parse(record.line) as unknown;
  if (format === 'ecs')
    return toEcs(record.event, { seq: record.seq, hash: record.hash }) satisfies EcsDocument;
  return {
    ...record.event,
    fluxel: { seq: record.seq, hash: record.hash },
  } satisfies EventWithChain;
}
