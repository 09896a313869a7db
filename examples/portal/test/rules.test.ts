/**
 * The remaining account rules, one case each: SMS only next to a stronger factor and only to a
 * verified number, recovery codes single use, e-mail codes expire after 10 minutes and are
 * rate-limited, re-authentication before e-mail and factor changes, invitations expire and
 * work once, weak passwords refused, strict bodies, the audit viewer's filters and CSV export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../src/shared/api.ts';
import {
  code,
  PASSWORD,
  type PortalHarness,
  reauthenticate,
  type SignedUp,
  startPortalHarness,
} from './helpers.ts';

let h: PortalHarness;
let admin: SignedUp;
let user: SignedUp;

const reauth = (s: SignedUp) => reauthenticate(h, s);

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  user = await h.signUp('user@acme.test', 'customer', 'acme', 'Uwe User');
});
afterAll(async () => h?.close());

describe('SMS', () => {
  it('is refused as the only factor (no stronger one yet)', async () => {
    const token = await h.portal.invite('sms-only@acme.test', 'customer', 'acme');
    const c = h.client();
    await c.session();
    await c.post(`/api/invitations/${token}/accept`, { name: 'Sam Sms', password: PASSWORD });
    const res = await c.post<{ code: string }>('/api/enrol/sms/start', { phone: '+4915112345678' });
    expect(res.status).toBe(409);
    expect(h.sms.messages).toHaveLength(0);
  });

  it('next to TOTP: the number is verified by a code before it becomes a factor', async () => {
    const c = user.client;
    expect((await c.post('/api/enrol/sms/start', { phone: '+4915112345678' })).status).toBe(403);
    await reauth(user);
    expect((await c.post('/api/enrol/sms/start', { phone: '015112345678' })).status).toBe(400);
    expect((await c.post('/api/enrol/sms/start', { phone: '+4915112345678' })).status).toBe(204);
    const sms = await h.sms.waitFor((m) => m.to === '+4915112345678');
    const smsCode = /(\d{6})/.exec(sms.text)?.[1] as string;
    expect((await c.post('/api/enrol/sms/confirm', { code: '000000' })).status).toBe(401);
    expect((await c.post('/api/enrol/sms/confirm', { code: smsCode })).status).toBe(200);
    const me = await c.get<{ factors: { type: string }[]; phone: string }>('/api/me');
    expect(me.body.factors.map((f) => f.type).sort()).toEqual(['sms', 'totp']);
    expect(me.body.phone).toBe('+4915112345678');
    // At sign-in, SMS is offered and works.
    const d = h.client();
    await d.session();
    const login = await d.post<SessionInfo>('/api/auth/login', {
      email: 'user@acme.test',
      password: PASSWORD,
    });
    expect(login.body.methods).toContain('sms');
    h.clock.offsetMs += 31_000;
    expect((await d.post('/api/auth/code/send', { method: 'sms' })).status).toBe(204);
    const second = h.sms.messages.at(-1);
    const signInCode = /(\d{6})/.exec(second?.text ?? '')?.[1] as string;
    expect(
      (await d.post('/api/auth/second-factor', { method: 'sms', code: signInCode })).status,
    ).toBe(200);
    // The same code does not work twice.
    const e = h.client();
    await e.session();
    await e.post('/api/auth/login', { email: 'user@acme.test', password: PASSWORD });
    expect(
      (await e.post('/api/auth/second-factor', { method: 'sms', code: signInCode })).status,
    ).toBe(401);
  });
});

describe('recovery codes', () => {
  it('each works once', async () => {
    const [first] = user.recoveryCodes;
    const c = h.client();
    await c.session();
    await c.post('/api/auth/login', { email: 'user@acme.test', password: PASSWORD });
    expect(
      (await c.post('/api/auth/second-factor', { method: 'recovery', code: first })).status,
    ).toBe(200);
    const d = h.client();
    await d.session();
    await d.post('/api/auth/login', { email: 'user@acme.test', password: PASSWORD });
    expect(
      (await d.post('/api/auth/second-factor', { method: 'recovery', code: first })).status,
    ).toBe(401);
    const me = await c.get<{ recoveryCodesLeft: number }>('/api/me');
    expect(me.body.recoveryCodesLeft).toBe(9);
  });
});

describe('e-mail codes', () => {
  it('expire after 10 minutes and are rate-limited', async () => {
    const token = await h.portal.invite('mail@acme.test', 'customer', 'acme');
    const c = h.client();
    await c.session();
    await c.post(`/api/invitations/${token}/accept`, { name: 'Mia Mail', password: PASSWORD });
    expect((await c.post('/api/enrol/email/start')).status).toBe(204);
    const again = await c.post<{ code: string; retryAfter: number }>('/api/enrol/email/start');
    expect(again.status).toBe(429);
    expect(again.body.retryAfter).toBeGreaterThan(0);
    const mail = await h.smtp.waitFor((m) => m.to.includes('mail@acme.test'));
    const mailCode = /(\d{6})/.exec(mail.text)?.[1] as string;
    h.clock.offsetMs += 10 * 60_000 + 1000;
    expect((await c.post('/api/enrol/email/confirm', { code: mailCode })).status).toBe(401);
  });
});

describe('re-authentication', () => {
  it('is needed before changing the e-mail address or removing a factor', async () => {
    const fresh = await h.signUp('re@acme.test', 'customer', 'acme', 'Rolf Re');
    const email = await fresh.client.post<{ code: string }>('/api/me/email', {
      email: 'new@acme.test',
    });
    expect(email.body.code).toBe('reauth_required');
    const me = await fresh.client.get<{ factors: { id: string }[] }>('/api/me');
    const factor = me.body.factors[0]?.id as string;
    expect((await fresh.client.call('DELETE', `/api/me/factors/${factor}`)).status).toBe(403);
    await reauth(fresh);
    // The only factor cannot be removed even then.
    expect((await fresh.client.call('DELETE', `/api/me/factors/${factor}`)).status).toBe(409);
    expect((await fresh.client.post('/api/me/email', { email: 'new@acme.test' })).status).toBe(204);
    // A wrong password in the re-auth is refused and counted.
    const bad = await fresh.client.post('/api/auth/reauth', {
      password: 'not the password at all',
      method: 'totp',
      code: code(h, fresh.secret, 1),
    });
    expect(bad.status).toBe(401);
  });
});

describe('invitations and passwords', () => {
  it('an invitation works once and not after 7 days', async () => {
    const token = await h.portal.invite('once@acme.test', 'customer', 'acme');
    const c = h.client();
    await c.session();
    expect((await c.get(`/api/invitations/${token}`)).status).toBe(200);
    expect(
      (await c.post(`/api/invitations/${token}/accept`, { name: 'O', password: PASSWORD })).status,
    ).toBe(200);
    const d = h.client();
    await d.session();
    expect(
      (await d.post(`/api/invitations/${token}/accept`, { name: 'O', password: PASSWORD })).status,
    ).toBe(404);
    const late = await h.portal.invite('late@acme.test', 'customer', 'acme');
    h.clock.offsetMs += 7 * 86_400_000 + 1000;
    expect((await d.get(`/api/invitations/${late}`)).status).toBe(404);
    h.clock.offsetMs -= 7 * 86_400_000 + 1000;
  });

  it('short, common or identity-based passwords are refused; long passphrases welcome', async () => {
    const token = await h.portal.invite('pw@acme.test', 'customer', 'acme');
    const c = h.client();
    await c.session();
    const tries: [string, string][] = [
      ['kurz', 'too_short'],
      ['password1234', 'common'],
      ['Petra Passwortmann 2026', 'contains_identity'],
    ];
    for (const [password, reason] of tries) {
      const res = await c.post<{ code: string; detail: string }>(
        `/api/invitations/${token}/accept`,
        {
          name: 'Petra Passwortmann',
          password,
        },
      );
      expect({ password, code: res.body.code, detail: res.body.detail }).toEqual({
        password,
        code: 'weak_password',
        detail: reason,
      });
    }
    const long = 'Mein Hund frisst gern Brokkoli am Dienstag, aber nur mit Senf und Musik von 1987';
    const ok = await c.post(`/api/invitations/${token}/accept`, {
      name: 'Petra Passwortmann',
      password: long,
    });
    expect(ok.status).toBe(200);
  });

  it('bodies are strict: an unknown field is a 400 problem naming it', async () => {
    const c = h.client();
    await c.session();
    const res = await c.post<{ code: string; fields: { path: string }[] }>('/api/auth/login', {
      email: 'user@acme.test',
      password: PASSWORD,
      role: 'administrator',
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('bad_request');
    const big = await c.call(
      'POST',
      '/api/auth/login',
      JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(70_000) }),
    );
    expect(big.status).toBe(413);
  });
});

describe('audit viewer', () => {
  it('filters by actor, action and outcome, and exports CSV without formula injection', async () => {
    // A failed login whose e-mail starts with '=' lands in the operator tenant's log.
    const c = h.client();
    await c.session();
    await c.post('/api/auth/login', { email: 'user@acme.test', password: 'wrong password here' });
    const failures = await admin.client.get<{ events: { action: string; outcome: string }[] }>(
      '/api/audit?tenantId=acme&action=auth.login&outcome=failure',
    );
    expect(failures.status).toBe(200);
    expect(failures.body.events.length).toBeGreaterThan(0);
    expect(
      failures.body.events.every((e) => e.action === 'auth.login' && e.outcome === 'failure'),
    ).toBe(true);
    const byActor = await admin.client.get<{ events: { actor: { id: string } }[] }>(
      `/api/audit?tenantId=acme&actor=${user.userId}`,
    );
    expect(byActor.body.events.every((e) => e.actor.id === user.userId)).toBe(true);
    expect(byActor.body.events.length).toBeGreaterThan(3);
    const csv = await admin.client.get('/api/audit.csv?tenantId=acme&action=auth.*');
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^seq,time,tenant,action,outcome/);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.slice(1).every((l) => /^"\d+","20/.test(l))).toBe(true);
    // A customer has no audit permission at all.
    expect((await user.client.get('/api/audit')).status).toBe(403);
  });

  it('the audit chain of everything above verifies', async () => {
    await h.portal.audit.log.checkpoint();
    const result = await h.portal.audit.store.verify({ live: true });
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.events).toBeGreaterThan(30);
    // Tampering with one stored event is found.
    await h.portal.db.query(
      "UPDATE portal_audit SET line = replace(line, 'auth.login', 'auth.logon') WHERE seq = (SELECT min(seq) FROM portal_audit WHERE action = 'auth.login')",
    );
    const tampered = await h.portal.audit.store.verify({ live: true });
    expect(tampered.ok).toBe(false);
  });
});
