/**
 * The SQL store: records in one table, with the event's queryable fields in columns and the
 * exact record line kept for verification. Works with any client that has
 * `query(text, params)` returning `{ rows }` (node-postgres `Client`/`PoolClient`, PGlite).
 */
import { AuditError } from './errors.js';
import type { AuditEvent, Outcome } from './event.js';
import type { LogStore, LogStoreState } from './log.js';
import { type Checkpoint, GENESIS_HASH, parseRecordLine, type StoredRecord } from './record.js';
import { Verifier, type VerifyOptions, type VerifyReport } from './verify.js';

/**
 * The minimal SQL client interface (PostgreSQL dialect).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type SqlClient, SqlStore } from '@fluxel/audit';
 *
 * // node-postgres `Client`/`PoolClient` and PGlite fit as they are; this stand-in only records statements.
 * const statements: string[] = [];
 * const client: SqlClient = {
 *   query: async (text) => {
 *     statements.push(text);
 *     return { rows: [] };
 *   },
 * };
 * await new SqlStore(client).migrate();
 * assert.match(statements[0] ?? '', /^CREATE TABLE IF NOT EXISTS fluxel_audit_records/);
 * ```
 */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Where the records live.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { auditSchemaSql, type SqlTableOptions } from '@fluxel/audit';
 *
 * // One table, several logs: each under its own stream.
 * const options: SqlTableOptions = { table: 'audit.records', stream: 'relay' };
 * assert.ok(auditSchemaSql(options).some((statement) => statement.includes('audit.records')));
 * ```
 */
export interface SqlTableOptions {
  /** Table name, optionally schema-qualified (default `fluxel_audit_records`). */
  readonly table?: string;
  /** One table can hold several logs, each under its own stream name (default `default`). */
  readonly stream?: string;
}

// eslint-disable-next-line security/detect-unsafe-regex -- bounded repeats and one optional dot-separated part: linear time
const NAME = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

function tableName(options: SqlTableOptions): string {
  const table = options.table ?? 'fluxel_audit_records';
  if (!NAME.test(table))
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', `bad table name ${JSON.stringify(table)}`);
  return table;
}

/**
 * The migration: `CREATE TABLE IF NOT EXISTS` plus indexes for the audit viewer's filters.
 * Returned as separate statements (some clients run one statement per call).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { auditSchemaSql } from '@fluxel/audit';
 *
 * // Run these in your migration tool, then open stores with `migrate: false`.
 * const statements = auditSchemaSql({ table: 'audit.records' });
 * assert.match(statements[0] ?? '', /^CREATE TABLE IF NOT EXISTS audit\.records/);
 * assert.ok(statements.length > 1); // plus the audit viewer's indexes
 * ```
 */
export function auditSchemaSql(options: SqlTableOptions = {}): string[] {
  const t = tableName(options);
  const base = t.replace('.', '_');
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
  stream text NOT NULL,
  seq bigint NOT NULL,
  kind char(1) NOT NULL,
  hash char(64) NOT NULL,
  line text NOT NULL,
  event_id text,
  time timestamptz,
  tenant text,
  actor_type text,
  actor_id text,
  actor_ip text,
  action text,
  outcome text,
  target_type text,
  target_id text,
  request_id text,
  PRIMARY KEY (stream, seq)
)`,
    `CREATE INDEX IF NOT EXISTS ${base}_tenant_time ON ${t} (tenant, time)`,
    `CREATE INDEX IF NOT EXISTS ${base}_tenant_actor ON ${t} (tenant, actor_id, time)`,
    `CREATE INDEX IF NOT EXISTS ${base}_tenant_action ON ${t} (tenant, action, time)`,
  ];
}

function toRecord(row: Record<string, unknown>): StoredRecord {
  const line = String(row.line);
  const parsed = parseRecordLine(line);
  if (!parsed) throw new AuditError('ERR_AUDIT_STORAGE', `record ${String(row.seq)} is damaged`);
  return {
    seq: parsed.s,
    kind: parsed.k,
    hash: parsed.h,
    prev: parsed.p,
    line,
    ...(parsed.e ? { event: parsed.e } : {}),
    ...(parsed.c ? { checkpoint: parsed.c } : {}),
  };
}

/**
 * A {@link LogStore} in a SQL table. Each batch is one `INSERT … SELECT FROM unnest(…)`
 * statement, so it commits atomically; the primary key `(stream, seq)` makes a second
 * writer's conflicting append fail instead of forking the chain. Pass a single connection
 * (not a pool) if you wrap it in your own transaction.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, type SqlClient, SqlStore } from '@fluxel/audit';
 *
 * // In production: `new SqlStore(pgClient, { table: 'audit.records', stream: 'relay' })` with a
 * // node-postgres client (or PGlite) and `AuditLog.open({ store, signingKey })`. Here a stand-in
 * // client serves lines written earlier, to show `verify()`.
 * const memory = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store: memory, signingKey });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const table: SqlClient = {
 *   query: async (_text, params) => ({
 *     rows: memory.records.filter((r) => r.seq >= Number(params?.[1] ?? 0)).map((r) => ({ seq: r.seq, line: r.line })),
 *   }),
 * };
 * const store = new SqlStore(table, { stream: 'relay', migrate: false });
 * assert.equal((await store.verify({ publicKeys: [signingKey] })).ok, true);
 * ```
 */
