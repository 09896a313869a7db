/**
 * The relay's tables and their migration; the database itself is opened with the kit's
 * `openDatabase` (`@fluxel-example/kit/database`).
 */

import { type SqlClient, SqlLicenseStore } from '@fluxel/license/sql';
import type { Database } from '@fluxel-example/kit/database';
import { refuseStandby } from '@fluxel-example/kit/database-start';

/** The relay's own tables (the license table comes from `SqlLicenseStore.migrate()`). */
export const RELAY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS relay_credentials (
  license_id  text NOT NULL,
  tenant      text NOT NULL,
  connection  text NOT NULL,
  kind        text NOT NULL,
  fields      jsonb NOT NULL,
  set_at      bigint NOT NULL,
  PRIMARY KEY (license_id, connection)
)`,
  'CREATE INDEX IF NOT EXISTS relay_credentials_connection_idx ON relay_credentials (connection)',
  `CREATE TABLE IF NOT EXISTS relay_idempotency (
  license_id      text NOT NULL,
  key             text NOT NULL,
  connection      text NOT NULL,
  operation       text NOT NULL,
  body_hash       text NOT NULL,
  state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'rejected')),
  upstream_status integer,
  completed_at    bigint,
  created_at      bigint NOT NULL,
  PRIMARY KEY (license_id, key)
)`,
  `CREATE TABLE IF NOT EXISTS relay_mailbox (
  license_id  text NOT NULL,
  id          text NOT NULL,
  tenant      text NOT NULL,
  connection  text NOT NULL,
  type        text NOT NULL,
  sealed      text NOT NULL,
  received_at bigint NOT NULL,
  expires_at  bigint NOT NULL,
  PRIMARY KEY (license_id, id)
)`,
  'CREATE INDEX IF NOT EXISTS relay_mailbox_expires_idx ON relay_mailbox (expires_at)',
  // Who wrote the credentials: 'device' (the agent), else the portal user's id.
  "ALTER TABLE relay_credentials ADD COLUMN IF NOT EXISTS set_by text NOT NULL DEFAULT 'device'",
  // One key-encryption key per tenant (crypto-shredding), itself sealed under the relay's KEK;
  // destroying it leaves a tombstone, so it is never recreated.
  `CREATE TABLE IF NOT EXISTS relay_tenant_keys (
  tenant       text PRIMARY KEY,
  state        text NOT NULL CHECK (state IN ('active', 'destroyed')),
  material     text,
  created_at   bigint NOT NULL,
  destroyed_at bigint
)`,
  // Inbound webhooks are routed by a per-connection hook id (`/v1/hooks/<connection>/<hookId>`),
  // so a webhook costs one row and one decryption. Rows stored before hook ids existed get one
  // here and are marked legacy: only they are still served on `/v1/hooks/<connection>`
  // (deprecated). gen_random_uuid() draws from the server's strong random source (244 bits
  // here); new rows get their id from the relay (24 random bytes).
  'ALTER TABLE relay_credentials ADD COLUMN IF NOT EXISTS hook_id text',
  'ALTER TABLE relay_credentials ADD COLUMN IF NOT EXISTS legacy_hook boolean NOT NULL DEFAULT false',
  `UPDATE relay_credentials
     SET hook_id = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), legacy_hook = true
   WHERE hook_id IS NULL`,
  'CREATE UNIQUE INDEX IF NOT EXISTS relay_credentials_hook_idx ON relay_credentials (hook_id)',
  // Ids of accepted webhooks per license, remembered past the signature's tolerance window, so
  // a signed webhook replayed after the agent acked it is not stored again.
  `CREATE TABLE IF NOT EXISTS relay_webhook_seen (
  license_id  text NOT NULL,
  id          text NOT NULL,
  expires_at  bigint NOT NULL,
  PRIMARY KEY (license_id, id)
)`,
  'CREATE INDEX IF NOT EXISTS relay_webhook_seen_expires_idx ON relay_webhook_seen (expires_at)',
  // The random token of the claim that created (or reclaimed) an idempotency record: the claim
  // whose token it holds is the one that forwards. Records are purged past the idempotency
  // window by claim time (created_at).
  'ALTER TABLE relay_idempotency ADD COLUMN IF NOT EXISTS claim text',
  'CREATE INDEX IF NOT EXISTS relay_idempotency_created_idx ON relay_idempotency (created_at)',
  // The purge's claim on an expired mailbox event (a random token and when it was taken): the
  // event is audited as expired while claimed and deleted only afterwards, by the claim that
  // audited it; a claim older than its lease (the instance died in between) is taken over.
  'ALTER TABLE relay_mailbox ADD COLUMN IF NOT EXISTS expire_claim text',
  'ALTER TABLE relay_mailbox ADD COLUMN IF NOT EXISTS expire_claimed_at bigint',
  // Shared replay caches (Redis key prefixes) this deployment has used, and since when: one
  // that is in use here but has lost its keys lost its entries (replay-store.ts).
  `CREATE TABLE IF NOT EXISTS relay_replay_stores (
  name        text PRIMARY KEY,
  first_used  bigint NOT NULL
)`,
];

/**
 * Brings the database to the relay's schema: the license store's tables, then
 * {@link RELAY_MIGRATIONS} — under the database's migration lock when it has one (PostgreSQL),
 * so instances started at the same moment do not race on CREATE TABLE / ALTER TABLE.
 */
export async function migrateRelay(database: Database): Promise<void> {
  // A standby would refuse the first CREATE; say so plainly (the start waits for a promotion).
  if (database.kind === 'postgres') await refuseStandby(database.query);
  const migrate = async (client: SqlClient) => {
    await new SqlLicenseStore(client).migrate();
    for (const statement of RELAY_MIGRATIONS) await client.query(statement);
  };
  await (database.exclusive ? database.exclusive(migrate) : migrate(database));
}
