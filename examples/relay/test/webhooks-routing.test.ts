/**
 * Inbound webhooks are routed by the connection's own hook URL (`/v1/hooks/<connection>/<hookId>`):
 * however many licenses share a connection name, each gets its webhooks, and a webhook costs
 * one secret lookup. The shared `/v1/hooks/<connection>` (deprecated) reaches only rows stored
 * before hook ids existed.
 */
import { generateWebhookSecret } from '@fluxel-example/counterpart';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RELAY_MIGRATIONS } from '../src/db.ts';
import { Vault } from '../src/vault.ts';
import { API_KEY, type Harness, startHarness } from './helpers.ts';
import {
  type HookedLicense,
  hookedLicense,
  hookUrlOf,
  mailboxRows,
  signedWebhook,
} from './webhook-support.ts';

const LICENSES = 21;

/** Counts the webhook secrets the relay decrypts while `fn` runs. */
async function secretLookups(fn: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(Vault.prototype, 'openText');
  try {
    await fn();
    return spy.mock.calls.filter((call) => call[2] === 'credentials.webhookSecret').length;
  } finally {
    spy.mockRestore();
  }
}

describe('webhook routing by per-connection hook', () => {
  let h: Harness;
  const licenses: HookedLicense[] = [];

  beforeAll(async () => {
    h = await startHarness({ relay: { rateLimit: false } });
    for (let i = 0; i < LICENSES; i++) licenses.push(await hookedLicense(h, `crowd-${i}`));
  });

  afterAll(async () => h?.close());

  it('21 licenses under the same connection name each get their signed webhook (the 21st got 401 when 20 candidates were read)', async () => {
    const sent = [];
    for (const [i, license] of licenses.entries()) {
      const message = signedWebhook(h, license.url, license.secret, { payload: { n: i } });
      sent.push({ id: message.id, status: await message.send() });
    }
    expect(sent.map((s) => s.status)).toEqual(Array(LICENSES).fill(204));
    for (const [i, license] of licenses.entries()) {
      const { events } = await license.client.pickup({ wait: 0 });
      expect(events.map((e) => e.id)).toEqual([sent[i]?.id]);
      await license.client.ack({ body: { ids: events.map((e) => e.id) } });
    }
  });

  it('each license connection has its own unguessable hook URL', () => {
    const urls = new Set(licenses.map((l) => l.url));
    expect(urls.size).toBe(LICENSES);
    for (const url of urls) expect(url).toMatch(/\/v1\/hooks\/shop-1\/[A-Za-z0-9_-]{32,}$/);
  });

  it('a webhook costs one secret lookup, whoever else shares the connection name', async () => {
    const last = licenses.at(-1) as HookedLicense;
    let status = 0;
    const lookups = await secretLookups(async () => {
      status = await signedWebhook(h, last.url, last.secret).send();
    });
    expect(status).toBe(204);
    expect(lookups).toBe(1);
    await last.client.ack({
      body: { ids: (await last.client.pickup({ wait: 0 })).events.map((e) => e.id) },
    });
  });

  it('a forged webhook costs at most one secret lookup and stores nothing', async () => {
    const first = licenses[0] as HookedLicense;
    const forged = signedWebhook(h, first.url, generateWebhookSecret());
    const shared = signedWebhook(h, `${h.relay.url}/v1/hooks/shop-1`, generateWebhookSecret());
    const unknown = signedWebhook(
      h,
      `${h.relay.url}/v1/hooks/shop-1/${'A'.repeat(32)}`,
      generateWebhookSecret(),
    );
    const statuses: number[] = [];
    expect(await secretLookups(async () => statuses.push(await forged.send()))).toBeLessThanOrEqual(
      1,
    );
    // The shared URL tries no row stored since hook ids exist; an unknown hook id none at all.
    expect(await secretLookups(async () => statuses.push(await shared.send()))).toBe(0);
    expect(await secretLookups(async () => statuses.push(await unknown.send()))).toBe(0);
    expect(statuses).toEqual([401, 401, 401]);
    for (const m of [forged, shared, unknown]) expect(await mailboxRows(h, m.id)).toBe(0);
  });

  it("a license's signature does not open another license's hook", async () => {
    const [a, b] = licenses as [HookedLicense, HookedLicense];
    const crossed = signedWebhook(h, a.url, b.secret);
    expect(await crossed.send()).toBe(401);
    expect(await mailboxRows(h, crossed.id)).toBe(0);
  });

  it('replacing credentials keeps the hook URL (the third party need not be told again)', async () => {
    const license = licenses[1] as HookedLicense;
    const secret = generateWebhookSecret();
    await license.client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: secret } },
    });
    expect(await hookUrlOf(h, license.client, 'shop-1')).toBe(license.url);
    const message = signedWebhook(h, license.url, secret);
    expect(await message.send()).toBe(204);
    expect(await signedWebhook(h, license.url, license.secret).send()).toBe(401);
    await license.client.ack({ body: { ids: [message.id] } });
  });

  it('a row stored before hook ids still takes webhooks on the shared URL (deprecated, audited) and gets its own URL', async () => {
    const old = await hookedLicense(h, 'legacy-tenant', 'shop-legacy');
    // As it was before the upgrade: no hook id. The migration gives it one and marks it legacy.
    await h.relay.database.query(
      'UPDATE relay_credentials SET hook_id = NULL, legacy_hook = false WHERE license_id = $1',
      [old.licenseId],
    );
    for (const statement of RELAY_MIGRATIONS) await h.relay.database.query(statement);
    const endpoint = await old.client.webhookEndpoint({ connection: 'shop-legacy' });
    expect(endpoint.url).not.toBe(old.url);
    expect(endpoint.legacyUrl).toBe(`${h.relay.url}/v1/hooks/shop-legacy`);

    const viaShared = signedWebhook(h, endpoint.legacyUrl as string, old.secret);
    expect(await viaShared.send()).toBe(204);
    const received = h.audited('mailbox.receive').find((e) => e.target?.id === viaShared.id);
    expect(received?.data).toMatchObject({ legacyHook: true, duplicate: false });
    const viaOwn = signedWebhook(h, endpoint.url, old.secret);
    expect(await viaOwn.send()).toBe(204);
    const { events } = await old.client.pickup({ wait: 0 });
    expect(events.map((e) => e.id).sort()).toEqual([viaShared.id, viaOwn.id].sort());

    // A row stored now is never reachable through the shared URL.
    const fresh = await hookedLicense(h, 'fresh-tenant', 'shop-legacy');
    const freshShared = signedWebhook(h, `${h.relay.url}/v1/hooks/shop-legacy`, fresh.secret);
    expect(await freshShared.send()).toBe(401);
    expect((await fresh.client.webhookEndpoint({ connection: 'shop-legacy' })).legacyUrl).toBe(
      null,
    );
  });

  it('the webhook URL exists only once the credentials hold a webhookSecret', async () => {
    const { client } = await h.client();
    await client.activate({ body: { licenseKey: await h.issueKey('no-hook') } });
    await client.putCredentials({
      connection: 'shop-2',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });
    const res = await client.webhookEndpoint.safe({ connection: 'shop-2' });
    expect(!res.ok && res.error.status).toBe(404);
  });
});

describe('the shared hook URL switched off (legacyWebhooks: false)', () => {
  let h: Harness;
  afterAll(async () => h?.close());

  it('a row stored before hook ids is reached only through its own URL; the shared one answers 404', async () => {
    h = await startHarness({ relay: { rateLimit: false, legacyWebhooks: false } });
    const old = await hookedLicense(h, 'legacy-off', 'shop-legacy');
    await h.relay.database.query(
      'UPDATE relay_credentials SET hook_id = NULL, legacy_hook = false WHERE license_id = $1',
      [old.licenseId],
    );
    for (const statement of RELAY_MIGRATIONS) await h.relay.database.query(statement);
    const endpoint = await old.client.webhookEndpoint({ connection: 'shop-legacy' });
    expect(endpoint.legacyUrl).toBeNull();
    const shared = signedWebhook(h, `${h.relay.url}/v1/hooks/shop-legacy`, old.secret);
    expect(await shared.send()).toBe(404);
    expect(await mailboxRows(h, shared.id)).toBe(0);
    expect(await signedWebhook(h, endpoint.url, old.secret).send()).toBe(204);
  });
});
