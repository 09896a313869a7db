/**
 * The idempotency table's body fingerprints are keyed (HMAC with a relay secret): a reader of
 * the table cannot confirm a guessed body by hashing it. Records written before the upgrade
 * (bare SHA-256) still match their own body: a retry is replayed, never forwarded again.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DpopSigner } from '@fluxel/license';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, rawRequest, startHarness } from './helpers.ts';

const CONNECTION = 'shop-1';
let h: Harness;
let device: DpopSigner;
let accessToken: string;
let licenseId: string;

beforeAll(async () => {
  h = await startHarness();
  const made = await h.client();
  device = made.device;
  await made.client.activate({ body: { licenseKey: await h.issueKey() } });
  await made.client.putCredentials({
    connection: CONNECTION,
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
  });
  const tokens = await made.client.tokens();
  accessToken = tokens?.accessToken as string;
  licenseId = tokens?.licenseId as string;
});

afterAll(async () => {
  await h?.close();
});

const send = (key: string, body: string) =>
  rawRequest(h, 'POST', `/v1/connections/${CONNECTION}/send`, {
    body,
    device,
    accessToken,
    headers: { 'idempotency-key': key },
  });
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const storedHash = async (key: string) =>
  (
    await h.relay.database.query(
      'SELECT body_hash FROM relay_idempotency WHERE license_id = $1 AND key = $2',
      [licenseId, key],
    )
  ).rows[0]?.body_hash;

describe('idempotency record fingerprints', () => {
  it('regression: the idempotency table holds a keyed hash of a send body, not its bare SHA-256', async () => {
    const key = randomUUID();
    const body = JSON.stringify({
      operation: 'order.status',
      payload: { order: 'A-7', status: 'packed' },
    });
    expect((await send(key, body)).status).toBe(200);
    const stored = String(await storedHash(key));
    expect(stored).not.toBe(sha256(body));
    expect(stored).not.toContain(sha256(body));
    expect(stored).toMatch(/^hmac-d:[A-Za-z0-9_-]{43}$/);
    // The same body again is a replay; another body under the key is a conflict.
    expect((await send(key, body)).json).toMatchObject({ replayed: true });
    const other = JSON.stringify({
      operation: 'order.status',
      payload: { order: 'A-7', status: 'shipped' },
    });
    expect((await send(key, other)).status).toBe(409);
  });

  it('a record written before the upgrade (bare SHA-256) still matches its body: replayed, not forwarded again; another body is a conflict', async () => {
    const key = randomUUID();
    const body = JSON.stringify({
      operation: 'order.status',
      payload: { order: 'A-8', status: 'packed' },
    });
    await h.relay.database.query(
      `INSERT INTO relay_idempotency (license_id, key, connection, operation, body_hash, state, upstream_status, completed_at, created_at)
       VALUES ($1, $2, $3, 'order.status', $4, 'delivered', 200, $5, $5)`,
      [licenseId, key, CONNECTION, sha256(body), Date.now()],
    );
    const before = h.counterpart.effects.length;
    const again = await send(key, body);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ replayed: true });
    expect(h.counterpart.effects.length).toBe(before);
    const other = JSON.stringify({
      operation: 'order.status',
      payload: { order: 'A-8', status: 'shipped' },
    });
    expect((await send(key, other)).status).toBe(409);
  });
});
