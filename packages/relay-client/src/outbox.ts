/**
 * `@fluxel/relay-client/outbox`: the durable outbox (at-least-once delivery with leases,
 * a long retry schedule, dead letters, per-key ordering) and the mailbox consumer (long-poll,
 * ack after the handler succeeded, dedupe by event id), with memory stores. File-backed
 * stores for a real agent are in `@fluxel/relay-client/node`.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export {
  DEFAULT_MAILBOX_BACKOFF,
  type DedupeStore,
  type InboundEvent as MailboxInboundEvent,
  MailboxConsumer,
  type MailboxConsumerOptions,
  type MailboxEvent,
  type MailboxHandler,
  type MailboxSource,
  type MailboxTimers,
  MemoryDedupeStore,
  type MemoryDedupeStoreOptions,
  MIN_DEDUPE_RETENTION_MS,
} from './mailbox.js';
export {
  DEFAULT_OUTBOX_SCHEDULE,
  type DeadLetter,
  type Deliver,
  type LeaseOptions,
  MAX_OUTBOX_ID_LENGTH,
  MAX_OUTBOX_METADATA_BYTES,
  MAX_OUTBOX_METADATA_KEYS,
  Outbox,
  type OutboxErrorInfo,
  type OutboxEvent,
  type OutboxInput,
  type OutboxMessage,
  type OutboxMetadata,
  type OutboxOptions,
  type OutboxStats,
  type OutboxStore,
  type OutboxTimers,
} from './outbox-core.js';
export { MemoryOutboxStore, type MemoryOutboxStoreOptions } from './outbox-memory.js';
