/**
 * The credential vault and the sealed mailbox: every sensitive value is envelope-encrypted
 * with `@fluxel/crypto` under the relay's keyring, its encryption context naming tenant,
 * license, connection and field, so a value moved to another row does not open.
 * Plaintext is never stored, returned to a caller or logged.
 */
import { fromText, type Keyring, open, seal, toText } from '@fluxel/crypto';
import type { Database } from './db.ts';

export interface Owner {
  readonly licenseId: string;
  readonly tenant: string;
}

export interface StoredCredentials {
  readonly kind: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** Who wrote a connection's credentials: the device, or a portal user's id. */
export const SET_BY_DEVICE = 'device';

/** What may be shown about stored credentials: never a value. */
export interface CredentialsMetadata {
  readonly connection: string;
  readonly kind: string;
  readonly fieldNames: string[];
  readonly setAt: string;
  readonly setBy: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function context(owner: Owner, connection: string, field: string): Record<string, string> {
  return { tenant: owner.tenant, license: owner.licenseId, connection, field };
}

export interface VaultOptions {
  /**
   * How long credentials opened for the forwarder are kept in memory, keyed by tenant,
   * license, connection and the exact sealed text (so a replaced or deleted value is never
   * served: every send reads the row, and a new value has a new ciphertext). 0 = off.
   * Default 0; the relay sets it (`credentialCacheMs`).
   */
  readonly openCacheMs?: number;
  /** Most entries kept. Default 1000. */
  readonly openCacheEntries?: number;
}

export class Vault {
  readonly #db: Database;
  readonly #keyring: Keyring;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #cacheEntries: number;
  readonly #opened = new Map<string, { at: number; value: StoredCredentials }>();

  constructor(db: Database, keyring: Keyring, now: () => number, options: VaultOptions = {}) {
    this.#db = db;
    this.#keyring = keyring;
    this.#now = now;
    this.#cacheMs = options.openCacheMs ?? 0;
    this.#cacheEntries = options.openCacheEntries ?? 1000;
  }

  /** Forgets every opened value kept in memory. */
  forgetOpened(): void {
    this.#opened.clear();
  }

  async sealText(owner: Owner, connection: string, field: string, value: string): Promise<string> {
    const sealed = await seal(encoder.encode(value), {
      keyring: this.#keyring,
      context: context(owner, connection, field),
    });
    return toText(sealed);
  }

  async openText(owner: Owner, connection: string, field: string, text: string): Promise<string> {
    const plain = await open(fromText(text), {
      keyring: this.#keyring,
      context: context(owner, connection, field),
    });
    return decoder.decode(plain);
  }

  /**
   * Stores (replaces) a connection's credentials, each field sealed on its own. `setBy` is
   * {@link SET_BY_DEVICE} for the agent, else the portal user's id.
   */
  async put(
    owner: Owner,
    connection: string,
    credentials: StoredCredentials,
    setBy: string = SET_BY_DEVICE,
  ): Promise<void> {
    const sealed: Record<string, string> = {};
    for (const [name, value] of Object.entries(credentials.fields)) {
      // eslint-disable-next-line security/detect-object-injection -- names match /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/ (Credentials schema); a string value cannot replace a prototype
      sealed[name] = await this.sealText(owner, connection, `credentials.${name}`, value);
    }
    await this.#db.query(
      `INSERT INTO relay_credentials (license_id, tenant, connection, kind, fields, set_at, set_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (license_id, connection)
       DO UPDATE SET kind = EXCLUDED.kind, fields = EXCLUDED.fields, set_at = EXCLUDED.set_at,
         set_by = EXCLUDED.set_by`,
      [
        owner.licenseId,
        owner.tenant,
        connection,
        credentials.kind,
        JSON.stringify(sealed),
        this.#now(),
        setBy,
      ],
    );
  }

  /** Deletes a connection's credentials; whether there were any. */
  async delete(owner: Owner, connection: string): Promise<boolean> {
    const { rows } = await this.#db.query(
      'DELETE FROM relay_credentials WHERE license_id = $1 AND connection = $2 RETURNING connection',
      [owner.licenseId, connection],
    );
    return rows.length > 0;
  }

