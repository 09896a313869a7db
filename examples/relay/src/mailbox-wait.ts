/**
 * Mailbox long-polls: how a pickup waits for an inbound event, and how many may wait.
 *
 * - Arrivals wake waiting polls by notification, not by re-reading the table: in this
 *   process through an emitter, and across relay instances through PostgreSQL
 *   `LISTEN/NOTIFY` (channel `fluxel_mailbox`, payload `<schema>/<license id>`) on a dedicated
 *   connection. While that connection is down — and wherever no cross-instance channel
 *   exists (a database handed in by the caller without a URL) — a waiting poll also re-reads
 *   every `fallbackPollMs`; when the listener (re)connects, every waiting poll re-reads once,
 *   so a notification lost in between is not waited for until the deadline.
 * - At most `maxPerLicense` polls of one license wait at once at one instance; a further one
 *   is refused ({@link MailboxPollsExceeded}, answered 429 with `Retry-After` = until the
 *   soonest held poll ends) instead of being held. A poll that finds events, or that does
 *   not wait (`wait=0`), holds nothing.
 */
import { EventEmitter } from 'node:events';
import { serverUrl } from '@fluxel-example/kit/database-hosts';
import type { QueryConfig } from 'pg';

/** The channel of mailbox notifications (one per database; the payload names the schema). */
export const MAILBOX_CHANNEL = 'fluxel_mailbox';

/** Wakes and waits for arrivals of one license's inbound events. */
export interface MailboxArrivals {
  /**
   * An event for `licenseId` was stored: wakes its polls here at once and, with PostgreSQL,
   * at every other instance. Never throws (a lost notification costs a poll its wake-up, not
   * the event: the next read returns it).
   */
  emit(licenseId: string): void;
  /** Calls `wake` on every arrival for `licenseId` (and on a listener reconnect); returns the unsubscribe. */
  subscribe(licenseId: string, wake: () => void): () => void;
  /** Whether every instance's arrivals reach this one right now (else polls re-read periodically). */
  readonly complete: () => boolean;
  /** Wakes every waiting poll and stops listening. */
  close(): Promise<void>;
}

/**
 * Checks the long-poll settings (thrown as `RangeError` when the relay is built, before it
 * opens anything): `maxPerLicense` 1…1000, `fallbackPollMs` 10 ms…1 h.
 */
export function checkMailboxPollOptions(options: {
  maxPerLicense?: number | undefined;
  fallbackPollMs?: number | undefined;
}): { max: number; fallback: number } {
  const max = options.maxPerLicense ?? 4;
  const fallback = options.fallbackPollMs ?? 1000;
  if (!Number.isInteger(max) || max < 1 || max > 1000)
    throw new RangeError(
      `mailboxPollsPerLicense must be a whole number from 1 to 1000 (got ${max}); set RELAY_MAILBOX_POLLS_PER_LICENSE accordingly`,
    );
  if (!Number.isInteger(fallback) || fallback < 10 || fallback > 3_600_000)
    throw new RangeError(
      `mailboxPollMs must be a whole number of milliseconds from 10 to 3600000 (got ${fallback}); set RELAY_MAILBOX_POLL_MS accordingly`,
    );
  return { max, fallback };
}

/** A poll refused because the license already has `maxPerLicense` polls waiting here. */
export class MailboxPollsExceeded extends Error {
  readonly code = 'ERR_MAILBOX_POLLS';
  constructor(
    readonly limit: number,
    /** Seconds until the soonest held poll ends at the latest. */
    readonly retryAfter: number,
  ) {
    super(`at most ${limit} mailbox long-polls of one license may wait at once`);
  }
}

const WAKE_ALL = '\u0000all';

/** Arrivals within this process only (one instance, PGlite). */
export function localArrivals(complete = true): MailboxArrivals & { wakeAll(): void } {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    emit: (licenseId) => {
      emitter.emit(licenseId);
    },
    subscribe(licenseId, wake) {
      emitter.on(licenseId, wake);
      emitter.on(WAKE_ALL, wake);
      return () => {
        emitter.off(licenseId, wake);
        emitter.off(WAKE_ALL, wake);
      };
    },
    complete: () => complete,
    wakeAll: () => {
      emitter.emit(WAKE_ALL);
    },
    async close() {
      emitter.emit(WAKE_ALL);
    },
  };
}

/** What {@link postgresArrivals} needs of the relay's pool: a query. */
export interface NotifyClient {
  query(text: string, params?: readonly unknown[]): Promise<unknown>;
}

/**
 * Arrivals across instances over PostgreSQL: `pg_notify` through the relay's pool, `LISTEN`
 * on a dedicated connection to `url` (with `schema` on its search path, as the pool has).
 * Resolves once listening; reconnects by itself (backoff up to 5 s) when the connection dies.
 */
