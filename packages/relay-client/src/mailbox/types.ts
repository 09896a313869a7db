/** What the mailbox consumer works with: inbound events, where they come from, where handled ids are kept. */
/**
 * One inbound event held by the relay.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MailboxConsumer, type MailboxInboundEvent, type MailboxSource, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const events: MailboxInboundEvent[] = [{ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }];
 * const acked: string[] = [];
 * const source: MailboxSource = {
 *   pickup: async () => events.splice(0),
 *   ack: async (ids) => void acked.push(...ids),
 * };
 * const handled: string[] = [];
 * const consumer = new MailboxConsumer({ source, dedupe: new MemoryDedupeStore(), handler: async (event) => void handled.push(event.id) });
 * assert.deepEqual(await consumer.pollOnce(), { handled: 1, failed: 0 });
 * assert.deepEqual([handled, acked], [['evt-1'], ['evt-1']]);
 * ```
 */
export interface InboundEvent {
  readonly id: string;
  readonly connection: string;
  readonly type: string;
  /** ISO 8601. */
  readonly receivedAt: string;
  /** ISO 8601; the relay deletes the event after this. */
  readonly expiresAt: string;
  readonly payload: unknown;
}

/**
 * Where events come from (the relay client's mailbox endpoints).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MailboxConsumer, type MailboxInboundEvent, type MailboxSource, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const events: MailboxInboundEvent[] = [{ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }];
 * const acked: string[] = [];
 * const source: MailboxSource = {
 *   pickup: async () => events.splice(0),
 *   ack: async (ids) => void acked.push(...ids),
 * };
 * const handled: string[] = [];
 * const consumer = new MailboxConsumer({ source, dedupe: new MemoryDedupeStore(), handler: async (event) => void handled.push(event.id) });
 * assert.deepEqual(await consumer.pollOnce(), { handled: 1, failed: 0 });
 * assert.deepEqual([handled, acked], [['evt-1'], ['evt-1']]);
 * ```
 */
export interface MailboxSource {
  /** Long-polls for up to `waitSeconds`; resolves with up to `limit` unacknowledged events. */
  pickup(options: {
    waitSeconds: number;
    limit: number;
    signal: AbortSignal;
  }): Promise<readonly InboundEvent[]>;
  /** Acknowledges handled events; the relay deletes them. */
  ack(ids: readonly string[]): Promise<void>;
}

/**
 * Remembers handled event ids, each until its expiry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type DedupeStore, MemoryDedupeStore } from '@fluxel/relay-client/outbox';
 *
 * const store: DedupeStore = new MemoryDedupeStore();
 * await store.add('evt-1', Date.now() + 60_000);
 * assert.equal(await store.has('evt-1'), true);
 * ```
 */
export interface DedupeStore {
  /** Whether `id` was recorded and has not expired. */
  has(id: string): Promise<boolean>;
  /** Records `id` until `expiresAt` (ms); resolves once recorded durably. */
  add(id: string, expiresAt: number): Promise<void>;
  /** Releases resources. */
  close?(): Promise<void>;
}

/**
 * The least time an id is remembered: the relay's 7-day horizon plus a day of margin.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MIN_DEDUPE_RETENTION_MS } from '@fluxel/relay-client/outbox';
 *
 * assert.equal(MIN_DEDUPE_RETENTION_MS, 8 * 86_400_000); // the relay's 7 days plus one
 * ```
 */
export const MIN_DEDUPE_RETENTION_MS: number = 8 * 86_400_000;
