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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function context(owner: Owner, connection: string, field: string): Record<string, string> {
  return { tenant: owner.tenant, license: owner.licenseId, connection, field };
}

export class Vault {
  readonly #db: Database;
  readonly #keyring: Keyring;
  readonly #now: () => number;

  constructor(db: Database, keyring: Keyring, now: () => number) {
    this.#db = db;
    this.#keyring = keyring;
    this.#now = now;
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

  /** Stores (replaces) a connection's credentials, each field sealed on its own. */
  async put(owner: Owner, connection: string, credentials: StoredCredentials): Promise<void> {
    const sealed: Record<string, string> = {};
    for (const [name, value] of Object.entries(credentials.fields))
      sealed[name] = await this.sealText(owner, connection, `credentials.${name}`, value);
    await this.#db.query(
      `INSERT INTO relay_credentials (license_id, tenant, connection, kind, fields, set_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (license_id, connection)
       DO UPDATE SET kind = EXCLUDED.kind, fields = EXCLUDED.fields, set_at = EXCLUDED.set_at`,
      [
        owner.licenseId,
        owner.tenant,
        connection,
        credentials.kind,
        JSON.stringify(sealed),
        this.#now(),
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
    const row = rows[0];
    if (!row) return undefined;
    return {
      kind: String(row.kind),
      fields: await this.#openFields(owner, connection, row.fields),
    };
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

  async #openFields(
    owner: Owner,
    connection: string,
    raw: unknown,
  ): Promise<Record<string, string>> {
    const sealed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, string>;
    const fields: Record<string, string> = {};
    for (const [name, text] of Object.entries(sealed))
      fields[name] = await this.openText(owner, connection, `credentials.${name}`, text);
    return fields;
  }
}