export async function postgresArrivals(options: {
  url: string;
  schema?: string;
  pool: NotifyClient;
  onError?: (error: unknown) => void;
}): Promise<MailboxArrivals> {
  const { default: pg } = await import('pg');
  const local = localArrivals();
  let listening = false;
  let closed = false;
  let schema = '';
  let client: InstanceType<typeof pg.Client> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  /** Gives up the listening connection `stale` (ended or silent) and connects anew. */
  const drop = (stale: InstanceType<typeof pg.Client>) => {
    if (client !== stale) return;
    listening = false;
    client = undefined;
    clearInterval(heartbeat);
    // Polls waiting here fall back to re-reading until the listener is back.
    local.wakeAll();
    schedule(250);
    stale.end().catch(() => {});
  };
  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      // A host list (a primary and its standby): the server that takes writes, asked anew at
      // every connect (after a failover, the promoted standby).
      connectionString: await serverUrl(pg.Client, options.url),
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    next.on('error', () => {});
    next.on('notification', (message) => {
      const payload = message.payload ?? '';
      const slash = payload.indexOf('/');
      if (message.channel === MAILBOX_CHANNEL && payload.slice(0, slash) === schema)
        local.emit(payload.slice(slash + 1));
    });
    next.on('end', () => drop(next));
    try {
      await next.connect();
      const { rows } = await next.query<{ s: string }>('SELECT current_schema() AS s');
      schema = rows[0]?.s ?? '';
      await next.query(`LISTEN ${MAILBOX_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    listening = true;
    // A server that vanished without closing the connection (its node lost) never ends it:
    // a query that gets no answer within 10 s does.
    heartbeat = setInterval(() => {
      next
        .query({ text: 'SELECT 1', query_timeout: 10_000 } as QueryConfig)
        .catch(() => drop(next));
    }, 15_000);
    heartbeat.unref();
    // Whatever arrived while nobody listened is read now rather than at the deadline.
    local.wakeAll();
  };
  const schedule = (delay: number) => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error) => {
        options.onError?.(error);
        schedule(Math.min(delay * 2, 5000));
      });
    }, delay);
    retry.unref();
  };
  // The pool has just reached this database: a listener that fails now (the connection reset
  // during the start) is retried in the background like one lost later, and polls re-read
  // meanwhile, rather than failing the start.
  await connect().catch((error) => {
    options.onError?.(error);
    schedule(250);
  });

  return {
    emit(licenseId) {
      local.emit(licenseId);
      options.pool
        .query(`SELECT pg_notify('${MAILBOX_CHANNEL}', current_schema() || '/' || $1)`, [licenseId])
        .catch((error) => options.onError?.(error));
    },
    subscribe: local.subscribe,
    complete: () => listening,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      clearInterval(heartbeat);
      const last = client;
      client = undefined;
      listening = false;
      await local.close();
      await last?.end().catch(() => {});
    },
  };
}

/** Long-polls of the mailbox: the per-license cap and the wait itself. */
export class MailboxPolls {
  readonly #arrivals: MailboxArrivals;
  readonly #max: number;
  readonly #fallbackMs: number;
  /** Deadlines of the polls waiting per license. */
  readonly #held = new Map<string, Set<number>>();

  constructor(options: {
    arrivals: MailboxArrivals;
    /** Polls of one license that may wait at once here; default 4. */
    maxPerLicense?: number;
    /** How often a waiting poll re-reads while arrivals are not complete; default 1000 ms. */
    fallbackPollMs?: number;
  }) {
    const { max, fallback } = checkMailboxPollOptions(options);
    this.#arrivals = options.arrivals;
    this.#max = max;
    this.#fallbackMs = fallback;
  }

  /** Polls of `licenseId` waiting here now. */
  waiting(licenseId: string): number {
    return this.#held.get(licenseId)?.size ?? 0;
  }

  /**
   * Reads with `read` until it returns events, `waitMs` passes, or `stop` aborts: once at
   * once, then again after each arrival for `licenseId` (or each fallback tick). Throws
   * {@link MailboxPollsExceeded} instead of waiting when the license has its cap of polls
   * waiting here.
   */
  async poll<T>(
    licenseId: string,
    waitMs: number,
    read: () => Promise<T[]>,
    stop: AbortSignal,
  ): Promise<T[]> {
    if (waitMs <= 0 || stop.aborted) return read();
    const deadline = Date.now() + waitMs;
    const held = this.#hold(licenseId, deadline);
    let woken = false;
    let wake: (() => void) | undefined;
    const unsubscribe = this.#arrivals.subscribe(licenseId, () => {
      woken = true;
      wake?.();
    });
    const onStop = () => wake?.();
    stop.addEventListener('abort', onStop);
    try {
      // Subscribed before the first read: an arrival during it wakes the next round.
      for (;;) {
        woken = false;
        const events = await read();
        const left = deadline - Date.now();
        if (events.length > 0 || left <= 0 || stop.aborted) return events;
        if (!woken) {
          const ms = this.#arrivals.complete() ? left : Math.min(left, this.#fallbackMs);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
          // Shutting down or the client went away: answer at once, without another read.
          if (stop.aborted) return [];
        }
      }
    } finally {
      stop.removeEventListener('abort', onStop);
      unsubscribe();
      held();
    }
  }

  #hold(licenseId: string, deadline: number): () => void {
    let deadlines = this.#held.get(licenseId);
    if (!deadlines) {
      deadlines = new Set();
      this.#held.set(licenseId, deadlines);
    }
    if (deadlines.size >= this.#max) {
      const soonest = Math.min(...deadlines);
      throw new MailboxPollsExceeded(
        this.#max,
        Math.max(1, Math.ceil((soonest - Date.now()) / 1000)),
      );
    }
    // Two polls can share a deadline (same millisecond): keep each entry distinct.
    let mine = deadline;
    while (deadlines.has(mine)) mine += 0.001;
    deadlines.add(mine);
    const own = deadlines;
    return () => {
      own.delete(mine);
      if (own.size === 0 && this.#held.get(licenseId) === own) this.#held.delete(licenseId);
    };
  }
}
