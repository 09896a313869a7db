/**
 * The portal credential API over real HTTPS: bearer token in constant time, strict schemas,
 * the license's tenant and activation state enforced by the relay, values stored through the
 * vault and never shown, the agent's `send` using what the portal wrote, the write audited
 * without the value.
 */
import { randomUUID } from 'node:crypto';
import type { NodeRelayClient } from '@fluxel/relay-client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, rawRequest, startHarness } from './helpers.ts';

const TOKEN = `portal-${randomUUID()}-${randomUUID()}`;
const TENANT = 'merchant-portal';
const CONNECTION = 'shop-1';
const WRONG_KEY = 'cp-wrong-key-0000000000';
const ACTOR = { id: 'user-7f2c', name: 'Key User' };

let h: Harness;
let client: NodeRelayClient;
let licenseId: string;
let licenseKey: string;

const path = (id: string, connection?: string) =>
  `/internal/portal/v1/licenses/${id}/connections${connection ? `/${connection}/credentials` : ''}`;
const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
const putBody = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    tenant: TENANT,
    kind: 'api-key',
    fields: { apiKey: API_KEY },
    actor: ACTOR,
    ...over,
  });
const put = (
  body: string,
  headers: Record<string, string> = auth(),
  connection = CONNECTION,
  id = licenseId,
) => rawRequest(h, 'PUT', path(id, connection), { body, headers });

beforeAll(async () => {
  h = await startHarness({ relay: { portal: { token: TOKEN } } });
  ({ client } = await h.client());
  const issued = await h.relay.authority.issue({
    tenant: TENANT,
    product: 'wawi-sync',
    entitlements: ['orders'],
  });
  licenseId = issued.license.id;
  licenseKey = issued.key;
});

afterAll(async () => {
  await h?.close();
});

