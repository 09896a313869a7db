/**
 * The credential vault and the sealed mailbox: every sensitive value is envelope-encrypted
 * with `@fluxel/crypto` under its **tenant's own key-encryption key** (`SubjectKeys`; the
 * tenant keys are stored in `relay_tenant_keys`, sealed under the relay's KEK), its encryption
 * context naming tenant, license, connection and field, so a value moved to another row does
 * not open. Destroying a tenant's key (`shred`) makes every value of that tenant unreadable,
 * in the database and in every backup of it (crypto-shredding). Values sealed before tenant
 * keys existed (directly under the relay's KEK) still open.
 * Plaintext is never stored, returned to a caller or logged.
 */

import { randomBytes } from 'node:crypto';
import {
  CryptoError,
  fromText,
  inspect,
  type Keyring,
  open,
  type StoredSubjectKey,
  type SubjectKeyStore,
  SubjectKeys,
  seal,
  toText,
} from '@fluxel/crypto';
import type { Database } from '@fluxel-example/kit/database';
import { requireWebhookSecret } from './webhooks.ts';

/** The tenant keys in `relay_tenant_keys` (material sealed by `SubjectKeys` under the KEK). */
export class SqlTenantKeyStore implements SubjectKeyStore {
  readonly #db: Database;
  readonly #now: () => number;
  constructor(db: Database, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async get(tenant: string): Promise<StoredSubjectKey | undefined> {
    const { rows } = await this.#db.query(
      'SELECT state, material, destroyed_at FROM relay_tenant_keys WHERE tenant = $1',
      [tenant],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (row.state === 'destroyed')
      return { state: 'destroyed', destroyedAt: Number(row.destroyed_at) };
    return { state: 'active', material: Buffer.from(String(row.material), 'base64') };
  }

  /**
   * Stores a new key unless the tenant has one (active or destroyed): two instances creating
   * the same tenant's key at once both end up with the one that was stored first, and a
   * destroyed key is never replaced.
   */
  async create(tenant: string, material: Uint8Array): Promise<void> {
    await this.#db.query(
      `INSERT INTO relay_tenant_keys (tenant, state, material, created_at)
       VALUES ($1, 'active', $2, $3) ON CONFLICT (tenant) DO NOTHING`,
      [tenant, Buffer.from(material).toString('base64'), this.#now()],
    );
  }

  async destroy(tenant: string, at: number): Promise<void> {
    await this.#db.query(
      `INSERT INTO relay_tenant_keys (tenant, state, material, created_at, destroyed_at)
       VALUES ($1, 'destroyed', NULL, $2, $2)
       ON CONFLICT (tenant) DO UPDATE SET state = 'destroyed', material = NULL,
         destroyed_at = COALESCE(relay_tenant_keys.destroyed_at, EXCLUDED.destroyed_at)`,
      [tenant, at],
    );
  }
}

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
  /**
   * The connection's own inbound webhook URL (`<relay>/v1/hooks/<connection>/<hookId>`) for the
   * third party's settings; null when the credentials hold no `webhookSecret`.
   */
  readonly hookUrl: string | null;
}

/** Where a connection's webhooks go: its own URL, and whether the deprecated shared one still works. */
export interface WebhookEndpoint {
  readonly url: string;
  /** Whether `/v1/hooks/<connection>` (deprecated, stored before hook ids) still reaches it. */
  readonly legacyUrl: string | null;
}

/** A connection's webhook secret, found by its hook id or (deprecated) its connection name. */
export interface WebhookSecret {
  readonly owner: Owner;
  readonly secret: string;
  readonly legacy: boolean;
}

/** The path of a connection's hook, relative to the relay's base URL. */
export function hookPath(connection: string, hookId: string): string {
  return `/v1/hooks/${connection}/${hookId}`;
}

/** A hook id: 24 random bytes, base64url (192 bits; unguessable, one per connection row). */
export function newHookId(): string {
  return randomBytes(24).toString('base64url');
}

/** The shape of a hook id in a URL (new ones: 32 base64url characters; backfilled: 64 hex). */
export const HOOK_ID = /^[A-Za-z0-9_-]{32,64}$/;

/** Most rows the deprecated `/v1/hooks/<connection>` tries (only rows stored before hook ids). */
export const LEGACY_HOOK_CANDIDATES = 20;

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
  /**
   * How often (ms) a tenant key held in memory is checked against the store for a tombstone,
   * so a tenant shredded by another instance stops opening here within this time. Default
   * 5000.
   */
  readonly tenantKeyRecheckMs?: number;
  /** The relay's public base URL (read when a hook URL is shown). Default: paths only. */
  readonly hookBaseUrl?: () => string;
}

