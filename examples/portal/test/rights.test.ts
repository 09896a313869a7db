/**
 * "Request more rights" against the real server and SMTP sink: a user asks for a role with a
 * reason; a key user of the same tenant or an administrator decides. The security cases are
 * named: self-approval refused, key user escalation refused, cross-tenant approval refused
 * (404 like a missing request), bad input changes nothing. The new role reaches the requester's
 * open session at its next request.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RightsRequestRow } from '../src/features/rights/contract.ts';
import type { SessionInfo } from '../src/shared/api.ts';
import { type PortalHarness, type SignedUp, startPortalHarness } from './helpers.ts';

const run = randomBytes(4).toString('hex');
const ACME = `acme-${run}`;
const GLOBEX = `globex-${run}`;

let h: PortalHarness;
let admin: SignedUp;
let keyAcme: SignedUp;
let keyGlobex: SignedUp;
let carla: SignedUp;
let colin: SignedUp;

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant(ACME, 'Acme GmbH', 'customer');
  await h.portal.createTenant(GLOBEX, 'Globex AG', 'customer');
  admin = await h.signUp(`admin-${run}@fluxel.test`, 'administrator', 'fluxel-operator', 'Ada');
  keyAcme = await h.signUp(`key-${run}@acme.test`, 'key-user', ACME, 'Kim Key');
  keyGlobex = await h.signUp(`key-${run}@globex.test`, 'key-user', GLOBEX, 'Gil Globex');
  carla = await h.signUp(`carla-${run}@acme.test`, 'customer', ACME, 'Carla Kundin');
  colin = await h.signUp(`colin-${run}@acme.test`, 'customer', ACME, 'Colin Kunde');
});

afterAll(async () => {
  await h?.close();
});

const requestCount = async () =>
  Number(
    (await h.portal.db.query('SELECT count(*)::int AS n FROM portal_rights_requests')).rows[0]?.n,
  );
const roleOf = async (id: string) =>
  String(
    (await h.portal.db.query('SELECT role FROM portal_users WHERE id = $1', [id])).rows[0]?.role,
  );

let carlaRequest: string;

describe('requesting', () => {
  it('bad input changes nothing', async () => {
    const bad: [string, unknown, number][] = [
      ['unknown role', { role: 'root', reason: 'Ich brauche das' }, 400],
      ['no reason', { role: 'key-user' }, 400],
      ['empty reason', { role: 'key-user', reason: ' ' }, 400],
      ['unknown field', { role: 'key-user', reason: 'Brauche ich', userId: keyAcme.userId }, 400],
      ['role outside the tenant', { role: 'administrator', reason: 'Ich will alles' }, 400],
      ['partner role in a customer tenant', { role: 'partner', reason: 'Warum nicht' }, 400],
      ['own role', { role: 'customer', reason: 'Noch einmal' }, 409],
    ];
    for (const [what, body, status] of bad) {
      const res = await carla.client.post('/api/rights/requests', body);
      expect(res.status, what).toBe(status);
      expect(res.headers['content-type'], what).toMatch(/application\/problem\+json/);
    }
    expect(await requestCount()).toBe(0);
    expect(await roleOf(carla.userId)).toBe('customer');
  });

  it('a customer asks for key-user with a reason; the key users are told; one open request', async () => {
    const res = await carla.client.post<{ request: RightsRequestRow }>('/api/rights/requests', {
      role: 'key-user',
      reason: 'Ich betreue ab Januar die Zugangsdaten unserer Marktplätze.',
    });
    expect(res.status).toBe(201);
    expect(res.body.request).toMatchObject({
      status: 'pending',
      currentRole: 'customer',
      requestedRole: 'key-user',
      tenantId: ACME,
    });
    carlaRequest = res.body.request.id;
    await h.smtp.waitFor((m) => m.to.includes(`key-${run}@acme.test`) && /Carla/.test(m.subject));
    // The key user of another tenant is not told.
    expect(h.smtp.messages.some((m) => m.to.includes(`key-${run}@globex.test`))).toBe(false);
    const again = await carla.client.post('/api/rights/requests', {
      role: 'key-user',
      reason: 'Noch einmal gefragt',
    });
    expect(again.status).toBe(409);
    const mine = await carla.client.get<{ requests: RightsRequestRow[] }>(
      '/api/rights/requests/mine',
    );
    expect(mine.body.requests.map((r) => r.id)).toEqual([carlaRequest]);
    const audit = await h.portal.audit.query({ tenant: ACME, action: 'rights.requested' });
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]?.actor.id).toBe(carla.userId);
  });

  it('customers cannot see or decide requests', async () => {
    expect((await colin.client.get('/api/rights/requests')).status).toBe(403);
    expect((await colin.client.post(`/api/rights/requests/${carlaRequest}/approve`)).status).toBe(
      403,
    );
    expect(await roleOf(carla.userId)).toBe('customer');
  });
});

describe('deciding', () => {
  it('cross-tenant approval refused → 404 (like a missing request), audited', async () => {
    const list = await keyGlobex.client.get<{ requests: RightsRequestRow[] }>(
      '/api/rights/requests',
    );
    expect(list.body.requests).toEqual([]);
    const res = await keyGlobex.client.post(`/api/rights/requests/${carlaRequest}/approve`, {});
    expect(res.status).toBe(404);
    const missing = await keyGlobex.client.post('/api/rights/requests/rr_doesnotexist/approve', {});
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(res.body);
    const reject = await keyGlobex.client.post(`/api/rights/requests/${carlaRequest}/reject`, {
      reason: 'Nein',
    });
    expect(reject.status).toBe(404);
    expect(await roleOf(carla.userId)).toBe('customer');
    const denied = await h.portal.audit.query({
      tenant: GLOBEX,
      action: 'access.denied',
      outcome: 'denied',
    });
    expect(denied.events.some((e) => e.target?.id === carlaRequest)).toBe(true);
  });

  it('self-approval refused (403), audited', async () => {
    // A key user asks to become a customer (fits the tenant) and tries to approve it.
    const own = await keyAcme.client.post<{ request: RightsRequestRow }>('/api/rights/requests', {
      role: 'customer',
      reason: 'Ich gebe die Verwaltung ab.',
    });
    expect(own.status).toBe(201);
    const res = await keyAcme.client.post(
      `/api/rights/requests/${own.body.request.id}/approve`,
      {},
    );
    expect(res.status).toBe(403);
    expect(await roleOf(keyAcme.userId)).toBe('key-user');
    const listed = await keyAcme.client.get<{ requests: RightsRequestRow[] }>(
      '/api/rights/requests?status=pending',
    );
    expect(listed.body.requests.find((r) => r.id === own.body.request.id)?.canDecide).toBe(false);
    const denied = await h.portal.audit.query({ tenant: ACME, action: 'rights.approved' });
    expect(denied.events.map((e) => [e.outcome, e.details?.reason])).toEqual([
      ['denied', 'own request'],
    ]);
    const withdrawn = await keyAcme.client.post(
      `/api/rights/requests/${own.body.request.id}/withdraw`,
    );
    expect(withdrawn.status).toBe(200);
  });

  it('key user escalation refused: never administrator or partner (403), role unchanged', async () => {
    // A request for a role above the key user's own (e.g. left from before a tenant change).
    await h.portal.db.query(
      `INSERT INTO portal_rights_requests (id, tenant_id, user_id, from_role, requested_role, reason, status, created_at)
       VALUES ('rr_escalate', $1, $2, 'customer', 'administrator', 'Bitte Admin', 'pending', $3)`,
      [ACME, colin.userId, Date.now()],
    );
    const res = await keyAcme.client.post('/api/rights/requests/rr_escalate/approve', {});
    expect(res.status).toBe(403);
    expect(await roleOf(colin.userId)).toBe('customer');
    // An administrator may decide it, but not against the tenant's kind.
    const byAdmin = await admin.client.post('/api/rights/requests/rr_escalate/approve', {});
    expect(byAdmin.status).toBe(409);
    expect(await roleOf(colin.userId)).toBe('customer');
    await h.portal.db.query("DELETE FROM portal_rights_requests WHERE id = 'rr_escalate'");
  });

  it('a key user of the tenant approves; the open session has the new role at once; mailed, audited', async () => {
    const before = await carla.client.get('/api/users');
    expect(before.status).toBe(403);
    const res = await keyAcme.client.post<{ request: RightsRequestRow }>(
      `/api/rights/requests/${carlaRequest}/approve`,
      { note: 'Willkommen im Team' },
    );
    expect(res.status).toBe(200);
    expect(res.body.request.status).toBe('approved');
    expect(await roleOf(carla.userId)).toBe('key-user');
    // Same session, no new sign-in.
    const session = await carla.client.session();
    expect(session.stage).toBe('full');
    expect((session as SessionInfo).user?.role).toBe('key-user');
    expect(session.user?.permissions).toContain('users.read');
    expect((await carla.client.get('/api/users')).status).toBe(200);
    const mail = await h.smtp.waitFor(
      (m) => m.to.includes(`carla-${run}@acme.test`) && /genehmigt/.test(m.subject),
    );
    expect(mail.text).toContain('Willkommen im Team');
    const approved = await h.portal.audit.query({
      tenant: ACME,
      action: 'rights.approved',
      outcome: 'success',
    });
    expect(approved.events).toHaveLength(1);
    const changed = await h.portal.audit.query({ tenant: ACME, action: 'user.role.changed' });
    expect(changed.events[0]?.details).toMatchObject({ from: 'customer', to: 'key-user' });
    // Decided once.
    expect(
      (await admin.client.post(`/api/rights/requests/${carlaRequest}/approve`, {})).status,
    ).toBe(409);
  });

  it('an administrator rejects with a reason; the requester is told; nothing changes', async () => {
    const asked = await colin.client.post<{ request: RightsRequestRow }>('/api/rights/requests', {
      role: 'key-user',
      reason: 'Ich möchte Benutzer einladen.',
    });
    expect(asked.status).toBe(201);
    const id = asked.body.request.id;
    const noReason = await admin.client.post(`/api/rights/requests/${id}/reject`, {});
    expect(noReason.status).toBe(400);
    const all = await admin.client.get<{ requests: RightsRequestRow[] }>(
      '/api/rights/requests?status=pending',
    );
    expect(all.body.requests.find((r) => r.id === id)?.canDecide).toBe(true);
    const res = await admin.client.post<{ request: RightsRequestRow }>(
      `/api/rights/requests/${id}/reject`,
      { reason: 'Bitte über Kim Key einladen lassen.' },
    );
    expect(res.status).toBe(200);
    expect(res.body.request.status).toBe('rejected');
    expect(await roleOf(colin.userId)).toBe('customer');
    const mail = await h.smtp.waitFor(
      (m) => m.to.includes(`colin-${run}@acme.test`) && /abgelehnt/.test(m.subject),
    );
    expect(mail.text).toContain('Bitte über Kim Key einladen lassen.');
    const rejected = await h.portal.audit.query({ tenant: ACME, action: 'rights.rejected' });
    expect(rejected.events.map((e) => e.actor.id)).toEqual([admin.userId]);
  });
});
