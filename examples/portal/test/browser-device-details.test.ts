/**
 * Device details for the license's owner (issue 19, "also"): the agent reports its host name and
 * version at activation (in its DPoP proof, `@fluxel/license`'s `device` option), the relay
 * records them with the client IP and moves "last seen" with every request (at most once a
 * minute), and the detail API and page show host name, agent version, last IP and a current
 * last seen — the IP to the license's own tenant and administrators, not to its partner.
 * Before this, the page showed only bound state, since, last seen (renewals only) and the key
 * thumbprint, so this fails on the earlier main. Screenshot `43-license-device-details.png`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, type NodeRelayClient, spkiPin } from '@fluxel/relay-client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRow } from '../src/features/licenses/contract.ts';
import {
  a11yViolations,
  type BrowserHarness,
  byTest,
  chromiumAvailable,
  shot,
  signInWithTotp,
  startBrowserHarness,
} from './browser-helpers.ts';
import type { SignedUp } from './helpers.ts';

const available = chromiumAvailable();
const HOST = 'kasse-01.acme';
const VERSION = '2.4.1';
let b: BrowserHarness;
let admin: SignedUp;
let keyUser: SignedUp;
let partner: SignedUp;
let licenseId: string;
let device: NodeRelayClient;

const licenseOf = async (who: SignedUp) => {
  const res = await who.client.get<{ license: LicenseRow }>(`/api/licenses/${licenseId}`);
  expect(res.status).toBe(200);
  return res.body.license;
};

beforeAll(async () => {
  if (!available) return;
  b = await startBrowserHarness();
  const h = b.h;
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await h.portal.createTenant('pat', 'Partner AG', 'partner');
  await h.portal.assignPartner('pat', 'acme');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  keyUser = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kai Key');
  partner = await h.signUp('pia@partner.test', 'partner', 'pat', 'Pia Partner');
  const created = await admin.client.post<{ license: { id: string }; licenseKey: string }>(
    '/api/licenses',
    { tenantId: 'acme', product: 'wawi-sync' },
  );
  if (created.status !== 200) throw new Error(created.text);
  licenseId = created.body.license.id;
  // A device that describes itself, as the agent does (host name, agent version).
  const ca = readFileSync(join(h.dataDir, 'tls', 'ca.pem'), 'utf8');
  device = createRelayClient({
    baseUrl: h.relay.url,
    ca,
    pins: [spkiPin(ca)],
    proxy: false,
    device: createDpopSigner((await generateKeyPair()).privateJwk, {
      device: { hostName: HOST, agentVersion: VERSION },
    }),
    retry: { attempts: 1 },
  });
  await device.activate({ body: { licenseKey: created.body.licenseKey } });
});

afterAll(async () => {
  await device?.close();
  await b?.close();
});

describe.skipIf(!available)('device details in Chromium', () => {
  it('the detail API carries host name, agent version, last IP and a last seen that moves', async () => {
    const first = await licenseOf(keyUser);
    expect(first).toMatchObject({
      deviceHostName: HOST,
      agentVersion: VERSION,
      lastIp: '127.0.0.1',
    });
    const activatedSeen = Date.parse(first.lastSeenAt ?? '');
    expect(activatedSeen).toBeGreaterThan(0);

    // "Last seen" is written at most once a minute: set it two minutes back at the relay (as
    // if the device had been quiet), then one request of the device moves it to now.
    await b.h.relay.database.query(
      'UPDATE fluxel_licenses SET last_seen_at = last_seen_at - 120000 WHERE id = $1',
      [licenseId],
    );
    // The relay caches a license row for up to a second.
    await new Promise((r) => setTimeout(r, 1100));
    const quiet = Date.parse((await licenseOf(keyUser)).lastSeenAt ?? '');
    expect(quiet).toBe(activatedSeen - 120_000);
    await new Promise((r) => setTimeout(r, 1100));
    const before = Date.now();
    expect((await device.status()).license.status).toBe('active');
    // The relay writes "last seen" beside the request, not in its path: poll for it.
    await expect
      .poll(async () => Date.parse((await licenseOf(keyUser)).lastSeenAt ?? ''))
      .toBeGreaterThan(quiet);
    const moved = await licenseOf(keyUser);
    expect(Date.parse(moved.lastSeenAt ?? '')).toBeGreaterThanOrEqual(before - 1000);

    // Administrators see the IP too; the tenant's partner sees the device but not its address.
    expect((await licenseOf(admin)).lastIp).toBe('127.0.0.1');
    const seenByPartner = await licenseOf(partner);
    expect(seenByPartner).toMatchObject({ deviceHostName: HOST, agentVersion: VERSION });
    expect(seenByPartner.lastIp).toBeUndefined();
    expect(JSON.stringify(seenByPartner)).not.toContain('127.0.0.1');
  });

  it('the detail page shows them to the tenant’s key user, and no IP to the partner', async () => {
    const expected = await licenseOf(keyUser);
    const { context, page } = await b.newPage();
    await signInWithTotp(b.h, page, 'key@acme.test', keyUser.secret);
    await page.goto(`${b.h.portal.url}/licenses/${licenseId}`);
    const card = byTest(page, 'license-device');
    await card.waitFor();
    await expect.poll(() => byTest(page, 'device-host-name').textContent()).toBe(HOST);
    expect(await byTest(page, 'device-agent-version').textContent()).toBe(VERSION);
    expect(await byTest(page, 'device-last-ip').textContent()).toBe('127.0.0.1');
    expect(await byTest(page, 'device-last-seen').getAttribute('data-last-seen')).toBe(
      expected.lastSeenAt,
    );
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('Rechnername');
    expect(text).toContain('Agent-Version');
    expect(text).toContain('Letzte IP-Adresse');
    expect(await a11yViolations(page)).toEqual([]);
    await shot(page, '43-license-device-details');
    await context.close();

    const other = await b.newPage();
    await signInWithTotp(b.h, other.page, 'pia@partner.test', partner.secret);
    await other.page.goto(`${b.h.portal.url}/licenses/${licenseId}`);
    await expect.poll(() => byTest(other.page, 'device-host-name').textContent()).toBe(HOST);
    expect(await byTest(other.page, 'device-last-ip').count()).toBe(0);
    await other.context.close();
  });
});
