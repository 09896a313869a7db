/**
 * `@fluxel/license/sql`: the license store on SQL (PostgreSQL and PGlite), through any
 * client with `query(text, params)` — `pg`'s Client/Pool, PGlite, or your own wrapper.
 * `migrate()` applies the shipped migrations (also published as `LICENSE_MIGRATIONS`).
 */

import type { PublicJwk } from '../jwk.js';
import { LicenseError } from './errors.js';
import type {
  LicenseListFilter,
  LicensePatch,
  LicenseRecord,
  LicenseSeen,
  LicenseState,
  LicenseStore,
} from './store.js';

/**
 * Anything with `query(text, params)` returning rows: `pg`, PGlite, …
 *
 * @example
 * ```ts
 * import { type SqlClient, SqlLicenseStore } from '@fluxel/license/sql';
 *
 * // A stand-in client that records the SQL (pg's Pool or PGlite in real use).
 * const statements: string[] = [];
 * const client: SqlClient = {
 *   async query(text) {
 *     statements.push(text);
 *     return { rows: [] };
 *   },
 * };
 * await new SqlLicenseStore(client).migrate();
 * console.log(statements[0]); // 'CREATE TABLE IF NOT EXISTS fluxel_licenses_migrations …'
 * ```
 */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * One migration: applied once, in order, recorded in `<table>_migrations`.
 *
 * @example
 * ```ts
 * import type { Migration } from '@fluxel/license/sql';
 *
 * // For your own migration tool: the SQL with the table name filled in.
 * const render = (migration: Migration, table: string) =>
 *   migration.statements.map((s) => s.replaceAll('{{table_name}}', table).replaceAll('{{table}}', table));
 * console.log(render({ id: 9, name: 'example', statements: ['ANALYZE {{table}}'] }, 'licenses'));
 * ```
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  /** SQL statements, in order; `{{table}}` stands for the (qualified) table, `{{table_name}}` for its unqualified name. */
  readonly statements: readonly string[];
}

/**
 * The migrations of the license table.
 *
 * @example
 * ```ts
 * import { LICENSE_MIGRATIONS } from '@fluxel/license/sql';
 *
 * for (const migration of LICENSE_MIGRATIONS) console.log(migration.id, migration.name);
 * ```
 */
export const LICENSE_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'create licenses',
    statements: [
      `CREATE TABLE IF NOT EXISTS {{table}} (
  id               text PRIMARY KEY,
  tenant           text NOT NULL,
  product          text NOT NULL,
  entitlements     jsonb NOT NULL DEFAULT '[]'::jsonb,
  key_hash         text NOT NULL UNIQUE,
  state            text NOT NULL CHECK (state IN ('issued', 'active', 'rebinding')),
  locked           boolean NOT NULL DEFAULT false,
  locked_reason    text,
  device_jkt       text UNIQUE,
  device_jwk       jsonb,
  rebind_hash      text UNIQUE,
  rebind_expires_at bigint,
  created_at       bigint NOT NULL,
  activated_at     bigint,
  expires_at       bigint,
  last_seen_at     bigint,
  updated_at       bigint NOT NULL,
  version          integer NOT NULL
)`,
      'CREATE INDEX IF NOT EXISTS {{table_name}}_tenant_idx ON {{table}} (tenant, id)',
    ],
  },
  {
    id: 2,
    name: 'device details: host name, agent version, last IP',
    statements: [
      'ALTER TABLE {{table}} ADD COLUMN IF NOT EXISTS last_ip text',
      'ALTER TABLE {{table}} ADD COLUMN IF NOT EXISTS device_host_name text',
      'ALTER TABLE {{table}} ADD COLUMN IF NOT EXISTS device_agent_version text',
    ],
  },
];

/**
 * Options of {@link SqlLicenseStore}.
 *
 * @example
 * ```ts
 * import { type SqlClient, SqlLicenseStore, type SqlLicenseStoreOptions } from '@fluxel/license/sql';
 *
 * // A stand-in client that records the SQL (pg's Pool or PGlite in real use).
 * const statements: string[] = [];
 * const client: SqlClient = {
 *   async query(text) {
 *     statements.push(text);
 *     return { rows: [] };
 *   },
 * };
 * const options: SqlLicenseStoreOptions = { table: 'licensing.licenses' };
 * await new SqlLicenseStore(client, options).migrate();
 * console.log(statements.some((s) => s.includes('licensing.licenses'))); // true
 * ```
 */
