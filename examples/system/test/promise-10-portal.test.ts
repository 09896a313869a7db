import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortalClient } from '../src/portal-client.ts';
import { PortalClient as Client } from '../src/portal-client.ts';
import { inviteAndSignUp, type PortalUser, signUpFirstAdmin } from '../src/seed.ts';
import { activatedAgent, type Booted, boot } from './helpers.ts';

describe('promise 10: a portal people can trust', () => {
  let sys: Booted;
  let admin: PortalClient;
  let keyUser: PortalUser;
  beforeAll(async () => {
    sys = await boot({ portal: true, extraTenants: ['other-merchant:Andere Händler AG'] });
    const first = await signUpFirstAdmin(sys);
    admin = first.client;
    keyUser = (
      await inviteAndSignUp(sys, admin, {
        email: 'keyuser@demo-merchant.test',
        role: 'key-user',
        tenantId: 'demo-merchant',
        name: 'Kira Key',
      })
    ).user;
  });
  afterAll(async () => {
    await admin?.close();
    await sys?.close();
  });

  it('sign-in needs the second factor, a customer user sees only its own tenant, and the ADV PDF downloads', async () => {
    expect(sys.portalUrl).toMatch(/^https:\/\//);
    const own = await activatedAgent(sys, 'own', { tenant: 'demo-merchant' });
    const other = await sys.admin().create({ tenant: 'other-merchant', product: 'wawi-sync' });

    // Password alone is not a sign-in.
    const browser = new Client(sys.portalUrl as string, sys.ca);
    await browser.get('/api/session');
    const half = await browser.post<{ stage: string }>('/api/auth/login', {
      email: keyUser.email,
      password: keyUser.password,
    });
    expect(half.status).toBe(200);
    expect(half.body.stage).toBe('password');
    expect((await browser.get('/api/licenses')).status).toBe(401);
    const wrong = await browser.post('/api/auth/second-factor', { method: 'totp', code: '000000' });
    expect(wrong.status).toBe(401);
    await browser.close();

    const user = new Client(sys.portalUrl as string, sys.ca);
    const signedIn = await user.signIn(keyUser.email, keyUser.password, keyUser.totpSecret);
    expect(signedIn.status).toBe(200);
    expect((await user.get<{ stage: string }>('/api/session')).body.stage).toBe('full');

    // Own tenant's license: visible (device bound); another tenant's: 404, like a missing one.
    const mine = await user.get<{ license: { id: string; status: string } }>(
      `/api/licenses/${own.licenseId}`,
    );
    expect(mine.status).toBe(200);
    expect(mine.body.license.status).toBe('active');
    expect((await user.get(`/api/licenses/${other.license.id}`)).status).toBe(404);
    expect((await user.get('/api/licenses/does-not-exist')).status).toBe(404);
    const list = await user.get<{ licenses: { id: string }[] }>('/api/licenses');
    expect(list.body.licenses.map((l) => l.id)).toContain(own.licenseId);
    expect(list.body.licenses.map((l) => l.id)).not.toContain(other.license.id);

    // ADV/DPA: accept the current version, download the PDF.
    const adv = await user.get<{ current?: { id: string; sha256: string } }>('/api/adv');
    expect(adv.status).toBe(200);
    const current = adv.body.current;
    expect(current).toBeDefined();
    const accepted = await user.post<{ acceptance: { id: string } }>('/api/adv/accept', {
      version: current?.id,
      textSha256: current?.sha256,
    });
    expect([200, 201]).toContain(accepted.status);
    const pdf = await user.get(`/api/adv/acceptances/${accepted.body.acceptance.id}/pdf`);
    expect(pdf.status).toBe(200);
    expect(String(pdf.headers['content-type'])).toContain('application/pdf');
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    await user.close();
  });
});
