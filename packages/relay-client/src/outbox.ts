/**
 * `@fluxel/relay-client/outbox`: the durable outbox (at-least-once delivery with leases,
 * a long retry schedule, dead letters, per-key ordering) and the mailbox consumer (long-poll,
 * ack after the handler succeeded, dedupe by event id), with memory stores. File-backed
 * stores for a real agent are in `@fluxel/relay-client/node`.
 *
 * @packageDocumentation
 */
export {
  DeviceProofError,
  FluxelError,
  type FluxelErrorOptions,
  IdempotencyConflictError,
  isFluxelError,
  type ProblemDetails,
  RELAY_CLIENT_ERROR_CODES,
  RelayConnectionError,
  RelayError,
  type RelayErrorCode,
  type RelayErrorOptions,
  RelayTimeoutError,
  RelayTlsError,
  RequestValidationError,
  ResponseValidationError,
  UnexpectedStatusError,
  UpstreamUnavailableError,
} from './errors.js';
export {
  DEFAULT_MAILBOX_BACKOFF,
  MailboxConsumer,
  type MailboxConsumerOptions,
  type MailboxEvent,
  type MailboxHandler,
  type MailboxTimers,
} from './mailbox/consumer.js';
export {
  MemoryDedupeStore,
  type MemoryDedupeStoreOptions,
} from './mailbox/memory-dedupe-store.js';
export {
  type DedupeStore,
  type InboundEvent as MailboxInboundEvent,
  type MailboxSource,
  MIN_DEDUPE_RETENTION_MS,
} from './mailbox/types.js';
export {
  MemoryOutboxStore,
  type MemoryOutboxStoreOptions,
} from './outbox/memory-store.js';
export {
  DEFAULT_OUTBOX_SCHEDULE,
  Outbox,
  type OutboxOptions,
} from './outbox/outbox.js';
export {
  type DeadLetter,
  type Deliver,
  type LeaseOptions,
  MAX_OUTBOX_ID_LENGTH,
  MAX_OUTBOX_METADATA_BYTES,
  MAX_OUTBOX_METADATA_KEYS,
  type OutboxErrorInfo,
  type OutboxEvent,
  type OutboxInput,
  type OutboxMessage,
  type OutboxMetadata,
  type OutboxStats,
  type OutboxStore,
  type OutboxTimers,
} from './outbox/types.js';