export interface SqlLicenseStoreOptions {
  /** Table name (letters, digits, underscores; optionally `schema.table`). Default `fluxel_licenses`. */
  readonly table?: string;
}

// eslint-disable-next-line security/detect-unsafe-regex -- bounded repeats and one optional dot-separated part: linear time
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;
const COLUMNS =
  'id, tenant, product, entitlements, key_hash, state, locked, locked_reason, device_jkt, device_jwk, rebind_hash, rebind_expires_at, created_at, activated_at, expires_at, last_seen_at, updated_at, version, last_ip, device_host_name, device_agent_version';

const PATCH_COLUMNS: Record<keyof LicensePatch, string> = {
  entitlements: 'entitlements',
  state: 'state',
  locked: 'locked',
  lockedReason: 'locked_reason',
  deviceJkt: 'device_jkt',
  deviceJwk: 'device_jwk',
  rebindHash: 'rebind_hash',
  rebindExpiresAt: 'rebind_expires_at',
  activatedAt: 'activated_at',
  expiresAt: 'expires_at',
  lastSeenAt: 'last_seen_at',
  lastIp: 'last_ip',
  deviceHostName: 'device_host_name',
  deviceAgentVersion: 'device_agent_version',
  updatedAt: 'updated_at',
};
const JSON_FIELDS = new Set(['entitlements', 'deviceJwk']);

/**
 * A license store in a SQL table. Optimistic concurrency by `version`, atomic in one UPDATE.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKeyPair, LicenseAuthority, MemoryReplayStore } from '@fluxel/license/server';
 * import { type SqlClient, SqlLicenseStore } from '@fluxel/license/sql';
 *
 * // In production: new SqlLicenseStore(new pg.Pool({ connectionString })) or new SqlLicenseStore(new PGlite()).
 * // A stand-in client that records the SQL (pg's Pool or PGlite in real use).
 * const statements: string[] = [];
 * const client: SqlClient = {
 *   async query(text) {
 *     statements.push(text);
 *     return { rows: [] };
 *   },
 * };
 * const store = new SqlLicenseStore(client);
 * await store.migrate(); // on every start; applies what is missing
 * new LicenseAuthority({
 *   store,
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * assert.ok(statements.some((s) => s.startsWith('CREATE TABLE IF NOT EXISTS fluxel_licenses ')));
 * ```
 */
export class SqlLicenseStore implements LicenseStore {
  readonly #client: SqlClient;
  readonly #table: string;

  constructor(client: SqlClient, options: SqlLicenseStoreOptions = {}) {
    const table = options.table ?? 'fluxel_licenses';
    if (!IDENTIFIER.test(table)) {
      throw new LicenseError(
        'ERR_LICENSE_INVALID_ARGUMENT',
        'the table name must be a plain SQL identifier',
      );
    }
    this.#client = client;
    this.#table = table;
  }

