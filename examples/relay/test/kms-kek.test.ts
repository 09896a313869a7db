/**
 * Deployment gap 5: the relay's KEK in AWS KMS. A relay started with `[KMS KEK, key file KEK]`
 * (what `RELAY_KMS_KEY_ID` builds, through `@fluxel-example/kit/kek`) seals new tenant keys —
 * and so every credential and mailbox row under them — through KMS `Encrypt`, opens rows
 * sealed before the switch with the key file alone, pays KMS per tenant and process, not per
 * row (the tenant key stays in memory), and answers a retryable 503 while KMS is
 * unreachable, serving tenants whose keys need no KMS call on. KMS is the wire-protocol
 * stand-in of `@fluxel/internal/kms-standin` (real `@aws-sdk/client-kms`, SigV4-signed
 * requests; not real AWS).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromText, inspect, type Keyring } from '@fluxel/crypto';
import { type KmsStandIn, startKmsStandIn } from '@fluxel/internal/kms-standin';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import type { NodeRelayClient } from '@fluxel/relay-client/node';
import { generateWebhookSecret } from '@fluxel-example/counterpart';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { kmsKekFromEnv, kmsKeyring } from '@fluxel-example/kit/kek';
import { ensureDevTls } from '@fluxel-example/kit/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, relayFileKek } from '../src/relay.ts';
import { API_KEY, type Harness, startHarness } from './helpers.ts';

let kms: KmsStandIn;
let keyId: string;
let database: Database;
const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-relay-kms-'));
const harnesses: Harness[] = [];

/** `[KMS, key file]` built from the environment as `main.ts` builds it (endpoint, credentials). */
async function kmsRing(): Promise<Keyring> {
  const config = kmsKekFromEnv('RELAY_KMS_KEY_ID', { RELAY_KMS_KEY_ID: keyId });
  if (!config) throw new Error('no KMS config');
  return kmsKeyring({
    ...config,
    fileKek: await relayFileKek(dataDir),
    encryptionContext: { fluxel: 'dek-v1', service: 'relay' },
  }).keyring;
}

/** One webhook secret for every start, so a restarted relay verifies hooks of earlier rows. */
const webhookSecret = generateWebhookSecret();

/** A relay (re)started over the same database and data directory, as after a deploy. */
async function start(keyring?: Keyring): Promise<Harness> {
  const h = await startHarness({
    database,
    dataDir,
    relay: keyring ? { keyring } : {},
    counterpart: {
      webhook: {
        url: 'https://127.0.0.1:9/unset',
        secret: webhookSecret,
        ca: ensureDevTls(join(dataDir, 'tls')).ca,
      },
    },
  });
  harnesses.push(h);
  return h;
}

/** The KEK ids that sealed a tenant's key in `relay_tenant_keys`. */
async function tenantKeySealedBy(tenant: string): Promise<readonly string[]> {
  const { rows } = await database.query(
    'SELECT material FROM relay_tenant_keys WHERE tenant = $1',
    [tenant],
  );
  return inspect(Buffer.from(String(rows[0]?.material), 'base64')).kekIds;
}

/** A fresh license of `tenant`, activated, with credentials for `shop-1`; and its id. */
async function activated(h: Harness, tenant: string) {
  const { client } = await h.client();
  await client.activate({ body: { licenseKey: await h.issueKey(tenant) } });
  const put = await client.putCredentials.safe({
    connection: 'shop-1',
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret } },
  });
  const { rows } = await database.query(
    'SELECT license_id FROM relay_credentials WHERE tenant = $1 ORDER BY set_at DESC LIMIT 1',
    [tenant],
  );
  return { client, put, licenseId: String(rows[0]?.license_id) };
}

const send = (client: NodeRelayClient) =>
  client.send.safe({
    connection: 'shop-1',
    idempotencyKey: randomUUID(),
    body: { operation: 'order.status', payload: { order: randomUUID(), status: 'shipped' } },
  });

beforeAll(async () => {
  kms = await startKmsStandIn();
  keyId = kms.createKey();
  // What a deployment sets; the AWS SDK reads them (no region: the key ARN's is used).
  process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'not-a-secret';
  database = await openDatabase();
});
afterAll(async () => {
  for (const h of harnesses) await h.close().catch(() => {});
  await database?.close();
  await kms?.close();
});

