/**
 * The send ledger: one idempotency record per (license, `Idempotency-Key`) in
 * `relay_idempotency`, so a `send` reaches the third party once however often the agent
 * retries it. A record is claimed (`pending`), completed (`delivered` / `rejected`, with the
 * third party's status), taken over by a retry once its lease ran out (its attempt died with
 * its instance), or released (deleted while still pending) when nothing was executed. Claims
 * and completions arriving while a write is in flight are written together in one statement
 * (group commit). The only module with the forwarder's SQL; nothing here knows HTTP.
 */
import type { Database } from './db.ts';

/** A pending record older than this is taken over by a retry (its attempt died). */
export const PENDING_LEASE_MS = 60_000;

/** A send to claim. */
export interface SendClaim {
  readonly licenseId: string;
  readonly key: string;
  readonly connection: string;
  readonly operation: string;
  /** Keyed hash of the request body (`body-hash.ts`). */
  readonly hash: string;
  readonly now: number;
}

/** What a claim found. */
export interface ClaimResult {
  /** True for exactly one claim of a (license, key): this one created the pending record. */
  readonly inserted: boolean;
  /**
   * The connection's sealed credentials (`kind`, `fields` of `relay_credentials`), read in the
   * claim's statement; `kind` is null when none are stored. Open with `Vault.openRow`.
   */
  readonly credentials: Record<string, unknown> | undefined;
}

/** A record as stored, read when a claim found the key taken. */
export interface SendRecord {
  /** The body's fingerprint as stored (compare with `sameBody`). */
  readonly bodyHash: unknown;
  readonly state: 'pending' | 'delivered' | 'rejected';
  readonly upstreamStatus: number;
  readonly completedAt: number;
  readonly connection: string;
  /** The claim's time, as stored (compared exactly by {@link SendLedger.takeOver}). */
  readonly createdAt: unknown;
}

/** The outcome of a send the third party executed. */
export interface SendCompletion {
  readonly licenseId: string;
  readonly key: string;
  readonly state: 'delivered' | 'rejected';
  readonly status: number;
  readonly at: number;
}

export interface SendLedgerOptions {
  /** See {@link PENDING_LEASE_MS}; keep it above the connector's timeout. */
  readonly pendingLeaseMs?: number;
}

export class SendLedger {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #leaseMs: number;
  readonly #claim: (item: SendClaim) => Promise<Record<string, unknown> | undefined>;
  readonly #complete: (item: SendCompletion) => Promise<void>;