describe('portal credential API', () => {
  it('refuses a missing or wrong bearer token (401 problem, audited)', async () => {
    for (const headers of [
      {},
      auth('portal-wrong-token-0123456789abcdef0123'),
      { authorization: TOKEN },
      { authorization: `Basic ${TOKEN}` },
    ]) {
      const get = await rawRequest(h, 'GET', path(licenseId), { headers });
      expect(get.status).toBe(401);
      expect(get.headers['content-type']).toContain('application/problem+json');
      expect(get.headers['www-authenticate']).toBe('Bearer');
      const res = await put(putBody(), headers);
      expect(res.status).toBe(401);
    }
    const denied = h.audited('portal.request');
    expect(denied.length).toBeGreaterThanOrEqual(8);
    expect(denied.every((e) => e.outcome === 'denied')).toBe(true);
    expect(JSON.stringify(h.auditStore.records)).not.toContain(TOKEN);
  });

  it('rejects unknown fields and malformed bodies (400 problem)', async () => {
    for (const body of [
      putBody({ extra: 1 }),
      putBody({ actor: { ...ACTOR, role: 'admin' } }),
      putBody({ fields: { apiKey: API_KEY }, value: 'x' }),
      putBody({ fields: {} }),
      putBody({ fields: { 'bad name': 'x' } }),
      putBody({ fields: { apiKey: 'x'.repeat(4097) } }),
      putBody({ actor: { id: 'device' } }),
      JSON.stringify({ tenant: TENANT, kind: 'api-key', fields: { apiKey: API_KEY } }),
      '{"tenant":',
    ]) {
      const res = await put(body);
      expect(res.status, body.slice(0, 80)).toBe(400);
      expect(res.json).toMatchObject({ status: 400, code: 'ERR_VALIDATION' });
      expect(res.text).not.toContain(API_KEY);
    }
    const query = await rawRequest(h, 'GET', `${path(licenseId)}?all=1`, { headers: auth() });
    expect(query.status).toBe(400);
  });

  it('unknown license → 404; another tenant → 403; before activation → 409', async () => {
    const unknown = await rawRequest(h, 'GET', path('no-such-license'), { headers: auth() });
    expect(unknown.status).toBe(404);
    expect((await put(putBody(), auth(), CONNECTION, 'no-such-license')).status).toBe(404);

    const mismatch = await put(putBody({ tenant: 'merchant-other' }));
    expect(mismatch.status).toBe(403);
    expect(String(mismatch.json?.type)).toMatch(/license-tenant-mismatch$/);

    const early = await put(putBody());
    expect(early.status).toBe(409);
    expect(String(early.json?.type)).toMatch(/license-not-active$/);
    expect(early.json?.title).toBe('the license is not activated');

    // Nothing was stored by the refused writes.
    const list = await rawRequest(h, 'GET', path(licenseId), { headers: auth() });
    expect(list.status).toBe(200);
    expect(list.json).toEqual({ connections: [] });
    const refused = h.audited('credentials.set');
    expect(refused.map((e) => e.outcome)).toEqual(['denied', 'denied']);
    expect(refused[0]?.reason).toBe('license-tenant-mismatch');
  });

  it('after activation: 204, metadata only, the agent sends with the new credentials, audited without the value', async () => {
    await client.activate({ body: { licenseKey } });
    // The device wrote a wrong key first: sends are refused by the third party.
    await client.putCredentials({
      connection: CONNECTION,
      body: { kind: 'api-key', fields: { apiKey: WRONG_KEY } },
    });
    const before = await rawRequest(h, 'GET', path(licenseId), { headers: auth() });
    expect(before.json).toMatchObject({
      connections: [{ connection: CONNECTION, fieldNames: ['apiKey'], setBy: 'device' }],
    });
    const refused = await client.send.safe({
      connection: CONNECTION,
      idempotencyKey: randomUUID(),
      body: { operation: 'order.status', payload: { order: 'PO-1', status: 'shipped' } },
    });
    expect(!refused.ok && refused.error.status).toBe(422);

    // The portal user stores the right key.
    const res = await put(putBody());
    expect(res.status).toBe(204);

    const list = await rawRequest(h, 'GET', path(licenseId), { headers: auth() });
    expect(list.status).toBe(200);
    const connections = (list.json as { connections: Record<string, unknown>[] }).connections;
    expect(connections).toHaveLength(1);
    const [row] = connections;
    expect(Object.keys(row ?? {}).sort()).toEqual([
      'connection',
      'fieldNames',
      'hookUrl',
      'kind',
      'setAt',
      'setBy',
    ]);
    expect(row).toMatchObject({
      connection: CONNECTION,
      kind: 'api-key',
      fieldNames: ['apiKey'],
      hookUrl: null, // no webhookSecret: no hook URL
      setBy: ACTOR.id,
    });
    expect(new Date(String(row?.setAt)).toISOString()).toBe(row?.setAt);
    expect(list.text).not.toContain(API_KEY);
    expect(list.text).not.toContain('flx1.');

    const key = randomUUID();
    const sent = await client.send({
      connection: CONNECTION,
      idempotencyKey: key,
      body: { operation: 'order.status', payload: { order: 'PO-2', status: 'shipped' } },
    });
    expect(sent).toMatchObject({ status: 'delivered', replayed: false });
    expect(h.counterpart.effects.filter((e) => e.idempotencyKey === key)).toHaveLength(1);

    const set = h.audited('credentials.set').filter((e) => e.outcome === 'success');
    expect(set).toHaveLength(1);
    expect(set[0]).toMatchObject({
      tenant: TENANT,
      actor: { type: 'user', id: ACTOR.id, name: ACTOR.name },
      target: { type: 'connection', id: CONNECTION },
      data: { license: licenseId, kind: 'api-key', fields: ['apiKey'], via: 'portal' },
    });
    const everything = JSON.stringify(h.auditStore.records);
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(WRONG_KEY);
    expect(everything).not.toContain(TOKEN);
  });

  it('a locked license is refused with 409, and writable again once unlocked', async () => {
    await h.relay.authority.lock(licenseId, { reason: 'test' });
    const locked = await put(putBody());
    expect(locked.status).toBe(409);
    expect(String(locked.json?.type)).toMatch(/license-not-active$/);
    await h.relay.authority.unlock(licenseId);
    expect((await put(putBody())).status).toBe(204);
  });

  it('stats: counts of held mailbox events only, behind the same token', async () => {
    const unauth = await rawRequest(h, 'GET', '/internal/portal/v1/stats', {
      headers: auth('x'.repeat(40)),
    });
    expect(unauth.status).toBe(401);
    const empty = await rawRequest(h, 'GET', '/internal/portal/v1/stats', { headers: auth() });
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ mailboxBacklog: 0, oldestEventAgeSeconds: 0 });
    expect(
      (await put(putBody({ fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } }))).status,
    ).toBe(204);
    expect((await h.hook(CONNECTION, { payload: { paymentId: 'pay-stats' } })).status).toBe(204);
    const one = await rawRequest(h, 'GET', '/internal/portal/v1/stats', { headers: auth() });
    expect(one.json).toMatchObject({ mailboxBacklog: 1 });
    expect(JSON.stringify(one.json)).not.toContain('pay-stats');
  });
});
