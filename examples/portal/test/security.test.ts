/**
 * The threats the design brief names for the portal, each a named case against the real server:
 * IDOR across tenants, CSRF, session fixation, TOTP replay, reset without 2FA, role escalation,
 * brute force and spraying (throttling, lockout, alerts), plus the session rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../src/shared/api.ts';
import {
  code,
  PASSWORD,
  type PortalHarness,
  type SignedUp,
  signInWithTotpApi,
  startPortalHarness,
} from './helpers.ts';

let h: PortalHarness;
let admin: SignedUp;
let acmeKey: SignedUp;
let globexKey: SignedUp;
let acmeLicense = '';
let globexLicense = '';

const signIn = (email: string, secret: string, password = PASSWORD) =>
  signInWithTotpApi(h, email, secret, password);

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await h.portal.createTenant('globex', 'Globex AG', 'customer');
  await h.portal.createTenant('partnerco', 'Partner Co', 'partner');
  await h.portal.assignPartner('partnerco', 'acme');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  acmeKey = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kai Key');
  globexKey = await h.signUp('key@globex.test', 'key-user', 'globex', 'Gabi Globex');
  const a = await admin.client.post<{ license: { id: string } }>('/api/licenses', {
    tenantId: 'acme',
    product: 'wawi-sync',
  });
  const g = await admin.client.post<{ license: { id: string } }>('/api/licenses', {
    tenantId: 'globex',
    product: 'wawi-sync',
  });
  acmeLicense = a.body.license.id;
  globexLicense = g.body.license.id;
});
afterAll(async () => h?.close());

describe('IDOR across tenants', () => {
  it('every object route answers 404 for another tenant’s license, and the miss is audited', async () => {
    const c = globexKey.client;
    const routes: [string, string, unknown?][] = [
      ['GET', `/api/licenses/${acmeLicense}`],
      ['GET', `/api/licenses/${acmeLicense}/connections`],
      [
        'PUT',
        `/api/licenses/${acmeLicense}/connections/shop/credentials`,
        { kind: 'api-key', fields: { k: 'v' } },
      ],
      ['GET', '/api/licenses?tenantId=acme'],
      ['GET', '/api/users?tenantId=acme'],
      ['GET', '/api/audit?tenantId=acme'],
    ];
    for (const [method, path, body] of routes) {
      const res = await c.call(method, path, body);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const denied = await h.portal.audit.query({ tenant: 'globex', action: 'access.denied' });
    expect(denied.events.length).toBeGreaterThanOrEqual(routes.length);
  });

  it('users of another tenant cannot be managed', async () => {
    const res = await globexKey.client.call('PATCH', `/api/users/${acmeKey.userId}`, {
      status: 'disabled',
    });
    expect(res.status).toBe(404);
    const revoke = await globexKey.client.post(`/api/users/${acmeKey.userId}/sessions/revoke`);
    expect(revoke.status).toBe(404);
  });

  it('a partner sees only the customers assigned to it', async () => {
    const partner = await h.signUp('p@partner.test', 'partner', 'partnerco', 'Pat Partner');
    const tenants = await partner.client.get<{ tenants: { id: string }[] }>('/api/tenants');
    expect(tenants.body.tenants.map((t) => t.id)).toEqual(['acme']);
    const licenses = await partner.client.get<{ licenses: { id: string }[] }>('/api/licenses');
    expect(licenses.body.licenses.map((l) => l.id)).toEqual([acmeLicense]);
    expect((await partner.client.get(`/api/licenses/${globexLicense}`)).status).toBe(404);
  });

  it('field-level: only administrators see the device thumbprint', async () => {
    const l = await acmeKey.client.get<{ license: Record<string, unknown> }>(
      `/api/licenses/${acmeLicense}`,
    );
    expect(l.status).toBe(200);
    expect(l.body.license).not.toHaveProperty('deviceJkt');
  });
});

describe('CSRF', () => {
  it('a state change without the token is refused', async () => {
    const res = await admin.client.call(
      'POST',
      `/api/licenses/${acmeLicense}/lock`,
      { reason: 'x' },
      { csrf: false },
    );
    expect(res.status).toBe(403);
    expect((res.body as { code: string }).code).toBe('csrf');
  });

  it('from another origin or a cross-site fetch it is refused, even with the token', async () => {
    const foreign = await admin.client.call(
      'POST',
      `/api/licenses/${acmeLicense}/lock`,
      { reason: 'x' },
      { origin: 'https://evil.example' },
    );
    expect(foreign.status).toBe(403);
    const noOrigin = await admin.client.call(
      'POST',
      `/api/licenses/${acmeLicense}/lock`,
      { reason: 'x' },
      { origin: null },
    );
    expect(noOrigin.status).toBe(403);
    const crossSite = await admin.client.call(
      'POST',
      `/api/licenses/${acmeLicense}/lock`,
      { reason: 'x' },
      { headers: { 'sec-fetch-site': 'cross-site' } },
    );
    expect(crossSite.status).toBe(403);
    const l = await admin.client.get<{ license: { status: string } }>(
      `/api/licenses/${acmeLicense}`,
    );
    expect(l.body.license.status).toBe('issued');
  });

  it('ended session is a 401, not a csrf refusal: a request raced past its sign-out is told to sign in again and changes nothing', async () => {
    const who = await h.signUp('ended@acme.test', 'key-user', 'acme', 'Edda Ended');
    const stale = h.client();
    for (const [name, value] of who.client.cookies) stale.cookies.set(name, value);
    stale.csrf = who.client.csrf;
    expect((await who.client.post('/api/auth/logout')).status).toBe(204);
    const res = await stale.call('PATCH', '/api/me', { name: 'Nobody' });
    expect(res.status).toBe(401);
    expect((res.body as { code: string }).code).toBe('unauthenticated');
    const { rows } = await h.portal.db.query('SELECT name FROM portal_users WHERE id = $1', [
      who.userId,
    ]);
    expect(rows[0]?.name).toBe('Edda Ended');
    // A stale session cookie is no way around the token: cross-origin is still refused first.
    const foreign = await stale.call(
      'PATCH',
      '/api/me',
      { name: 'Nobody' },
      { origin: 'https://evil.example' },
    );
    expect((foreign.body as { code: string }).code).toBe('csrf');
  });

  it('sign-in itself needs the pre-session token (login CSRF)', async () => {
    const c = h.client();
    const res = await c.post('/api/auth/login', { email: 'admin@fluxel.test', password: PASSWORD });
    expect(res.status).toBe(403);
  });
});

describe('session fixation', () => {
  it('a session id planted before sign-in is worthless after it', async () => {
    const c = h.client();
    await c.session();
    await c.post('/api/auth/login', { email: 'key@acme.test', password: PASSWORD });
    const planted = c.cookies.get('__Host-fluxel_session') as string;
    h.clock.offsetMs += 30_000;
    await c.post('/api/auth/second-factor', { method: 'totp', code: code(h, acmeKey.secret) });
    expect(c.cookies.get('__Host-fluxel_session')).not.toBe(planted);
    const attacker = h.client();
    attacker.cookies.set('__Host-fluxel_session', planted);
    const s = await attacker.session();
    expect(s.stage).toBe('anonymous');
    expect((await attacker.get('/api/licenses')).status).toBe(401);
  });
});

describe('TOTP replay', () => {
  it('the same code is accepted once; an older step never', async () => {
    const c = h.client();
    await c.session();
    await c.post('/api/auth/login', { email: 'key@acme.test', password: PASSWORD });
    h.clock.offsetMs += 60_000;
    const current = code(h, acmeKey.secret);
    expect(
      (await c.post('/api/auth/second-factor', { method: 'totp', code: current })).status,
    ).toBe(200);
    const d = h.client();
    await d.session();
    await d.post('/api/auth/login', { email: 'key@acme.test', password: PASSWORD });
    const replay = await d.post<{ code: string }>('/api/auth/second-factor', {
      method: 'totp',
      code: current,
    });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('invalid_code');
    const older = await d.post('/api/auth/second-factor', {
      method: 'totp',
      code: code(h, acmeKey.secret, -1),
    });
    expect(older.status).toBe(401);
  });
});

describe('password reset without 2FA', () => {
  it('the reset sets the password, ends sessions, and sign-in still needs the second factor', async () => {
    const user = await h.signUp('reset@acme.test', 'customer', 'acme', 'Rita Reset');
    const anon = h.client();
    await anon.session();
    expect((await anon.post('/api/auth/reset/request', { email: 'reset@acme.test' })).status).toBe(
      204,
    );
    // Unknown addresses answer the same (no enumeration).
    expect((await anon.post('/api/auth/reset/request', { email: 'nobody@acme.test' })).status).toBe(
      204,
    );
    const mail = await h.smtp.waitFor(
      (m) => m.to.includes('reset@acme.test') && /reset/.test(m.text),
    );
    const token = /\/reset\/([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] as string;
    const newPassword = 'ein ganz neues langes Passwort';
    const confirm = await anon.post('/api/auth/reset/confirm', { token, password: newPassword });
    expect(confirm.status).toBe(204);
    expect(anon.cookies.has('__Host-fluxel_session')).toBe(false);
    // The old session is gone.
    expect((await user.client.get('/api/me')).status).toBe(401);
    // The link works once.
    expect(
      (await anon.post('/api/auth/reset/confirm', { token, password: `${newPassword}!` })).status,
    ).toBe(400);
    const c = h.client();
    await c.session();
    const login = await c.post<SessionInfo>('/api/auth/login', {
      email: 'reset@acme.test',
      password: newPassword,
    });
    expect(login.body.stage).toBe('password');
    expect((await c.get('/api/me')).status).toBe(401);
  });
});

describe('role escalation', () => {
  it('a key-user cannot make anyone an administrator or invite one', async () => {
    const victim = await h.signUp('cust@acme.test', 'customer', 'acme', 'Carl Customer');
    const grant = await acmeKey.client.call('PATCH', `/api/users/${victim.userId}`, {
      role: 'administrator',
    });
    expect(grant.status).toBe(403);
    const self = await acmeKey.client.call('PATCH', `/api/users/${acmeKey.userId}`, {
      role: 'administrator',
    });
    expect(self.status).toBe(409);
    const invite = await acmeKey.client.post('/api/invitations', {
      email: 'x@acme.test',
      role: 'administrator',
    });
    expect(invite.status).toBe(403);
    const lic = await acmeKey.client.post('/api/licenses', {
      tenantId: 'acme',
      product: 'wawi-sync',
    });
    expect(lic.status).toBe(403);
    const denied = await h.portal.audit.query({ tenant: 'acme', outcome: 'denied' });
    expect(denied.events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['user.role.changed', 'user.invite', 'access.denied']),
    );
  });

  it('a key-user may promote within the tenant (customer → key-user), audited', async () => {
    const u = await h.signUp('promo@acme.test', 'customer', 'acme', 'Paula Promo');
    const res = await acmeKey.client.call<{ role: string }>('PATCH', `/api/users/${u.userId}`, {
      role: 'key-user',
    });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('key-user');
  });

  it('disabling a user ends all their sessions at once', async () => {
    const u = await h.signUp('gone@acme.test', 'customer', 'acme', 'Gerd Gone');
    expect((await u.client.get('/api/me')).status).toBe(200);
    const res = await acmeKey.client.call('PATCH', `/api/users/${u.userId}`, {
      status: 'disabled',
    });
    expect(res.status).toBe(200);
    expect((await u.client.get('/api/me')).status).toBe(401);
    const again = h.client();
    await again.session();
    const login = await again.post('/api/auth/login', {
      email: 'gone@acme.test',
      password: PASSWORD,
    });
    expect(login.status).toBe(401);
  });
});

describe('brute force and spraying', () => {
  it('backs off, then locks the account out; the lockout holds even with the right password', async () => {
    await h.signUp('victim@acme.test', 'customer', 'acme', 'Vera Victim');
    const c = h.client();
    await c.session();
    const statuses: number[] = [];
    const codes: string[] = [];
    for (let i = 0; i < 40 && !codes.includes('locked_out'); i++) {
      const res = await c.post<{ retryAfter?: number; code: string }>('/api/auth/login', {
        email: 'victim@acme.test',
        password: `wrong password number ${i}`,
      });
      statuses.push(res.status);
      codes.push(res.body.code);
      // Wait out each back-off (but not the lockout).
      if (res.body.code === 'throttled') h.clock.offsetMs += (res.body.retryAfter ?? 1) * 1000;
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(codes).toContain('throttled');
    expect(codes.at(-1)).toBe('locked_out');
    expect(codes.filter((c) => c === 'invalid_credentials')).toHaveLength(10);
    const locked = await c.post<{ code: string }>('/api/auth/login', {
      email: 'victim@acme.test',
      password: PASSWORD,
    });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('locked_out');
    await h.portal.audit.alerts.settled();
    const alerts = await h.portal.audit.query({ tenant: 'acme', action: 'alert.*' });
    expect(alerts.events.map((e) => String(e.details?.rule ?? e.action))).toEqual(
      expect.arrayContaining([expect.stringMatching(/brute-force/)]),
    );
  });

  it('password spraying from one IP raises an alert', async () => {
    const c = h.client();
    await c.session();
    for (let i = 0; i < 6; i++)
      await c.post('/api/auth/login', {
        email: `spray${i}@acme.test`,
        password: 'Sommer2026!Sommer',
      });
    await h.portal.audit.alerts.settled();
    const alerts = await h.portal.audit.query({ tenant: 'fluxel-operator', action: 'alert.*' });
    expect(JSON.stringify(alerts.events)).toMatch(/password-spraying/);
  });
});

describe('sessions', () => {
  // Every test client shares 127.0.0.1, which the brute-force cases above made suspicious.
  beforeAll(async () => {
    await h.portal.db.query('DELETE FROM portal_throttle');
  });

  it('end after the idle timeout and after the absolute lifetime', async () => {
    const c = await signIn('key@globex.test', globexKey.secret);
    expect((await c.get('/api/me')).status).toBe(200);
    h.clock.offsetMs += 31 * 60_000;
    expect((await c.get('/api/me')).status).toBe(401);
    const d = await signIn('key@globex.test', globexKey.secret);
    for (let i = 0; i < 25; i++) {
      h.clock.offsetMs += 29 * 60_000; // active, never idle ...
      const res = await d.get('/api/me');
      if (res.status !== 200) break;
    }
    // ... but 12 h later it is over anyway.
    expect((await d.get('/api/me')).status).toBe(401);
  });

  it('a user lists own sessions and ends another one', async () => {
    const a = await signIn('key@globex.test', globexKey.secret);
    const b = await signIn('key@globex.test', globexKey.secret);
    const list = await a.get<{ sessions: { id: string; current: boolean }[] }>('/api/me/sessions');
    const other = list.body.sessions.find((s) => !s.current);
    expect(other).toBeDefined();
    expect(list.body.sessions.filter((s) => s.current)).toHaveLength(1);
    const ended = await a.call('DELETE', `/api/me/sessions/${other?.id}`);
    expect(ended.status).toBe(204);
    const statusB = (await b.get('/api/me')).status;
    const statusA = (await a.get('/api/me')).status;
    expect([statusA, statusB].sort()).toEqual([200, 401]);
  });

  it('the session list is current: a session that timed out idle is gone, this one is seen now', async () => {
    type Sessions = { sessions: { id: string; current: boolean; lastSeenAt: string }[] };
    const idle = await signIn('key@globex.test', globexKey.secret);
    const idleId = (await idle.get<Sessions>('/api/me/sessions')).body.sessions.find(
      (s) => s.current,
    )?.id;
    expect(idleId).toBeTruthy();
    h.clock.offsetMs += 25 * 60_000;
    const a = await signIn('key@globex.test', globexKey.secret);
    // `idle` unused for 31 minutes (the limit is 30): it cannot be used any more, so it is not
    // listed as if it could; `a` was last stored as seen 6 minutes ago, but it is in use now.
    h.clock.offsetMs += 6 * 60_000;
    const list = await a.get<Sessions>('/api/me/sessions');
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s) => s.id)).not.toContain(idleId);
    const current = list.body.sessions.find((s) => s.current);
    const now = Date.now() + h.clock.offsetMs;
    expect(Math.abs(Date.parse(current?.lastSeenAt ?? '') - now)).toBeLessThan(5_000);
    expect((await idle.get('/api/me')).status).toBe(401);
  });

  it('changing the password needs a fresh re-authentication', async () => {
    const c = await signIn('key@globex.test', globexKey.secret);
    const before = await c.post<{ code: string }>('/api/me/password', {
      password: 'noch ein neues Passwort hier',
    });
    expect(before.status).toBe(403);
    expect(before.body.code).toBe('reauth_required');
    h.clock.offsetMs += 30_000;
    const re = await c.post('/api/auth/reauth', {
      password: PASSWORD,
      method: 'totp',
      code: code(h, globexKey.secret),
    });
    expect(re.status).toBe(200);
    const weak = await c.post<{ code: string }>('/api/me/password', { password: 'password1234' });
    expect(weak.body.code).toBe('weak_password');
  });
});