describe('relay KEK in KMS (RELAY_KMS_KEY_ID) against a KMS stand-in', () => {
  it('seals through KMS per tenant (not per row), opens rows sealed under the key file, and answers 503 while KMS is down', async () => {
    // Before the switch: the key file alone (the default).
    const before = await start();
    const old = await activated(before, 'merchant-old');
    expect(old.put.ok).toBe(true);
    expect((await before.hook('shop-1', { licenseId: old.licenseId })).status).toBe(204);
    expect(await tenantKeySealedBy('merchant-old')).toEqual(['dev-file-kek']);
    await before.close();

    // The switch: [KMS, key file].
    const ring = await kmsRing();
    expect(ring.primary.id).toBe(`aws-kms:${keyId}`);
    const after = await start(ring);
    kms.calls.length = 0;
    // The credentials row sealed before opens (its tenant key with the key file): no KMS call.
    expect((await after.hook('shop-1', { licenseId: old.licenseId })).status).toBe(204);
    expect(kms.calls).toEqual([]);
    // A new tenant: its key is sealed by KMS (one Encrypt, and one Decrypt: `SubjectKeys` reads
    // the stored key back, so two instances creating it at once agree); its credential and
    // mailbox rows are sealed under that key without further KMS calls.
    const fresh = await activated(after, 'merchant-new');
    expect(fresh.put.ok).toBe(true);
    for (let i = 0; i < 3; i++) expect((await send(fresh.client)).ok).toBe(true);
    for (let i = 0; i < 3; i++)
      expect((await after.hook('shop-1', { licenseId: fresh.licenseId })).status).toBe(204);
    expect(kms.calls).toEqual(['Encrypt', 'Decrypt']);
    expect(await tenantKeySealedBy('merchant-new')).toEqual([`aws-kms:${keyId}`]);
    expect(await tenantKeySealedBy('merchant-old')).toEqual(['dev-file-kek']);
    const { rows } = await database.query(
      "SELECT sealed FROM relay_mailbox WHERE tenant = 'merchant-new'",
    );
    expect(rows).toHaveLength(3);
    for (const row of rows)
      expect(inspect(fromText(String(row.sealed))).kekIds).toEqual(['tenant:merchant-new']);
    await after.close();

    // A restarted process: one Decrypt for the tenant's key, then none per row.
    const again = await start(await kmsRing());
    kms.calls.length = 0;
    for (let i = 0; i < 3; i++)
      expect((await again.hook('shop-1', { licenseId: fresh.licenseId })).status).toBe(204);
    const second = await activated(again, 'merchant-new');
    expect(second.put.ok).toBe(true);
    for (let i = 0; i < 3; i++) expect((await send(second.client)).ok).toBe(true);
    expect(kms.calls).toEqual(['Decrypt']);
    await again.close();

    // KMS unreachable after a restart: a retryable 503 where the tenant's key needs KMS, while
    // the relay serves on (the key-file tenant's hooks land); all works again once KMS is back.
    const outage = await start(await kmsRing());
    kms.outage(true);
    const hookDuring = await outage.hook('shop-1', { licenseId: fresh.licenseId });
    expect(hookDuring.status).toBe(503);
    const third = await activated(outage, 'merchant-new');
    expect(third.put.ok).toBe(false);
    const error = (third.put as { error: { status?: number; retryable?: boolean } }).error;
    expect({ status: error.status, retryable: error.retryable }).toEqual({
      status: 503,
      retryable: true,
    });
    expect((await outage.hook('shop-1', { licenseId: old.licenseId })).status).toBe(204);
    kms.outage(false);
    expect((await outage.hook('shop-1', { licenseId: fresh.licenseId })).status).toBe(204);
  });

  it('refuses a keyring that is not a Keyring, saying what to pass', async () => {
    await expect(
      createRelay({
        dataDir,
        inMemoryDatabase: true,
        connector: { send: async () => ({ kind: 'unknown', reason: 'unused' }) } as never,
        keyring: { primary: {} } as unknown as Keyring,
      }),
    ).rejects.toThrow(/keyring must be a Keyring of @fluxel\/crypto/);
  });

  it('the start script exits 1 naming RELAY_KMS_KEY_ID when it is not a KMS key ARN', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../src/main.ts')],
      {
        env: {
          PATH: process.env.PATH,
          RELAY_DEV_TOKENS: '0',
          RELAY_DATA_DIR: dataDir,
          RELAY_KMS_KEY_ID: 'my-key',
        },
        encoding: 'utf8',
        timeout: READY_BOUND_MS,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('relay: RELAY_KMS_KEY_ID: "my-key" is not a KMS key ARN');
  });
});
