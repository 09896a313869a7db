/**
 * The authority's behaviour and the attacks on it, as one suite run over every store
 * (memory, PGlite, PostgreSQL). Each attack from the design brief is a named test.
 */
import { describe, expect, it } from 'vitest';
import type { PrivateJwk } from '../src/jwk.ts';
import { createDpopSigner } from '../src/lib/dpop.ts';
import { LicenseError } from '../src/lib/errors.ts';
import { generateLicenseKey } from '../src/lib/key.ts';
import type { LicenseStore } from '../src/lib/store.ts';
import { Device, harness } from './helpers.ts';

export function authoritySuite(name: string, makeStore: () => Promise<LicenseStore>): void {
  describe(`license authority over ${name}`, () => {
    async function issuedWithStore() {
      const store = await makeStore();
      const h = await harness(store);
      const { license, key } = await h.authority.issue({
        tenant: 'tenant-a',
        product: 'wawi-sync',
      });
      return { ...h, store, license, key };
    }

    async function issued(entitlements: string[] = ['orders']) {
      const h = await harness(await makeStore());
      const { license, key } = await h.authority.issue({
        tenant: 'tenant-a',
        product: 'wawi-sync',
        entitlements,
        actor: 'admin@fluxel',
      });
      return { ...h, license, key };
    }

    it('issues a license and stores only a keyed hash of its key', async () => {
      const { license, key, authority, events } = await issued();
      expect(license).toMatchObject({
        tenant: 'tenant-a',
        product: 'wawi-sync',
        status: 'issued',
        device: null,
      });
      expect(JSON.stringify(await authority.get(license.id))).not.toContain(key);
      expect(events).toContainEqual(
        expect.objectContaining({
          action: 'license.issue',
          outcome: 'success',
          actor: 'admin@fluxel',
        }),
      );
    });

    it('activates once, binds the device key, and verifies its requests', async () => {
      const { authority, key, license } = await issued();
      const device = await Device.create({ now: Date.now() });
      const tokens = await device.activate(authority, key);
      expect(tokens.licenseId).toBe(license.id);
      const info = await authority.get(license.id);
      expect(info).toMatchObject({ status: 'active', device: { jkt: device.signer.jkt } });
      const verified = await authority.verifyRequest(
        await device.request('POST', '/v1/send', { body: '{"order":1}' }),
      );
      expect(verified.license.id).toBe(license.id);
      expect(verified.claims.cnf.jkt).toBe(device.signer.jkt);
    });

    it('attack: stolen license key used on a second device is refused, uniformly', async () => {
      const { authority, key, events } = await issued();
      const owner = await Device.create({ now: Date.now() });
      await owner.activate(authority, key);
      const thief = await Device.create({ now: Date.now() });
      const stolen = await thief.activate(authority, key).catch((e: unknown) => e);
      const unknown = await thief
        .activate(authority, generateLicenseKey())
        .catch((e: unknown) => e);
      expect(LicenseError.isInstance(stolen) && stolen.code).toBe('ERR_LICENSE_ACTIVATION_FAILED');
      // Same error for a spent key and a key that never existed: nothing to learn from it.
      expect((unknown as LicenseError).code).toBe((stolen as LicenseError).code);
      expect((unknown as LicenseError).message).toBe((stolen as LicenseError).message);
      // The audit trail knows the difference.
      const denied = events.filter(
        (e) => e.action === 'license.activate' && e.outcome === 'denied',
      );
      expect(denied.map((e) => e.reason)).toEqual(['already_activated', 'unknown_key']);
      expect(denied[0]?.jkt).toBe(thief.signer.jkt);
    });

    it('the bound device may repeat its activation (lost response) and gets fresh tokens', async () => {
      const { authority, key, events } = await issued();
      const device = await Device.create({ now: Date.now() });
      const first = await device.activate(authority, key);
      const again = await device.activate(authority, key);
      expect(again.licenseId).toBe(first.licenseId);
      await expect(
        authority.verifyRequest(await device.request('GET', '/v1/mailbox')),
      ).resolves.toBeDefined();
      expect(
        events.filter((e) => e.action === 'license.activate').map((e) => e.reason ?? 'first'),
      ).toEqual(['first', 'repeat_same_device']);
    });

    it('attack: replayed activation request is refused', async () => {
      const { authority, key } = await issued();
      const device = await Device.create({ now: Date.now() });
      const request = await device.request('POST', '/v1/activate', {
        withToken: false,
        body: '{}',
      });
      await authority.activate({ licenseKey: key, request });
      await expect(authority.activate({ licenseKey: key, request })).rejects.toMatchObject({
        code: 'ERR_DPOP_REPLAY',
      });
    });

    it('attack: two concurrent activations with one key — exactly one wins', async () => {
      const { authority, key, events } = await issued();
      const devices = await Promise.all(
        Array.from({ length: 12 }, () => Device.create({ now: Date.now() })),
      );
      const results = await Promise.allSettled(devices.map((d) => d.activate(authority, key)));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected')
          expect(r.reason).toMatchObject({ code: 'ERR_LICENSE_ACTIVATION_FAILED' });
      }
      expect(
        events.filter((e) => e.action === 'license.activate' && e.outcome === 'success'),
      ).toHaveLength(1);
    });

    it('attack: replayed request proof is refused', async () => {
      const { authority, key } = await issued();
      const device = await Device.create({ now: Date.now() });
      await device.activate(authority, key);
      const request = await device.request('GET', '/v1/mailbox');
      await authority.verifyRequest(request);
      await expect(authority.verifyRequest(request)).rejects.toMatchObject({
        code: 'ERR_DPOP_REPLAY',
      });
    });

    it('attack: proof for another URL or method is refused', async () => {
      const { authority, key } = await issued();
      const device = await Device.create({ now: Date.now() });
      await device.activate(authority, key);
      const request = await device.request('GET', '/v1/mailbox');
      await expect(
        authority.verifyRequest({ ...request, url: 'https://relay.test/v1/credentials' }),
      ).rejects.toMatchObject({ code: 'ERR_DPOP_INVALID_PROOF' });
      await expect(authority.verifyRequest({ ...request, method: 'DELETE' })).rejects.toMatchObject(
        { code: 'ERR_DPOP_INVALID_PROOF' },
      );
    });

    it("attack: a token presented with another device's proof is refused", async () => {
      const { authority, key } = await issued();
      const owner = await Device.create({ now: Date.now() });
      await owner.activate(authority, key);
      const thief = await Device.create({ now: Date.now() });
      // the thief has the stolen access token and signs a proof bound to it with its own key
      const request = await thief.request('GET', '/v1/mailbox', { token: owner.token as string });
      await expect(authority.verifyRequest(request)).rejects.toMatchObject({
        code: 'ERR_LICENSE_TOKEN_BINDING',
      });
      // a bearer-style use without proof is refused too
      const bare = { ...request, headers: { authorization: `DPoP ${owner.token}` } };
      await expect(authority.verifyRequest(bare)).rejects.toMatchObject({
        code: 'ERR_DPOP_MISSING',
      });
    });

    it('attack: an expired proof is refused', async () => {
      const h = await issued();
      const device = await Device.create(h.clock);
      await device.activate(h.authority, h.key);
      const request = await device.request('GET', '/v1/mailbox');
      h.clock.now += 5 * 60_000;
      await expect(h.authority.verifyRequest(request)).rejects.toMatchObject({
        code: 'ERR_DPOP_STALE',
      });
    });

    it('attack: a forged token is refused', async () => {
      const { authority, key } = await issued();
      const device = await Device.create({ now: Date.now() });
      await device.activate(authority, key);
      const [h, p, s] = (device.token as string).split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, ent: ['everything'] })).toString('base64url')}.${s}`;
      await expect(
        authority.verifyRequest(await device.request('GET', '/v1/mailbox', { token: forged })),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_INVALID_TOKEN' });
    });

    it('attack: a locked license is refused on its next request, and unlock restores it', async () => {
      const { authority, key, license, events } = await issued();
      const device = await Device.create({ now: Date.now() });
      await device.activate(authority, key);
      await authority.verifyRequest(await device.request('GET', '/v1/mailbox'));
      await authority.lock(license.id, { reason: 'unpaid invoice', actor: 'shop' });
      await expect(
        authority.verifyRequest(await device.request('GET', '/v1/mailbox')),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_LOCKED' });
      await expect(
        authority.refresh(await device.request('POST', '/v1/token', { withToken: false })),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_LOCKED' });
      expect((await authority.get(license.id)).status).toBe('locked');
      await authority.unlock(license.id, { actor: 'shop' });
      await expect(
        authority.verifyRequest(await device.request('GET', '/v1/mailbox')),
      ).resolves.toBeDefined();
      expect(events.map((e) => e.action)).toEqual(
        expect.arrayContaining(['license.lock', 'license.unlock']),
      );
    });

    it('attack: a locked license cannot be activated', async () => {
      const { authority, key, license } = await issued();
      await authority.lock(license.id);
      const device = await Device.create({ now: Date.now() });
      await expect(device.activate(authority, key)).rejects.toMatchObject({
        code: 'ERR_LICENSE_ACTIVATION_FAILED',
      });
    });

    it('refresh: the device key is the credential, an expired access token is no obstacle', async () => {
      const h = await issued();
      const device = await Device.create(h.clock);
      await device.activate(h.authority, h.key);
      h.clock.now += 3600_000;
      await expect(
        h.authority.verifyRequest(await device.request('GET', '/v1/mailbox')),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_TOKEN_EXPIRED' });
      const fresh = await h.authority.refresh(
        await device.request('POST', '/v1/token', { withToken: false }),
      );
      device.token = fresh.accessToken;
      await expect(
        h.authority.verifyRequest(await device.request('GET', '/v1/mailbox')),
      ).resolves.toBeDefined();
      const stranger = await Device.create(h.clock);
      await expect(
        h.authority.refresh(await stranger.request('POST', '/v1/token', { withToken: false })),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_NOT_FOUND' });
    });

    it('rebind: the old device is cut off, the new one activates with a one-time code, the key stays spent', async () => {
      const { authority, key, license } = await issued();
      const lost = await Device.create({ now: Date.now() });
      await lost.activate(authority, key);
      const { rebindCode } = await authority.rebind(license.id, { actor: 'support' });
      expect(rebindCode).toMatch(/^FLXRB-/);
      await expect(
        authority.verifyRequest(await lost.request('GET', '/v1/mailbox')),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_NOT_ACTIVE' });
      const replacement = await Device.create({ now: Date.now() });
      await expect(replacement.activate(authority, key)).rejects.toMatchObject({
        code: 'ERR_LICENSE_ACTIVATION_FAILED',
      });
      await replacement.activate(authority, rebindCode);
      expect((await authority.get(license.id)).device?.jkt).toBe(replacement.signer.jkt);
      await expect(
        authority.verifyRequest(await replacement.request('GET', '/v1/mailbox')),
      ).resolves.toBeDefined();
      await expect(
        authority.verifyRequest(await lost.request('GET', '/v1/mailbox')),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_TOKEN_BINDING' });
      const third = await Device.create({ now: Date.now() });
      await expect(third.activate(authority, rebindCode)).rejects.toMatchObject({
        code: 'ERR_LICENSE_ACTIVATION_FAILED',
      });
    });

    it('an expired license can neither activate nor make requests', async () => {
      const h = await harness(await makeStore());
      const { key, license } = await h.authority.issue({
        tenant: 't',
        product: 'p',
        expiresAt: new Date(h.clock.now + 60_000),
      });
      const device = await Device.create(h.clock);
      await device.activate(h.authority, key);
      h.clock.now += 61_000;
      await expect(
        h.authority.refresh(await device.request('POST', '/v1/token', { withToken: false })),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_EXPIRED' });
      const second = await h.authority.issue({
        tenant: 't',
        product: 'p',
        expiresAt: new Date(h.clock.now + 1000),
      });
      h.clock.now += 2000;
      await expect(
        (await Device.create(h.clock)).activate(h.authority, second.key),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_ACTIVATION_FAILED' });
      expect((await h.authority.get(license.id)).expiresAt).toBeInstanceOf(Date);
    });

    it('lists by tenant and status, page by page', async () => {
      const { authority } = await harness(await makeStore());
      for (let i = 0; i < 5; i++) await authority.issue({ tenant: 'tenant-a', product: 'p' });
      const other = await authority.issue({ tenant: 'tenant-b', product: 'p' });
      await authority.lock(other.license.id);
      const first = await authority.list({ tenant: 'tenant-a', limit: 3 });
      expect(first.licenses).toHaveLength(3);
      const second = await authority.list({
        tenant: 'tenant-a',
        limit: 3,
        cursor: first.nextCursor as string,
      });
      expect(second.licenses).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
      expect(new Set([...first.licenses, ...second.licenses].map((l) => l.id)).size).toBe(5);
      expect((await authority.list({ status: 'locked' })).licenses.map((l) => l.id)).toEqual([
        other.license.id,
      ]);
    });

    it('records what the device says about itself and its IP at activation and refresh; a rebind forgets it', async () => {
      const { authority, key, license, clock } = await issued();
      const device = await Device.create(clock, { hostName: 'kasse-01', agentVersion: '1.2.0' });
      await device.activate(authority, key, '203.0.113.7');
      expect(await authority.get(license.id)).toMatchObject({
        device: { jkt: device.signer.jkt, hostName: 'kasse-01', agentVersion: '1.2.0' },
        lastIp: '203.0.113.7',
        lastSeenAt: new Date(clock.now),
      });
      clock.now += 5 * 60_000;
      const updated = new Device(
        createDpopSigner(device.key as PrivateJwk, {
          now: () => clock.now,
          device: { agentVersion: '1.3.0' },
        }),
        clock,
      );
      await authority.refresh(
        await updated.request('POST', '/v1/token', { withToken: false, clientIp: '2001:db8::5' }),
      );
      expect(await authority.get(license.id)).toMatchObject({
        device: { hostName: 'kasse-01', agentVersion: '1.3.0' },
        lastIp: '2001:db8::5',
        lastSeenAt: new Date(clock.now),
      });
      const admin = await authority.rebind(license.id);
      expect(admin.license.device).toBeNull();
      const next = await Device.create(clock);
      await next.activate(authority, admin.rebindCode);
      const rebound = await authority.get(license.id);
      expect(rebound.device).toEqual({ jkt: next.signer.jkt });
      expect(rebound.lastIp).toBeNull();
    });

    it('last seen and the IP move with verified requests, one write a minute even for a burst at once', async () => {
      const { authority, key, license, clock, store } = await issuedWithStore();
      let writes = 0;
      const touch = store.touch?.bind(store);
      expect(touch).toBeDefined();
      store.touch = async (id, seen) => {
        const wrote = (await touch?.(id, seen)) ?? false;
        if (wrote) writes++;
        return wrote;
      };
      const device = await Device.create(clock);
      await device.activate(authority, key, '198.51.100.1');
      const activatedAt = clock.now;
      const burst = async (ip: string) => {
        const requests = await Promise.all(
          Array.from({ length: 12 }, () => device.request('GET', '/v1/status', { clientIp: ip })),
        );
        await Promise.all(requests.map((r) => authority.verifyRequest(r)));
        // The write is not awaited by the request: let it land.
        await new Promise((resolve) => setTimeout(resolve, 100));
      };
      // Within the minute after activation: nothing is written.
      clock.now += 30_000;
      await burst('198.51.100.2');
      expect(writes).toBe(0);
      expect((await authority.get(license.id)).lastSeenAt).toEqual(new Date(activatedAt));
      // A minute on: twelve requests at once, one write.
      clock.now += 31_000;
      await burst('198.51.100.3');
      expect(writes).toBe(1);
      const seen = await authority.get(license.id);
      expect(seen.lastSeenAt).toEqual(new Date(clock.now));
      expect(seen.lastIp).toBe('198.51.100.3');
      clock.now += 59_000;
      await burst('198.51.100.4');
      expect(writes).toBe(1);
      clock.now += 1_000;
      await burst('198.51.100.5');
      expect(writes).toBe(2);
      expect(await authority.get(license.id)).toMatchObject({
        lastSeenAt: new Date(clock.now),
        lastIp: '198.51.100.5',
        status: 'active',
      });
    });

    it('bad input gets a typed error and changes nothing', async () => {
      const { authority } = await harness(await makeStore());
      for (const input of [
        { tenant: '', product: 'p' },
        { tenant: 't', product: 'p'.repeat(200) },
        { tenant: "t'; DROP TABLE x; --", product: 'p' },
        { tenant: 't', product: 'p', entitlements: [42 as unknown as string] },
        { tenant: 't', product: 'p', expiresAt: new Date(0) },
      ]) {
        await expect(authority.issue(input)).rejects.toMatchObject({
          code: 'ERR_LICENSE_INVALID_ARGUMENT',
        });
      }
      expect((await authority.list()).licenses).toHaveLength(0);
      await expect(authority.get('nope')).rejects.toMatchObject({ code: 'ERR_LICENSE_NOT_FOUND' });
      await expect(authority.lock('nope')).rejects.toMatchObject({ code: 'ERR_LICENSE_NOT_FOUND' });
      await expect(authority.list({ limit: 0 })).rejects.toMatchObject({
        code: 'ERR_LICENSE_INVALID_ARGUMENT',
      });
    });
  });
}