  /** The decrypted credentials of a connection, for the connector only. */
  async get(owner: Owner, connection: string): Promise<StoredCredentials | undefined> {
    const { rows } = await this.#db.query(
      'SELECT kind, fields FROM relay_credentials WHERE license_id = $1 AND connection = $2',
      [owner.licenseId, connection],
    );
    return this.openRow(owner, connection, rows[0]);
  }

  /**
   * Opens a `relay_credentials` row (`kind`, `fields`) read by the caller in a statement of
   * its own (the forwarder reads it together with its idempotency insert); undefined when
   * there is no row (`kind` is null).
   */
  async openRow(
    owner: Owner,
    connection: string,
    row: Record<string, unknown> | undefined,
  ): Promise<StoredCredentials | undefined> {
    if (!row || row.kind === null || row.kind === undefined) return undefined;
    if (this.#cacheMs <= 0)
      return {
        kind: String(row.kind),
        fields: await this.#openFields(owner, connection, row.fields),
      };
    const sealed = typeof row.fields === 'string' ? row.fields : JSON.stringify(row.fields);
    const key = JSON.stringify([
      owner.tenant,
      owner.licenseId,
      connection,
      String(row.kind),
      sealed,
    ]);
    const now = performance.now();
    const hit = this.#opened.get(key);
    if (hit && now - hit.at < this.#cacheMs) return hit.value;
    const value: StoredCredentials = Object.freeze({
      kind: String(row.kind),
      fields: Object.freeze(await this.#openFields(owner, connection, row.fields)),
    });
    if (this.#opened.size >= this.#cacheEntries) {
      for (const [k, entry] of this.#opened)
        if (now - entry.at >= this.#cacheMs) this.#opened.delete(k);
      if (this.#opened.size >= this.#cacheEntries) this.#opened.clear();
    }
    this.#opened.set(key, { at: now, value });
    return value;
  }

  /**
   * The `webhookSecret` field of every license's connection named `connection` (webhook
   * verification; bounded; no other field is decrypted).
   */
  async webhookSecrets(connection: string): Promise<{ owner: Owner; secret: string }[]> {
    const { rows } = await this.#db.query(
      "SELECT license_id, tenant, fields->>'webhookSecret' AS sealed FROM relay_credentials WHERE connection = $1 AND fields ? 'webhookSecret' ORDER BY set_at LIMIT 20",
      [connection],
    );
    const out: { owner: Owner; secret: string }[] = [];
    for (const row of rows) {
      const owner = { licenseId: String(row.license_id), tenant: String(row.tenant) };
      const secret = await this.openText(
        owner,
        connection,
        'credentials.webhookSecret',
        String(row.sealed),
      );
      out.push({ owner, secret });
    }
    return out;
  }

  /** Connections with credentials, for `status`. */
  async list(owner: Owner): Promise<{ id: string; credentialsSetAt: string }[]> {
    const { rows } = await this.#db.query(
      'SELECT connection, set_at FROM relay_credentials WHERE license_id = $1 ORDER BY connection',
      [owner.licenseId],
    );
    return rows.map((r) => ({
      id: String(r.connection),
      credentialsSetAt: new Date(Number(r.set_at)).toISOString(),
    }));
  }

  /**
   * Metadata of every connection of a license (kind, field names, when and by whom they were
   * set), for the portal. Decrypts nothing; the sealed values never leave the database.
   */
  async metadata(licenseId: string): Promise<CredentialsMetadata[]> {
    const { rows } = await this.#db.query(
      `SELECT connection, kind, set_at, set_by,
         ARRAY(SELECT jsonb_object_keys(fields) ORDER BY 1) AS field_names
       FROM relay_credentials WHERE license_id = $1 ORDER BY connection`,
      [licenseId],
    );
    return rows.map((r) => ({
      connection: String(r.connection),
      kind: String(r.kind),
      fieldNames: (r.field_names as unknown[]).map(String),
      setAt: new Date(Number(r.set_at)).toISOString(),
      setBy: String(r.set_by),
    }));
  }

  async #openFields(
    owner: Owner,
    connection: string,
    raw: unknown,
  ): Promise<Record<string, string>> {
    const sealed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, string>;
    const fields: Record<string, string> = {};
    for (const [name, text] of Object.entries(sealed)) {
      // eslint-disable-next-line security/detect-object-injection -- names were validated on write (Credentials schema); a string value cannot replace a prototype
      fields[name] = await this.openText(owner, connection, `credentials.${name}`, text);
    }
    return fields;
  }
}
