/**
 * The relay end to end over real HTTPS: the real `@fluxel/relay-client/node` client pinned
 * to the dev CA, the real counterpart, the license authority and the vault on PGlite.
 */
import { randomUUID } from 'node:crypto';
import type { NodeRelayClient } from '@fluxel/relay-client/node';
import { generateWebhookSecret } from '@fluxel-example/counterpart';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAILBOX_TTL_MS } from '../src/relay.ts';
import { API_KEY, type Harness, rawRequest, startHarness } from './helpers.ts';

let h: Harness;
let client: NodeRelayClient;
let licenseKey: string;
const CONNECTION = 'shop-1';
const SECRET_MARKER = 'iban-DE89-3704-0044-0532-0130-00';

beforeAll(async () => {
  h = await startHarness();
  ({ client } = await h.client());
  licenseKey = await h.issueKey();
  await client.activate({ body: { licenseKey } });
  await client.putCredentials({
    connection: CONNECTION,
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
  });
});

afterAll(async () => {
  await h?.close();
});

const effectsFor = (key: string) => h.counterpart.effects.filter((e) => e.idempotencyKey === key);

describe('full flow', () => {
  it('activation and stored credentials show in status; credential writes are audited', async () => {
    const status = await client.status();
    expect(status.license.status).toBe('active');
    expect(status.connections.map((c) => c.id)).toEqual([CONNECTION]);
    expect(h.audited('license.activate').map((e) => e.outcome)).toContain('success');
    const put = h.audited('credentials.put');
    expect(put).toHaveLength(1);
    expect(JSON.stringify(put)).not.toContain(API_KEY);
  });

  it('the bound device refreshes its tokens with its key alone', async () => {
    const before = await client.tokens();
    await new Promise((r) => setTimeout(r, 1100)); // a new iat gives a new token
    const refreshed = await client.refreshToken({ body: {} });
    expect(refreshed.accessToken).not.toBe(before?.accessToken);
    expect((await client.status()).license.status).toBe('active');
  });

  it('send: the counterpart receives the operation exactly once, a repeat is replayed', async () => {
    const idempotencyKey = randomUUID();
    const body = { operation: 'order.status', payload: { order: 'A-1001', status: 'shipped' } };
    const first = await client.send({ connection: CONNECTION, idempotencyKey, body });
    expect(first).toMatchObject({ status: 'delivered', upstreamStatus: 200, replayed: false });
    const again = await client.send({ connection: CONNECTION, idempotencyKey, body });
    expect(again.replayed).toBe(true);
    expect(effectsFor(idempotencyKey)).toHaveLength(1);
    expect(effectsFor(idempotencyKey)[0]?.body).toEqual({ order: 'A-1001', status: 'shipped' });
    expect(h.audited('relay.send').some((e) => e.data?.idempotencyKey === idempotencyKey)).toBe(
      true,
    );
  });

  it('counterpart down: 503 retryable with Retry-After; after recovery the same key delivers once', async () => {
    const idempotencyKey = randomUUID();
    const body = {
      operation: 'shipment.create',
      payload: { order: 'A-1002', carrier: 'DHL', tracking: '00340434' },
    };
    h.counterpart.setDown(true);
    const down = await client.send.safe({ connection: CONNECTION, idempotencyKey, body });
    expect(down.ok).toBe(false);
    if (down.ok) return;
    expect(down.error.code).toBe('ERR_RELAY_UPSTREAM_UNAVAILABLE');
    expect(down.error.status).toBe(503);
    expect(down.error.problem).toMatchObject({ retryable: true, retryAfter: 30 });
    expect((down.error as { retryAfterMs?: number }).retryAfterMs).toBe(30_000); // Retry-After header
    expect(effectsFor(idempotencyKey)).toHaveLength(0);

    h.counterpart.setDown(false);
    const sent = await client.send({ connection: CONNECTION, idempotencyKey, body });
    expect(sent.replayed).toBe(false);
    const repeated = await client.send({ connection: CONNECTION, idempotencyKey, body });
    expect(repeated.replayed).toBe(true);
    expect(effectsFor(idempotencyKey)).toHaveLength(1);
  });

  it('the same idempotency key with another body is a conflict and is not forwarded', async () => {
    const idempotencyKey = randomUUID();
    const payload = { order: 'A-1003', status: 'packed' };
    await client.send({
      connection: CONNECTION,
      idempotencyKey,
      body: { operation: 'order.status', payload },
    });
    const other = await client.send.safe({
      connection: CONNECTION,
      idempotencyKey,
      body: { operation: 'order.status', payload: { ...payload, status: 'cancelled' } },
    });
    expect(!other.ok && other.error.code).toBe('ERR_RELAY_IDEMPOTENCY_CONFLICT');
    expect(effectsFor(idempotencyKey)).toHaveLength(1);
  });

  it('webhook → mailbox: a waiting pickup wakes on arrival, ack deletes the event', async () => {
    const started = Date.now();
    const pending = client.pickup({ wait: 10, limit: 10 });
    await new Promise((r) => setTimeout(r, 300));
    const sent = await h.hook(CONNECTION, {
      payload: { paymentId: 'pay-1', amount: 1999, reference: SECRET_MARKER },
    });
    expect(sent.status).toBe(204);
    const { events } = await pending;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({ id: sent.id, connection: CONNECTION, type: 'payment.received' });
    expect(event?.payload).toMatchObject({ data: { reference: SECRET_MARKER } });
    expect(Date.parse(event?.expiresAt as string) - Date.parse(event?.receivedAt as string)).toBe(
      MAILBOX_TTL_MS,
    );
    expect((await client.status()).mailbox.pending).toBe(1);

    expect(await client.ack({ body: { ids: [sent.id] } })).toEqual({ acked: 1 });
    expect((await client.pickup({ wait: 0 })).events).toHaveLength(0);
    expect(h.audited('mailbox.receive').map((e) => e.target?.id)).toContain(sent.id);
    expect(
      h.audited('mailbox.ack').some((e) => ((e.data?.ids ?? []) as string[]).includes(sent.id)),
    ).toBe(true);
  });

  it('an event older than seven days is gone from pickup, purged and audited', async () => {
    const sent = await h.hook(CONNECTION, { payload: { paymentId: 'pay-old' } });
    expect(sent.status).toBe(204);
    expect((await client.pickup({ wait: 0 })).events.map((e) => e.id)).toEqual([sent.id]);
    h.clockOffset.ms = MAILBOX_TTL_MS + 1000;
    try {
      expect((await client.pickup({ wait: 0 })).events).toHaveLength(0);
      expect(await h.relay.purgeExpired()).toBe(1);
      const { rows } = await h.relay.database.query('SELECT count(*)::int AS n FROM relay_mailbox');
      expect(Number(rows[0]?.n)).toBe(0);
      expect(h.audited('mailbox.expire').map((e) => e.target?.id)).toEqual([sent.id]);
    } finally {
      h.clockOffset.ms = 0;
    }
  });

  it('credential deletion is audited; a send without credentials is 404 and not forwarded', async () => {
    await client.putCredentials({
      connection: 'shop-3',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });
    await client.deleteCredentials({ connection: 'shop-3' });
    expect(h.audited('credentials.delete').map((e) => [e.target?.id, e.outcome])).toEqual([
      ['shop-3', 'success'],
    ]);
    const before = h.counterpart.effects.length;
    const idempotencyKey = randomUUID();
    const res = await client.send.safe({
      connection: 'shop-3',
      idempotencyKey,
      body: { operation: 'order.status', payload: { order: 'A-9', status: 'shipped' } },
    });
    expect(!res.ok && res.error.status).toBe(404);
    expect(h.counterpart.effects.length).toBe(before);
    expect((await client.status()).connections.map((c) => c.id)).toEqual([CONNECTION]);
  });

  it('an operation the connector does not know is 422, not retryable, not forwarded', async () => {
    const before = h.counterpart.effects.length;
    const res = await client.send.safe({
      connection: CONNECTION,
      idempotencyKey: randomUUID(),
      body: { operation: 'invoice.create', payload: { amount: 1 } },
    });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.status).toBe(422);
    expect(res.error.problem).toMatchObject({ retryable: false, upstream: 'counterpart' });
    expect(h.counterpart.effects.length).toBe(before);
  });

  it('a long-poll with nothing to deliver returns empty after the wait', async () => {
    const started = Date.now();
    const { events } = await client.pickup({ wait: 1 });
    expect(events).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('a database dump holds no plaintext credential, event payload or license key', async () => {
    // One event is held in the mailbox right now.
    expect((await h.hook(CONNECTION, { payload: { reference: SECRET_MARKER } })).status).toBe(204);
    const { rows: tables } = await h.relay.database.query(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    );
    const names = tables.map((t) => String(t.table_name));
    expect(names).toEqual(
      expect.arrayContaining(['fluxel_licenses', 'relay_credentials', 'relay_mailbox']),
    );
    let dump = '';
    for (const t of tables) {
      const { rows } = await h.relay.database.query(
        `SELECT * FROM "${String(t.table_schema)}"."${String(t.table_name)}"`,
      );
      dump += JSON.stringify(rows);
    }
    expect(dump).toContain('flx1.'); // sealed values are there …
    expect(dump).toContain(CONNECTION);
    for (const secret of [
      API_KEY,
      h.webhookSecret,
      h.webhookSecret.slice('whsec_'.length),
      SECRET_MARKER,
      'A-1001',
      licenseKey,
    ])
      expect(dump).not.toContain(secret); // … the plaintext is not
  });
});

describe('attacks', () => {
  it('credentials before activation are refused', async () => {
    const { client: fresh, device } = await h.client();
    const viaClient = await fresh.putCredentials.safe({
      connection: 'shop-2',
      body: { kind: 'api-key', fields: { apiKey: 'x-key-12345' } },
    });
    expect(viaClient.ok).toBe(false);
    const body = JSON.stringify({ kind: 'api-key', fields: { apiKey: 'x-key-12345' } });
    const raw = await rawRequest(h, 'PUT', '/v1/connections/shop-2/credentials', { body, device });
    expect(raw.status).toBe(401);
    expect(raw.headers['content-type']).toContain('application/problem+json');
    const { rows } = await h.relay.database.query(
      "SELECT count(*)::int AS n FROM relay_credentials WHERE connection = 'shop-2'",
    );
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('a stolen license key is refused on a second device, and the attempt is audited', async () => {
    const key = await h.issueKey('merchant-2');
    const { client: owner } = await h.client();
    await owner.activate({ body: { licenseKey: key } });
    const { client: thief } = await h.client();
    const stolen = await thief.activate.safe({ body: { licenseKey: key } });
    expect(!stolen.ok && stolen.error.status).toBe(403);
    expect(
      h
        .audited('license.activate')
        .some((e) => e.tenant === 'merchant-2' && e.outcome !== 'success'),
    ).toBe(true);
    // The owner still works.
    expect((await owner.status()).license.status).toBe('active');
    // The relay's own alert rule recorded a critical second-activation alert in its log.
    await h.relay.alerts?.settled();
    const alert = h.audited('alert.second-activation').find((e) => e.tenant === 'merchant-2');
    expect(alert?.data).toMatchObject({ severity: 'critical' });
    expect(alert?.actor).toMatchObject({ type: 'system' });
  });

  it("a stolen access token with another device's proof is refused", async () => {
    const token = (await client.tokens())?.accessToken as string;
    const { device: thief } = await h.client();
    const res = await rawRequest(h, 'GET', '/v1/status', { device: thief, accessToken: token });
    expect(res.status).toBe(401);
  });

  it('a replayed proof is refused', async () => {
    const { device } = await h.client();
    const { client: fresh } = await h.client(device);
    await fresh.activate({ body: { licenseKey: await h.issueKey('merchant-3') } });
    const token = (await fresh.tokens())?.accessToken as string;
    const url = `${h.relay.url}/v1/status`;
    const nonce = h.relay.authority.nonce();
    const proof = await device.proof({
      method: 'GET',
      url,
      accessToken: token,
      ...(nonce ? { nonce } : {}),
    });
    const first = await rawRequest(h, 'GET', '/v1/status', { accessToken: token, proof });
    expect(first.status).toBe(200);
    const deniedBefore = h.audited('license.request').filter((e) => e.outcome !== 'success');
    const replay = await rawRequest(h, 'GET', '/v1/status', { accessToken: token, proof });
    expect(replay.status).toBe(401);
    expect(replay.json?.code).toBe('ERR_DPOP_REPLAY');
    const deniedAfter = h.audited('license.request').filter((e) => e.outcome !== 'success');
    expect(deniedAfter.length).toBe(deniedBefore.length + 1);
    expect(JSON.stringify(deniedAfter.at(-1))).not.toContain(proof);
  });

  it('another license cannot see or ack an event, even under the same connection name', async () => {
    const { client: other } = await h.client();
    await other.activate({ body: { licenseKey: await h.issueKey('merchant-6') } });
    const otherSecret = generateWebhookSecret();
    await other.putCredentials({
      connection: CONNECTION,
      body: { kind: 'api-key', fields: { apiKey: 'other-key-123', webhookSecret: otherSecret } },
    });
    const mine = await h.hook(CONNECTION, { payload: { for: 'merchant-1' } });
    const theirs = await h.hook(CONNECTION, {
      secret: otherSecret,
      payload: { for: 'merchant-6' },
      licenseId: (await other.tokens())?.licenseId as string,
    });
    expect([mine.status, theirs.status]).toEqual([204, 204]);
    const seenByOther = (await other.pickup({ wait: 0 })).events;
    expect(seenByOther.map((e) => e.id)).toEqual([theirs.id]);
    expect(await other.ack({ body: { ids: [mine.id] } })).toEqual({ acked: 0 });
    const seenByMe = (await client.pickup({ wait: 0 })).events.map((e) => e.id);
    expect(seenByMe).toContain(mine.id);
    expect(seenByMe).not.toContain(theirs.id);
    expect(await client.ack({ body: { ids: [mine.id] } })).toEqual({ acked: 1 });
    expect(await other.ack({ body: { ids: [theirs.id] } })).toEqual({ acked: 1 });
  });

  it('a webhook with a bad signature is refused and nothing is stored', async () => {
    const res = await h.hook(CONNECTION, { secret: generateWebhookSecret() });
    expect(res.status).toBe(401);
    const { rows } = await h.relay.database.query(
      'SELECT count(*)::int AS n FROM relay_mailbox WHERE id = $1',
      [res.id],
    );
    expect(Number(rows[0]?.n)).toBe(0);
    expect(h.audited('webhook.receive').some((e) => e.reason === 'bad-signature')).toBe(true);
  });

  it('a webhook with an old timestamp is refused even when correctly signed', async () => {
    const res = await h.hook(CONNECTION, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(res.status).toBe(401);
    expect(h.audited('webhook.receive').some((e) => e.reason === 'stale-timestamp')).toBe(true);
    // Within the tolerance it is accepted.
    const fresh = await h.hook(CONNECTION, { timestamp: Math.floor(Date.now() / 1000) - 60 });
    expect(fresh.status).toBe(204);
  });

  it('unknown fields are refused (400 problem), the same request without them is accepted', async () => {
    const { device } = await h.client();
    const { client: fresh } = await h.client(device);
    await fresh.activate({ body: { licenseKey: await h.issueKey('merchant-4') } });
    const accessToken = (await fresh.tokens())?.accessToken as string;
    const path = '/v1/connections/shop-9/credentials';
    const extra = JSON.stringify({ kind: 'api-key', fields: { apiKey: 'k-123456' }, admin: true });
    const refused = await rawRequest(h, 'PUT', path, { body: extra, device, accessToken });
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json?.code).toBe('ERR_VALIDATION');
    const good = JSON.stringify({ kind: 'api-key', fields: { apiKey: 'k-123456' } });
    const accepted = await rawRequest(h, 'PUT', path, { body: good, device, accessToken });
    expect(accepted.status).toBe(204);
  });

  it('an oversized body is refused with 413 and not forwarded', async () => {
    const { device } = await h.client();
    const { client: fresh } = await h.client(device);
    await fresh.activate({ body: { licenseKey: await h.issueKey('merchant-5') } });
    const accessToken = (await fresh.tokens())?.accessToken as string;
    const before = h.counterpart.effects.length;
    const body = JSON.stringify({
      operation: 'order.status',
      payload: { order: 'A-1', status: 'shipped', note: 'x'.repeat(400 * 1024) },
    });
    const res = await rawRequest(h, 'POST', `/v1/connections/${CONNECTION}/send`, {
      body,
      device,
      accessToken,
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ status: 413 });
    expect(h.counterpart.effects.length).toBe(before);
    const hook = await rawRequest(h, 'POST', `/v1/hooks/${CONNECTION}`, { body });
    expect(hook.status).toBe(413);
  });

  it('errors are problem documents with security headers and no stack traces', async () => {
    const res = await rawRequest(h, 'GET', '/v1/nowhere');
    expect(res.status).toBe(404);
    // The portal credential API is off unless `portal` is set.
    const portal = await rawRequest(h, 'GET', '/internal/portal/v1/licenses/x/connections', {
      headers: { authorization: `Bearer ${'t'.repeat(40)}` },
    });
    expect(portal.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    const bad = await rawRequest(h, 'POST', '/v1/activate', {
      body: '{"licenseKey":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toMatch(/at .+\.ts:\d+/);
    const text = await rawRequest(h, 'POST', '/v1/activate', {
      body: 'licenseKey=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
  });
});
