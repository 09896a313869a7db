/**
 * The mailbox: inbound events held for a license's agent, sealed under the tenant's key (the
 * vault seals and opens them), for at most {@link MAILBOX_TTL_MS}. The counterpart of
 * {@link Vault} for events: receive (stored once per webhook id, also when replayed), pending,
 * waitForArrival (long-polls, see `mailbox-wait.ts`), ack (deletes), stats, purgeExpired.
 * The only module with the mailbox's SQL; nothing here knows HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '@fluxel/audit';
import type { InboundEventBody } from '@fluxel/relay-client/contract';
import type { Database } from '@fluxel-example/kit/database';
import { type MailboxArrivals, MailboxPolls } from './mailbox-wait.ts';
import type { Owner, Vault } from './vault.ts';
import { WEBHOOK_SEEN_MS } from './webhooks.ts';

/** How long the mailbox holds an inbound event. */
export const MAILBOX_TTL_MS = 7 * 86_400_000;

/** Expired events claimed, audited and deleted per statement of a purge (at most 10 per run). */
const EXPIRE_BATCH = 1000;

/**
 * How long a purge's claim on expired events holds: a claim older than this (its instance
 * died between the audit and the delete) is taken over by the next purge.
 */
export const EXPIRE_CLAIM_LEASE_MS = 60_000;

/** A verified inbound webhook to hold for its license. */
export interface ArrivingEvent {
  readonly connection: string;
  /** The webhook id (`webhook-id`): one event per id and license, also when replayed. */
  readonly id: string;
  readonly type: string;
  /** The validated JSON payload (stored sealed). */
  readonly payload: unknown;
  /** When the sender signed it (ms, from `webhook-timestamp`). */
  readonly signedAt: number;
}

export interface MailboxOptions {
  /** Wakes waiting long-polls when an event arrives (here, and at other instances). */
  readonly arrivals: MailboxArrivals;
  /** How often a waiting poll re-reads while arrivals are not complete; default 1000 ms. */
  readonly fallbackPollMs?: number;
  /** Long-polls of one license that may wait at once here; default 4. */
  readonly maxPerLicense?: number;
  /** Where expiries are audited (`mailbox.expire`). */
  readonly record: (event: AuditEventInput) => Promise<void>;
}

function placeholders(count: number, from: number): string {
  return Array.from({ length: count }, (_, i) => `$${i + from}`).join(', ');
}

export class Mailbox {
  readonly #db: Database;
  readonly #vault: Vault;
  readonly #now: () => number;
  readonly #arrivals: MailboxArrivals;
  readonly #polls: MailboxPolls;
  readonly #record: (event: AuditEventInput) => Promise<void>;