export class Vault {
  readonly #db: Database;
  readonly #keyring: Keyring;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #cacheEntries: number;
  readonly #opened = new Map<string, { at: number; value: StoredCredentials }>();
  readonly #tenantStore: SqlTenantKeyStore;
  readonly #tenantKeys: SubjectKeys;
  readonly #recheckMs: number;
  readonly #checkedAt = new Map<string, number>();
  readonly #hookBaseUrl: () => string;

  constructor(db: Database, keyring: Keyring, now: () => number, options: VaultOptions = {}) {
    this.#db = db;
    this.#keyring = keyring;
    this.#now = now;
    this.#cacheMs = options.openCacheMs ?? 0;
    this.#cacheEntries = options.openCacheEntries ?? 1000;
    this.#recheckMs = options.tenantKeyRecheckMs ?? 5000;
    this.#hookBaseUrl = options.hookBaseUrl ?? (() => '');
    this.#tenantStore = new SqlTenantKeyStore(db, now);
    this.#tenantKeys = new SubjectKeys({
      store: this.#tenantStore,
      protect: keyring,
      prefix: 'tenant:',
    });
  }

  /**
   * At most every `tenantKeyRecheckMs` per tenant: whether another instance destroyed the
   * tenant's key; if so the copy held here and the tenant's cached credentials are dropped.
   */
  async #recheck(tenant: string): Promise<void> {
    const now = Date.now();
    const checked = this.#checkedAt.get(tenant);
    if (checked !== undefined && now - checked < this.#recheckMs) return;
    this.#checkedAt.set(tenant, now);
    if (checked === undefined) return; // first use: the store is read by `keyring()` anyway
    const stored = await this.#tenantStore.get(tenant);
    if (stored?.state === 'destroyed') await this.#forgetTenant(tenant);
  }

  /** The tenant's keyring (created on first use when sealing). */
  async #tenantRing(tenant: string, create: boolean): Promise<Keyring> {
    await this.#recheck(tenant);
    return this.#tenantKeys.keyring(tenant, { create });
  }

  async #forgetTenant(tenant: string): Promise<void> {
    await this.#tenantKeys.destroy(tenant);
    const prefix = `${JSON.stringify([tenant]).slice(0, -1)},`;
    for (const key of this.#opened.keys()) if (key.startsWith(prefix)) this.#opened.delete(key);
  }

  /**
   * Crypto-shreds a tenant: destroys its key (a tombstone stays), so every credential and held
   * event of the tenant is unreadable from now on — in this database and in every backup of
   * it. Other relay instances stop opening them within `tenantKeyRecheckMs` (their decrypted
   * credential caches are keyed by tenant and dropped then too). Rows are left in place.
   */
  async shred(tenant: string): Promise<void> {
    await this.#forgetTenant(tenant);
    this.#opened.clear();
  }

  /** Forgets every opened value kept in memory. */
  forgetOpened(): void {
    this.#opened.clear();
  }

  async sealText(owner: Owner, connection: string, field: string, value: string): Promise<string> {
    const sealed = await seal(encoder.encode(value), {
      keyring: await this.#tenantRing(owner.tenant, true),
      context: context(owner, connection, field),
    });
    return toText(sealed);
  }

  async openText(owner: Owner, connection: string, field: string, text: string): Promise<string> {
    const bytes = fromText(text);
    // Sealed under the tenant's key, or (before tenant keys) directly under the relay's KEK.
    const tenantKek = this.#tenantKeys.kekId(owner.tenant);
    const keyring = inspect(bytes).kekIds.includes(tenantKek)
      ? await this.#tenantRing(owner.tenant, false)
      : this.#keyring;
    const plain = await open(bytes, { keyring, context: context(owner, connection, field) });
    return decoder.decode(plain);
  }

  /**
   * Stores (replaces) a connection's credentials, each field sealed on its own. `setBy` is
   * {@link SET_BY_DEVICE} for the agent, else the portal user's id. A `webhookSecret` field
   * must be a usable Standard Webhooks secret (else a 400 problem). A new row gets its hook id
   * here; a replaced row keeps its id (the third party's webhook URL stays the same).
   */
  async put(
    owner: Owner,
    connection: string,
    credentials: StoredCredentials,
    setBy: string = SET_BY_DEVICE,
  ): Promise<void> {
    const webhookSecret = credentials.fields.webhookSecret;
    if (webhookSecret !== undefined) requireWebhookSecret(webhookSecret);
    const sealed: Record<string, string> = {};
    for (const [name, value] of Object.entries(credentials.fields)) {
      // eslint-disable-next-line security/detect-object-injection -- names match /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/ (Credentials schema); a string value cannot replace a prototype
      sealed[name] = await this.sealText(owner, connection, `credentials.${name}`, value);
    }
    await this.#db.query(
      `INSERT INTO relay_credentials (license_id, tenant, connection, kind, fields, set_at, set_by, hook_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (license_id, connection)
       DO UPDATE SET kind = EXCLUDED.kind, fields = EXCLUDED.fields, set_at = EXCLUDED.set_at,
         set_by = EXCLUDED.set_by, hook_id = COALESCE(relay_credentials.hook_id, EXCLUDED.hook_id)`,
      [
        owner.licenseId,
        owner.tenant,
        connection,
        credentials.kind,
        JSON.stringify(sealed),
        this.#now(),
        setBy,
        newHookId(),
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
    await this.#recheck(owner.tenant);
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
   * The `webhookSecret` of the one connection whose hook id is `hookId` (and whose name is
   * `connection`): one indexed row, one decryption, nothing else opened. Undefined when there
   * is none, it holds no webhook secret, or its tenant was shredded.
   */
  async webhookSecret(connection: string, hookId: string): Promise<WebhookSecret | undefined> {
    const { rows } = await this.#db.query(
      "SELECT license_id, tenant, fields->>'webhookSecret' AS sealed, legacy_hook FROM relay_credentials WHERE hook_id = $1 AND connection = $2 AND fields ? 'webhookSecret'",
      [hookId, connection],
    );
    const row = rows[0];
    return row ? this.#openWebhookSecret(connection, row) : undefined;
  }

  /**
   * Deprecated routing by connection name alone (`/v1/hooks/<connection>`): the webhook
   * secrets of the rows stored before hook ids existed (marked legacy by the migration; new
   * rows never are, so this set only shrinks), at most {@link LEGACY_HOOK_CANDIDATES}.
   */
  async legacyWebhookSecrets(connection: string): Promise<WebhookSecret[]> {
    const { rows } = await this.#db.query(
      `SELECT license_id, tenant, fields->>'webhookSecret' AS sealed, legacy_hook FROM relay_credentials
       WHERE connection = $1 AND (legacy_hook OR hook_id IS NULL) AND fields ? 'webhookSecret' ORDER BY set_at LIMIT ${LEGACY_HOOK_CANDIDATES}`,
      [connection],
    );
    const out: WebhookSecret[] = [];
    for (const row of rows) {
      const opened = await this.#openWebhookSecret(connection, row);
      if (opened) out.push(opened);
    }
    return out;
  }

  async #openWebhookSecret(
    connection: string,
    row: Record<string, unknown>,
  ): Promise<WebhookSecret | undefined> {
    const owner = { licenseId: String(row.license_id), tenant: String(row.tenant) };
    try {
      const secret = await this.openText(
        owner,
        connection,
        'credentials.webhookSecret',
        String(row.sealed),
      );
      return { owner, secret, legacy: row.legacy_hook === true };
    } catch (error) {
      // A shredded tenant's secret no longer opens: it takes no more webhooks, the others do.
      if (CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_KEY_DESTROYED')
        return undefined;
      throw error;
    }
  }

  /**
   * Where the third party sends a connection's webhooks (no decryption); undefined when its
   * credentials hold no `webhookSecret`.
   */
  async webhookEndpoint(owner: Owner, connection: string): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.#db.query(
      "SELECT hook_id, legacy_hook FROM relay_credentials WHERE license_id = $1 AND connection = $2 AND fields ? 'webhookSecret' AND hook_id IS NOT NULL",
      [owner.licenseId, connection],
    );
    const row = rows[0];
    if (!row) return undefined;
    const base = this.#hookBaseUrl();
    return {
      url: `${base}${hookPath(connection, String(row.hook_id))}`,
      legacyUrl: row.legacy_hook === true ? `${base}/v1/hooks/${connection}` : null,
    };
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
      `SELECT connection, kind, set_at, set_by, hook_id, fields ? 'webhookSecret' AS takes_webhooks,
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
      hookUrl:
        r.takes_webhooks === true && r.hook_id
          ? `${this.#hookBaseUrl()}${hookPath(String(r.connection), String(r.hook_id))}`
          : null,
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
