/** What the mailbox consumer works with: inbound events, where they come from, where handled ids are kept. */
/** One inbound event held by the relay. */
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

/** Where events come from (the relay client's mailbox endpoints). */
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

/** Remembers handled event ids, each until its expiry. */
export interface DedupeStore {
  /** Whether `id` was recorded and has not expired. */
  has(id: string): Promise<boolean>;
  /** Records `id` until `expiresAt` (ms); resolves once recorded durably. */
  add(id: string, expiresAt: number): Promise<void>;
  /** Releases resources. */
  close?(): Promise<void>;
}

/** The least time an id is remembered: the relay's 7-day horizon plus a day of margin. */
export const MIN_DEDUPE_RETENTION_MS: number = 8 * 86_400_000;
