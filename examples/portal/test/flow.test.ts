/**
 * The portal's API end to end over HTTPS: invitation → password → mandatory TOTP enrolment →
 * sign-in with password and second factor; licenses through the relay's admin gRPC; credentials
 * into the relay's vault only after activation; every change audited.
 */
import { generateWebhookSecret } from '@fluxel-example/counterpart';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../src/shared/api.ts';
import {
  code,
  PASSWORD,
  type PortalHarness,
  type SignedUp,
  startPortalHarness,
} from './helpers.ts';

let h: PortalHarness;
let admin: SignedUp;

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await h.portal.createTenant('globex', 'Globex AG', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
});
afterAll(async () => h?.close());

describe('sign-in', () => {
  it('needs the password and then a second factor; the session id changes at each step', async () => {
    const c = h.client();
    await c.session();
    const login = await c.post<SessionInfo>('/api/auth/login', {
      email: 'admin@fluxel.test',
      password: PASSWORD,
    });
    expect(login.status).toBe(200);
    expect(login.body.stage).toBe('password');
    expect(login.body.methods).toEqual(expect.arrayContaining(['totp', 'recovery']));
    const pendingCookie = c.cookies.get('__Host-fluxel_session');
    // Nothing is reachable before the second factor.
    expect((await c.get('/api/licenses')).status).toBe(401);
    h.clock.offsetMs += 30_000; // the enrolment used the current step
    const done = await c.post<SessionInfo>('/api/auth/second-factor', {
      method: 'totp',
      code: code(h, admin.secret),
    });
    expect(done.status).toBe(200);
    expect(done.body.stage).toBe('full');
    expect(c.cookies.get('__Host-fluxel_session')).not.toBe(pendingCookie);
    expect((await c.get('/api/licenses')).status).toBe(200);
  });

  it('the cookie is __Host-, Secure, HttpOnly, SameSite=Strict; API answers are no-store', async () => {
    const c = h.client();
    await c.session();
    const res = await c.call('POST', '/api/auth/login', {
      email: 'admin@fluxel.test',
      password: PASSWORD,
    });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(
      /^__Host-fluxel_session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict/,
    );
    expect(cookie).not.toMatch(/Domain=/i);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=(\d+)/);
    expect(
      Number(/max-age=(\d+)/.exec(String(res.headers['strict-transport-security']))?.[1]),
    ).toBeGreaterThanOrEqual(31_536_000);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
  });
});

describe('licenses and credentials', () => {
  let licenseId = '';
  let licenseKey = '';

  it('an administrator creates a license (key shown once) and it is audited', async () => {
    const res = await admin.client.post<{
      license: { id: string; status: string };
      licenseKey: string;
    }>('/api/licenses', { tenantId: 'acme', product: 'wawi-sync', entitlements: ['orders'] });
    expect(res.status).toBe(200);
    expect(res.body.license.status).toBe('issued');
    expect(res.body.licenseKey).toMatch(/\w/);
    licenseId = res.body.license.id;
    licenseKey = res.body.licenseKey;
    await h.portal.audit.log.flush?.();
    const page = await h.portal.audit.query({ tenant: 'acme', action: 'license.created' });
    expect(page.events[0]?.target?.id).toBe(licenseId);
    expect(JSON.stringify(page.events)).not.toContain(licenseKey);
  });

  it('credentials are refused before activation and stored (never shown) after it', async () => {
    const keyUser = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kai Key');
    const put = () =>
      keyUser.client.call('PUT', `/api/licenses/${licenseId}/connections/shop-1/credentials`, {
        kind: 'api-key',
        fields: { apiKey: 'cp-portal-key-5e8a2b' },
      });
    const before = await put();
    expect(before.status).toBe(409);
    expect((before.body as { code: string }).code).toBe('license_not_active');
    await h.activate(licenseKey);
    const after = await put();
    expect(after.status).toBe(204);
    const list = await keyUser.client.get<{ connections: { connection: string; setBy: string }[] }>(
      `/api/licenses/${licenseId}/connections`,
    );
    expect(list.body.connections).toEqual([
      expect.objectContaining({ connection: 'shop-1', setBy: 'Kai Key', fieldNames: ['apiKey'] }),
    ]);
    expect(list.text).not.toContain('cp-portal-key-5e8a2b');
    // With a webhook secret the connection gets its own hook URL, shown for the third party.
    expect(list.body.connections[0]).toMatchObject({ hookUrl: null });
    const withHook = await keyUser.client.call(
      'PUT',
      `/api/licenses/${licenseId}/connections/shop-1/credentials`,
      {
        kind: 'api-key',
        fields: { apiKey: 'cp-portal-key-5e8a2b', webhookSecret: generateWebhookSecret() },
      },
    );
    expect(withHook.status).toBe(204);
    const shown = await keyUser.client.get<{ connections: { hookUrl: string | null }[] }>(
      `/api/licenses/${licenseId}/connections`,
    );
    expect(shown.body.connections[0]?.hookUrl).toMatch(/^https:.*\/v1\/hooks\/shop-1\/[\w-]{32,}$/);
  });

  it('a webhook secret shorter than 24 bytes is refused with its own code (German text), nothing stored', async () => {
    const keyUser = await h.signUp('short-secret@acme.test', 'key-user', 'acme', 'Sina Short');
    const short = `whsec_${Buffer.alloc(16, 7).toString('base64')}`;
    const res = await keyUser.client.call(
      'PUT',
      `/api/licenses/${licenseId}/connections/shop-9/credentials`,
      { kind: 'api-key', fields: { apiKey: 'cp-portal-key-5e8a2b', webhookSecret: short } },
    );
    expect(res.status).toBe(400);
    expect((res.body as { code: string }).code).toBe('webhook_secret_invalid');
    const list = await keyUser.client.get<{ connections: { connection: string }[] }>(
      `/api/licenses/${licenseId}/connections`,
    );
    expect(list.body.connections.map((c) => c.connection)).not.toContain('shop-9');
  });

  it('another tenant sees nothing of it (404, not 403)', async () => {
    const other = await h.signUp('key@globex.test', 'key-user', 'globex', 'Gabi Globex');
    expect((await other.client.get(`/api/licenses/${licenseId}`)).status).toBe(404);
    expect((await other.client.get(`/api/licenses/${licenseId}/connections`)).status).toBe(404);
    const list = await other.client.get<{ licenses: unknown[] }>('/api/licenses');
    expect(list.body.licenses).toEqual([]);
  });

  it('an administrator locks the license', async () => {
    const res = await admin.client.post<{ status: string }>(`/api/licenses/${licenseId}/lock`, {
      reason: 'payment overdue',
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('locked');
  });
});