  constructor(db: Database, vault: Vault, now: () => number, options: MailboxOptions) {
    this.#db = db;
    this.#vault = vault;
    this.#now = now;
    this.#arrivals = options.arrivals;
    this.#record = options.record;
    this.#polls = new MailboxPolls({
      arrivals: options.arrivals,
      ...(options.fallbackPollMs !== undefined ? { fallbackPollMs: options.fallbackPollMs } : {}),
      ...(options.maxPerLicense !== undefined ? { maxPerLicense: options.maxPerLicense } : {}),
    });
  }

  /**
   * Seals and stores `event` for `owner` unless its id was seen: one statement (atomic)
   * remembers the webhook id past the signature's tolerance window and stores the event only
   * if the id was new — so a signed webhook replayed after the agent acked it, or sent N times
   * at once, is stored once. An id whose memory expired is taken again (its signature's
   * timestamp would be refused by then anyway). Waiting polls are woken by {@link arrived}.
   */
  async receive(
    owner: Owner,
    event: ArrivingEvent,
  ): Promise<{ stored: boolean; receivedAt: number }> {
    const receivedAt = this.#now();
    const sealed = await this.#vault.sealText(
      owner,
      event.connection,
      `mailbox.${event.id}`,
      JSON.stringify(event.payload),
    );
    const seenUntil = Math.max(receivedAt, event.signedAt) + WEBHOOK_SEEN_MS;
    const inserted = await this.#db.query(
      `WITH seen AS (
         INSERT INTO relay_webhook_seen (license_id, id, expires_at) VALUES ($1, $2, $9)
         ON CONFLICT (license_id, id) DO UPDATE SET expires_at = EXCLUDED.expires_at
           WHERE relay_webhook_seen.expires_at <= $7
         RETURNING license_id
       )
       INSERT INTO relay_mailbox (license_id, id, tenant, connection, type, sealed, received_at, expires_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM seen
       ON CONFLICT (license_id, id) DO NOTHING RETURNING id`,
      [
        owner.licenseId,
        event.id,
        owner.tenant,
        event.connection,
        event.type,
        sealed,
        receivedAt,
        receivedAt + MAILBOX_TTL_MS,
        seenUntil,
      ],
    );
    return { stored: inserted.rows.length > 0, receivedAt };
  }

  /** Wakes the license's waiting long-polls (here at once; elsewhere by notification). */
  arrived(licenseId: string): void {
    this.#arrivals.emit(licenseId);
  }

  /** The license's held events, oldest first, at most `limit`, opened. */
  async pending(owner: Owner, limit: number): Promise<InboundEventBody[]> {
    const { rows } = await this.#db.query(
      `SELECT id, connection, type, sealed, received_at, expires_at FROM relay_mailbox
       WHERE license_id = $1 AND expires_at > $2 ORDER BY received_at, id LIMIT $3`,
      [owner.licenseId, this.#now(), limit],
    );
    const events: InboundEventBody[] = [];
    for (const row of rows) {
      const connection = String(row.connection);
      const id = String(row.id);
      const text = await this.#vault.openText(
        owner,
        connection,
        `mailbox.${id}`,
        String(row.sealed),
      );
      events.push({
        id,
        connection,
        type: String(row.type),
        receivedAt: new Date(Number(row.received_at)).toISOString(),
        expiresAt: new Date(Number(row.expires_at)).toISOString(),
        payload: JSON.parse(text),
      });
    }
    return events;
  }

  /**
   * {@link pending}, waiting up to `waitMs` (woken by arrivals, see `mailbox-wait.ts`) until
   * there are events, or `stop` aborts. Throws `MailboxPollsExceeded` instead of waiting when
   * the license has its cap of polls waiting here.
   */
  waitForArrival(
    owner: Owner,
    waitMs: number,
    limit: number,
    stop: AbortSignal,
  ): Promise<InboundEventBody[]> {
    return this.#polls.poll(owner.licenseId, waitMs, () => this.pending(owner, limit), stop);
  }

  /**
   * Deletes the license's events with these ids; returns the ids that were held. An event the
   * purge has claimed (expired, its `mailbox.expire` being audited) is not held any more.
   */
  async ack(owner: Owner, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const { rows } = await this.#db.query(
      `DELETE FROM relay_mailbox WHERE license_id = $1 AND expire_claim IS NULL AND id IN (${placeholders(unique.length, 2)}) RETURNING id`,
      [owner.licenseId, ...unique],
    );
    return rows.map((r) => String(r.id));
  }

  /** How many events the license has waiting (not expired). */
  async count(owner: Owner): Promise<number> {
    const { rows } = await this.#db.query(
      'SELECT count(*)::int AS n FROM relay_mailbox WHERE license_id = $1 AND expires_at > $2',
      [owner.licenseId, this.#now()],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Held events of every license (not yet expired) and the age of the oldest. */
  async stats(): Promise<{ mailboxBacklog: number; oldestEventAgeSeconds: number }> {
    const now = this.#now();
    const { rows } = await this.#db.query(
      'SELECT count(*)::int AS n, min(received_at) AS oldest FROM relay_mailbox WHERE expires_at > $1',
      [now],
    );
    const oldest = rows[0]?.oldest == null ? undefined : Number(rows[0].oldest);
    return {
      mailboxBacklog: Number(rows[0]?.n ?? 0),
      oldestEventAgeSeconds:
        oldest === undefined ? 0 : Math.max(0, Math.floor((now - oldest) / 1000)),
    };
  }

  /**
   * Deletes events past their horizon, each audited as `mailbox.expire` **before** it is
   * deleted; returns how many. Per batch: one statement claims expired events (a random
   * token; `SKIP LOCKED`, so instances purging at once never claim the same event), the
   * expiries are appended to the audit log (durable), then the claim deletes exactly what it
   * audited. A crash or a failed audit in between leaves the events held and claimed; past
   * {@link EXPIRE_CLAIM_LEASE_MS} a later purge takes them over and audits them again (at
   * least once, never lost). A claimed event is no longer acknowledged (see {@link ack}).
   */
  async purgeExpired(): Promise<number> {
    // Webhook ids remembered against replays, once past their window: in batches of 10 000,
    // at most 10 per run (each statement short; what is left goes next run).
    for (let batch = 0; batch < 10; batch++) {
      const purged = await this.#db.query(
        `WITH gone AS (DELETE FROM relay_webhook_seen WHERE (license_id, id) IN (
           SELECT license_id, id FROM relay_webhook_seen WHERE expires_at <= $1 LIMIT 10000)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [this.#now()],
      );
      if (Number(purged.rows[0]?.n ?? 0) < 10_000) break;
    }
    let expired = 0;
    for (let batch = 0; batch < 10; batch++) {
      const now = this.#now();
      const claim = randomUUID();
      const { rows } = await this.#db.query(
        `UPDATE relay_mailbox SET expire_claim = $1, expire_claimed_at = $2
         WHERE (license_id, id) IN (
           SELECT license_id, id FROM relay_mailbox
           WHERE expires_at <= $2 AND (expire_claim IS NULL OR expire_claimed_at <= $3)
           LIMIT ${EXPIRE_BATCH} FOR UPDATE SKIP LOCKED)
         RETURNING license_id, tenant, connection, id`,
        [claim, now, now - EXPIRE_CLAIM_LEASE_MS],
      );
      if (rows.length === 0) break;
      await Promise.all(
        rows.map((row) =>
          this.#record({
            tenant: String(row.tenant),
            actor: { type: 'system', id: 'relay' },
            action: 'mailbox.expire',
            target: { type: 'mailbox-event', id: String(row.id) },
            outcome: 'success',
            data: { license: String(row.license_id), connection: String(row.connection) },
          }),
        ),
      );
      // By primary key (no index on the claim column), and only while still this claim's.
      const deleted = await this.#db.query(
        `DELETE FROM relay_mailbox WHERE (license_id, id) IN (
           SELECT * FROM unnest($2::text[], $3::text[])) AND expire_claim = $1 RETURNING id`,
        [claim, rows.map((r) => String(r.license_id)), rows.map((r) => String(r.id))],
      );
      expired += deleted.rows.length;
      if (rows.length < EXPIRE_BATCH) break;
    }
    return expired;
  }
}