  constructor(db: Database, now: () => number, options: SendLedgerOptions = {}) {
    this.#db = db;
    this.#now = now;
    this.#leaseMs = options.pendingLeaseMs ?? PENDING_LEASE_MS;
    this.#claim = groupCommit<SendClaim, Record<string, unknown> | undefined>(
      async (items) => {
        const { rows } = await db.query(
          `WITH input AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
               AS t (license_id, key, connection, operation, body_hash, created_at)
           ), ins AS (
             INSERT INTO relay_idempotency (license_id, key, connection, operation, body_hash, state, created_at)
             SELECT license_id, key, connection, operation, body_hash, 'pending', created_at FROM input
             ON CONFLICT (license_id, key) DO NOTHING
             RETURNING license_id, key
           )
           SELECT input.license_id, input.key, (ins.key IS NOT NULL) AS inserted, c.kind, c.fields
           FROM input
           LEFT JOIN ins ON ins.license_id = input.license_id AND ins.key = input.key
           LEFT JOIN relay_credentials c
             ON c.license_id = input.license_id AND c.connection = input.connection`,
          [
            items.map((i) => i.licenseId),
            items.map((i) => i.key),
            items.map((i) => i.connection),
            items.map((i) => i.operation),
            items.map((i) => i.hash),
            items.map((i) => i.now),
          ],
        );
        const byKey = new Map(rows.map((r) => [`${r.license_id}\u0000${r.key}`, r]));
        return items.map((i) => byKey.get(`${i.licenseId}\u0000${i.key}`));
      },
      // One claim per (license, key) per statement, so "inserted" is true for exactly one.
      { distinct: (i) => `${i.licenseId}\u0000${i.key}` },
    );
    // An upsert, not `UPDATE … FROM unnest(…)`: its rows are found through the primary key's
    // conflict check, which no plan can replace with a scan. The UPDATE's cached generic plan,
    // built while the table looked empty (fresh table, after a deploy, truncate or restore), was
    // a hash join over a sequential scan of the whole table for every later completion. The
    // INSERT branch only runs if the record vanished under a running send (nothing deletes a
    // pending record but its own send's release): it then stores the outcome with an empty
    // fingerprint, so every retry of the key is answered 409, never forwarded again.
    this.#complete = groupCommit<SendCompletion>(
      async (items) => {
        await db.query(
          `INSERT INTO relay_idempotency AS r
             (license_id, key, connection, operation, body_hash, state, upstream_status, completed_at, created_at)
           SELECT v.license_id, v.key, '', '', '', v.state, v.status, v.at, v.at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[])
             AS v (license_id, key, state, status, at)
           ON CONFLICT (license_id, key) DO UPDATE
             SET state = excluded.state, upstream_status = excluded.upstream_status,
                 completed_at = excluded.completed_at`,
          [
            items.map((i) => i.licenseId),
            items.map((i) => i.key),
            items.map((i) => i.state),
            items.map((i) => i.status),
            items.map((i) => i.at),
          ],
        );
        return undefined;
      },
      // An upsert may touch a row once per statement.
      { distinct: (i) => `${i.licenseId}\u0000${i.key}` },
    );
  }

  /**
   * Claims the key (a pending record) and reads the connection's sealed credentials in one
   * statement, batched with the claims of concurrent sends.
   */
  async claim(item: SendClaim): Promise<ClaimResult> {
    const row = await this.#claim(item);
    return {
      inserted: row?.inserted === true,
      credentials: row ? { kind: row.kind, fields: row.fields } : undefined,
    };
  }

  /** The record of a key, when there is one. */
  async read(licenseId: string, key: string): Promise<SendRecord | undefined> {
    const { rows } = await this.#db.query(
      'SELECT body_hash, state, upstream_status, completed_at, created_at, connection FROM relay_idempotency WHERE license_id = $1 AND key = $2',
      [licenseId, key],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      bodyHash: row.body_hash,
      state: row.state as SendRecord['state'],
      upstreamStatus: Number(row.upstream_status),
      completedAt: Number(row.completed_at),
      connection: String(row.connection),
      createdAt: row.created_at,
    };
  }

  /**
   * Takes over a pending record whose lease ran out (compare-and-set on the claim time read
   * with it): true for at most one of concurrent retries; false while it is in flight.
   */
  async takeOver(licenseId: string, key: string, seen: SendRecord, now: number): Promise<boolean> {
    const taken = await this.#db.query(
      `UPDATE relay_idempotency SET created_at = $3
       WHERE license_id = $1 AND key = $2 AND state = 'pending' AND created_at = $4 AND created_at < $5
       RETURNING key`,
      [licenseId, key, now, seen.createdAt, now - this.#leaseMs],
    );
    return taken.rows.length > 0;
  }

  /** Deletes a still pending record: nothing was executed, a retry may claim the key again. */
  async release(licenseId: string, key: string): Promise<void> {
    await this.#db.query(
      "DELETE FROM relay_idempotency WHERE license_id = $1 AND key = $2 AND state = 'pending'",
      [licenseId, key],
    );
  }

  /**
   * Records the outcome of a send the third party has already executed (batched with other
   * sends' outcomes). A database failure here (connection cut, failover) is retried for up to
   * half the pending lease, counted from the claim: giving up leaves the record pending, and
   * after the lease a retry would forward the same send a second time. Past half the lease
   * another instance may be taking it over.
   */
  async complete(item: SendCompletion, claimedAt: number): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      try {
        await this.#complete(item);
        return;
      } catch (error) {
        if (this.#now() + delay > claimedAt + this.#leaseMs / 2) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

/**
 * Group commit: `write` gets every item submitted while the previous write was in flight
 * (at most `maxBatch`, and never two items with the same `distinct` key — a later one waits
 * for the next batch) and returns one result per item, in order; each submitter's promise
 * settles with its own result (or its batch's error).
 */
export function groupCommit<T, R = void>(
  write: (items: T[]) => Promise<R[] | undefined>,
  options: { maxBatch?: number; distinct?: (item: T) => string } = {},
): (item: T) => Promise<R> {
  const maxBatch = options.maxBatch ?? 512;
  type Waiting = { item: T; done: (result: R) => void; fail: (error: unknown) => void };
  let queue: Waiting[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      let batch: Waiting[];
      if (options.distinct) {
        const seen = new Set<string>();
        const later: Waiting[] = [];
        batch = [];
        for (const waiting of queue) {
          const key = options.distinct(waiting.item);
          if (batch.length >= maxBatch || seen.has(key)) later.push(waiting);
          else {
            seen.add(key);
            batch.push(waiting);
          }
        }
        queue = later;
      } else {
        batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
      }
      try {
        const results = await write(batch.map((b) => b.item));
        batch.forEach((b, i) => {
          b.done(results?.[i] as R);
        });
      } catch (error) {
        for (const b of batch) b.fail(error);
      }
    }
    running = false;
  };
  return (item) =>
    new Promise<R>((done, fail) => {
      queue.push({ item, done, fail });
      if (!running) {
        running = true;
        setImmediate(() => void drain());
      }
    });
}