export class SqlStore implements LogStore {
  readonly #client: SqlClient;
  readonly #table: string;
  readonly #stream: string;
  readonly #migrate: boolean;

  constructor(client: SqlClient, options: SqlTableOptions & { migrate?: boolean } = {}) {
    this.#client = client;
    this.#table = tableName(options);
    this.#stream = options.stream ?? 'default';
    this.#migrate = options.migrate ?? true;
  }

  /** Creates the table and indexes if missing. */
  async migrate(): Promise<void> {
    for (const statement of auditSchemaSql({ table: this.#table }))
      await this.#client.query(statement);
  }

  async open(): Promise<LogStoreState> {
    if (this.#migrate) await this.migrate();
    const last = await this.#client.query(
      `SELECT seq, hash FROM ${this.#table} WHERE stream = $1 ORDER BY seq DESC LIMIT 1`,
      [this.#stream],
    );
    const row = last.rows[0];
    if (!row) return { lastSeq: 0, lastHash: GENESIS_HASH };
    const cp = await this.#client.query(
      `SELECT line FROM ${this.#table} WHERE stream = $1 AND kind = 'c' ORDER BY seq DESC LIMIT 1`,
      [this.#stream],
    );
    const checkpoint: Checkpoint | undefined = cp.rows[0]
      ? parseRecordLine(String(cp.rows[0].line))?.c
      : undefined;
    return {
      lastSeq: Number(row.seq),
      lastHash: String(row.hash),
      ...(checkpoint ? { lastCheckpoint: checkpoint } : {}),
    };
  }

  async append(records: readonly StoredRecord[]): Promise<void> {
    const cols: unknown[][] = Array.from({ length: 15 }, () => []);
    for (const r of records) {
      const e = r.event;
      const values = [
        r.seq,
        r.kind,
        r.hash,
        r.line,
        e?.id ?? null,
        e?.time ?? r.checkpoint?.time ?? null,
        e?.tenant ?? null,
        e?.actor.type ?? null,
        e?.actor.id ?? null,
        e?.actor.ip ?? null,
        e?.action ?? null,
        e?.outcome ?? null,
        e?.target?.type ?? null,
        e?.target?.id ?? null,
        e?.requestId ?? null,
      ];
      for (let i = 0; i < values.length; i++) (cols[i] as unknown[]).push(values[i]);
    }
    const types = [
      'bigint',
      'text',
      'text',
      'text',
      'text',
      'timestamptz',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
    ];
    const params = types.map((type, i) => `$${i + 2}::${type}[]`).join(', ');
    await this.#client.query(
      `INSERT INTO ${this.#table} (stream, seq, kind, hash, line, event_id, time, tenant, actor_type, actor_id, actor_ip, action, outcome, target_type, target_id, request_id)
       SELECT $1, * FROM unnest(${params})`,
      [this.#stream, ...cols],
    );
  }

  async *read(fromSeq: number): AsyncIterable<StoredRecord> {
    let next = fromSeq;
    for (;;) {
      const { rows } = await this.#client.query(
        `SELECT seq, line FROM ${this.#table} WHERE stream = $1 AND seq >= $2 ORDER BY seq LIMIT 1000`,
        [this.#stream, next],
      );
      for (const row of rows) yield toRecord(row);
      if (rows.length < 1000) return;
      next = Number((rows.at(-1) as Record<string, unknown>).seq) + 1;
    }
  }

  async close(): Promise<void> {}

  /** Verifies the stored log (chain, checkpoints, signatures) page by page. */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    const verifier = new Verifier(options);
    let next = 0;
    for (;;) {
      const { rows } = await this.#client.query(
        `SELECT seq, line FROM ${this.#table} WHERE stream = $1 AND seq >= $2 ORDER BY seq LIMIT 5000`,
        [this.#stream, next],
      );
      for (const row of rows) verifier.pushLine(String(row.line), `${this.#table}:${this.#stream}`);
      if (rows.length < 5000) break;
      next = Number((rows.at(-1) as Record<string, unknown>).seq) + 1;
    }
    return verifier.finish();
  }

  /**
   * Finds events for the audit viewer, newest first. `tenant` is required, so one customer
   * can never page through another's events. `action` may end in `.*` for a prefix.
   */
  async query(filter: AuditQuery): Promise<AuditQueryResult> {
    if (typeof filter.tenant !== 'string' || filter.tenant === '')
      throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'tenant is required');
    const where = ['stream = $1', "kind = 'e'", 'tenant = $2'];
    const params: unknown[] = [this.#stream, filter.tenant];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.actorId !== undefined) add('actor_id = ?', filter.actorId);
    if (filter.actorType !== undefined) add('actor_type = ?', filter.actorType);
    if (filter.action !== undefined) {
      if (filter.action.endsWith('.*'))
        add('action LIKE ?', `${filter.action.slice(0, -2).replace(/[\\%_]/g, '\\$&')}.%`);
      else add('action = ?', filter.action);
    }
    if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
    if (filter.targetId !== undefined) add('target_id = ?', filter.targetId);
    if (filter.from !== undefined)
      add('time >= ?::timestamptz', new Date(filter.from).toISOString());
    if (filter.to !== undefined) add('time < ?::timestamptz', new Date(filter.to).toISOString());
    if (filter.beforeSeq !== undefined) add('seq < ?', filter.beforeSeq);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const { rows } = await this.#client.query(
      `SELECT seq, line FROM ${this.#table} WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ${limit + 1}`,
      params,
    );
    const page = rows.slice(0, limit).map(toRecord);
    const last = page.at(-1);
    return {
      events: page.map((r) => ({ ...(r.event as AuditEvent), seq: r.seq, hash: r.hash })),
      ...(rows.length > limit && last ? { nextBeforeSeq: last.seq } : {}),
    };
  }
}

/**
 * Filters of {@link SqlStore.query}. Times are inclusive `from`, exclusive `to`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AuditQuery, SqlStore } from '@fluxel/audit';
 *
 * const filter: AuditQuery = {
 *   tenant: 'acme', // required: one customer never pages through another's events
 *   action: 'auth.*',
 *   outcome: 'failure',
 *   from: '2026-05-01T00:00:00.000Z',
 *   limit: 50,
 * };
 * // A stand-in client that shows the statement; a node-postgres client runs it.
 * const seen: unknown[][] = [];
 * const store = new SqlStore({ query: async (_text, params) => (seen.push(params ?? []), { rows: [] }) }, { migrate: false });
 * const page = await store.query(filter);
 * assert.deepEqual(page.events, []);
 * assert.deepEqual(seen[0], ['default', 'acme', 'auth.%', 'failure', '2026-05-01T00:00:00.000Z']);
 * ```
 */
export interface AuditQuery {
  readonly tenant: string;
  readonly actorId?: string;
  readonly actorType?: 'user' | 'device' | 'service' | 'system';
  /** An action, or a prefix like `auth.*`. */
  readonly action?: string;
  readonly outcome?: Outcome;
  readonly targetId?: string;
  readonly from?: Date | string | number;
  readonly to?: Date | string | number;
  /** Page size (default 100, at most 1000). */
  readonly limit?: number;
  /** Continue after a previous page: its `nextBeforeSeq`. */
  readonly beforeSeq?: number;
}

/**
 * A page of events, newest first, each with its chain position.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type AuditQueryResult, generateSigningKey, MemoryStore, SqlStore } from '@fluxel/audit';
 *
 * const memory = new MemoryStore();
 * const log = await AuditLog.open({ store: memory, signingKey: generateSigningKey() });
 * for (const outcome of ['failure', 'success'] as const)
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome });
 * await log.close();
 * // A stand-in for the table: the events, newest first, as the SELECT returns them.
 * const rows = memory.records.filter((r) => r.kind === 'e').reverse().map((r) => ({ seq: r.seq, line: r.line }));
 * const store = new SqlStore({ query: async () => ({ rows }) }, { migrate: false });
 * const page: AuditQueryResult = await store.query({ tenant: 'acme', limit: 1 });
 * assert.equal(page.events[0]?.outcome, 'success');
 * assert.equal(page.nextBeforeSeq, page.events[0]?.seq); // pass as `beforeSeq` for the next page
 * ```
 */
export interface AuditQueryResult {
  readonly events: (AuditEvent & { readonly seq: number; readonly hash: string })[];
  /** Pass as `beforeSeq` for the next page; absent on the last page. */
  readonly nextBeforeSeq?: number;
}
