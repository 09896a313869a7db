import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot, relayAuditEvents } from './helpers.ts';

describe('promise 7: narrow internal API', () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  });
  afterAll(async () => sys?.close());

  it('the license lifecycle runs through the LicenseAdmin gRPC API only: create, get, list, lock, unlock, rebind', async () => {
    const admin = sys.admin();
    const { license, licenseKey } = await admin.create({
      tenant: 'shop-a',
      product: 'wawi-sync',
      entitlements: ['orders'],
    });
    expect(license.status).toBe('issued');
    expect(licenseKey).toMatch(/^FLX-/);
    expect((await admin.list('shop-a')).map((l) => l.id)).toEqual([license.id]);
    const dir = join(sys.dataDir, 'agents', 'shop-a');
    const act = await sys.agent(dir, [
      'activate',
      licenseKey,
      '--relay',
      sys.relayUrl,
      '--ca',
      sys.caPath,
      '--key-store',
      'file',
      '--json',
    ]);
    expect(act.code).toBe(0);
    expect((await admin.get(license.id)).status).toBe('active');

    expect((await admin.lock(license.id, 'unpaid invoice')).status).toBe('locked');
    const locked = await sys.agent(dir, ['status', '--json']);
    expect(locked.code).toBe(1); // the device is refused while locked
    expect((await admin.unlock(license.id)).status).toBe('active');
    const unlocked = await sys.agent(dir, ['status', '--json']);
    expect(unlocked.code).toBe(0);
    const rebind = await admin.rebind(license.id);
    expect(String(rebind.rebind_code)).toMatch(/^FLXRB-/);

    // No token, or a wrong one: refused; and every call is audited as an admin action.
    await expect(admin.call('Get', { id: license.id }, '')).rejects.toMatchObject({ code: 16 });
    await expect(admin.call('Get', { id: license.id }, 'x'.repeat(40))).rejects.toMatchObject({
      code: 16,
    });
    const actions = relayAuditEvents(sys).map((e) => `${e.action}:${e.outcome}`);
    for (const a of ['create', 'get', 'list', 'lock', 'unlock', 'rebind'])
      expect(actions).toContain(`admin.license.${a}:success`);
    expect(actions).toContain('admin.license.get:denied');
  });
});