  /** Applies the migrations not yet applied; safe to run on every start (run it from one instance at a time). */
  async migrate(): Promise<void> {
    const log = `${this.#table}_migrations`;
    await this.#query(
      `CREATE TABLE IF NOT EXISTS ${log} (id integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
    );
    const { rows } = await this.#query(`SELECT id FROM ${log}`);
    const applied = new Set(rows.map((r) => Number(r.id)));
    for (const migration of LICENSE_MIGRATIONS) {
      if (applied.has(migration.id)) continue;
      for (const statement of migration.statements) {
        await this.#query(
          statement
            .replaceAll('{{table_name}}', this.#table.split('.').at(-1) as string)
            .replaceAll('{{table}}', this.#table),
        );
      }
      await this.#query(
        `INSERT INTO ${log} (id, name, applied_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
        [migration.id, migration.name, Date.now()],
      );
    }
  }

  async insert(record: LicenseRecord): Promise<void> {
    await this.#query(
      `INSERT INTO ${this.#table} (${COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)`,
      [
        record.id,
        record.tenant,
        record.product,
        JSON.stringify(record.entitlements),
        record.keyHash,
        record.state,
        record.locked,
        record.lockedReason,
        record.deviceJkt,
        record.deviceJwk === null ? null : JSON.stringify(record.deviceJwk),
        record.rebindHash,
        record.rebindExpiresAt,
        record.createdAt,
        record.activatedAt,
        record.expiresAt,
        record.lastSeenAt,
        record.updatedAt,
        record.version,
        record.lastIp ?? null,
        record.deviceHostName ?? null,
        record.deviceAgentVersion ?? null,
      ],
    );
  }

  get(id: string): Promise<LicenseRecord | undefined> {
    return this.#one('id', id);
  }

  findByKeyHash(keyHash: string): Promise<LicenseRecord | undefined> {
    return this.#one('key_hash', keyHash);
  }

  findByRebindHash(rebindHash: string): Promise<LicenseRecord | undefined> {
    return this.#one('rebind_hash', rebindHash);
  }

  findByDevice(jkt: string): Promise<LicenseRecord | undefined> {
    return this.#one('device_jkt', jkt);
  }

  async update(
    id: string,
    version: number,
    patch: LicensePatch,
  ): Promise<LicenseRecord | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [id, version];
    for (const [field, value] of Object.entries(patch)) {
      const column = PATCH_COLUMNS[field as keyof LicensePatch];
      if (!column || value === undefined) continue;
      params.push(JSON_FIELDS.has(field) && value !== null ? JSON.stringify(value) : value);
      sets.push(`${column} = $${params.length}`);
    }
    sets.push('version = version + 1');
    const { rows } = await this.#query(
      `UPDATE ${this.#table} SET ${sets.join(', ')} WHERE id = $1 AND version = $2 RETURNING ${COLUMNS}`,
      params,
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** One conditional UPDATE: of many requests at once, the first to get the row lock writes. */
  async touch(id: string, seen: LicenseSeen): Promise<boolean> {
    const { rows } = await this.#query(
      `UPDATE ${this.#table} SET last_seen_at = $2, last_ip = $3 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at <= $4) RETURNING id`,
      [id, seen.at, seen.ip, seen.staleAt],
    );
    return rows.length > 0;
  }

  async list(filter: LicenseListFilter): Promise<LicenseRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.tenant !== undefined) add('tenant = ?', filter.tenant);
    if (filter.state !== undefined) add('state = ?', filter.state);
    if (filter.locked !== undefined) add('locked = ?', filter.locked);
    if (filter.after !== undefined) add('id > ?', filter.after);
    params.push(filter.limit);
    const { rows } = await this.#query(
      `SELECT ${COLUMNS} FROM ${this.#table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRecord);
  }

  async #one(column: string, value: string): Promise<LicenseRecord | undefined> {
    const { rows } = await this.#query(
      `SELECT ${COLUMNS} FROM ${this.#table} WHERE ${column} = $1`,
      [value],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async #query(text: string, params?: unknown[]) {
    try {
      return await this.#client.query(text, params);
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      if (code === '23505') {
        throw new LicenseError(
          'ERR_LICENSE_CONFLICT',
          'a license with this id, key or device already exists',
          { cause },
        );
      }
      throw new LicenseError('ERR_LICENSE_STORAGE', 'the license database failed', { cause });
    }
  }
}

function toRecord(row: Record<string, unknown>): LicenseRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
  return {
    id: String(row.id),
    tenant: String(row.tenant),
    product: String(row.product),
    entitlements: json<string[]>(row.entitlements),
    keyHash: String(row.key_hash),
    state: row.state as LicenseState,
    locked: Boolean(row.locked),
    lockedReason: (row.locked_reason as string | null) ?? null,
    deviceJkt: (row.device_jkt as string | null) ?? null,
    deviceJwk:
      row.device_jwk === null || row.device_jwk === undefined
        ? null
        : json<PublicJwk>(row.device_jwk),
    rebindHash: (row.rebind_hash as string | null) ?? null,
    rebindExpiresAt: num(row.rebind_expires_at),
    createdAt: Number(row.created_at),
    activatedAt: num(row.activated_at),
    expiresAt: num(row.expires_at),
    lastSeenAt: num(row.last_seen_at),
    lastIp: (row.last_ip as string | null | undefined) ?? null,
    deviceHostName: (row.device_host_name as string | null | undefined) ?? null,
    deviceAgentVersion: (row.device_agent_version as string | null | undefined) ?? null,
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
  };
}
