/**
 * The alerts inbox (issue 19, last mile 5): alerts of the portal's rules and of the relay land
 * in one table; a repetition counts up instead of adding a row; acknowledge and resolve are
 * audited and decided on the row (the second of two at once gets 409); everyone sees only the
 * alerts of the tenants they reach.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRow } from '../src/features/alerts/contract.ts';
import { RELAY_ALERTS_PATH } from '../src/features/alerts/routes.ts';
import { upsertAlert } from '../src/features/alerts/store.ts';
import {
  type PortalHarness,
  RELAY_ALERT_SECRET,
  type SignedUp,
  startPortalHarness,
} from './helpers.ts';
import { closeAll, onSeparateConnections, race } from './race.ts';

let h: PortalHarness;
let admin: SignedUp;
let acmeKey: SignedUp;
let globexKey: SignedUp;

const inbox = async (who: SignedUp, state = 'active') => {
  const res = await who.client.get<{ alerts: AlertRow[] }>(`/api/alerts?state=${state}`);
  expect(res.status).toBe(200);
  return res.body.alerts;
};

/** Failed sign-ins for `email` until the account rule fires (throttled attempts count too). */
async function failSignIns(email: string, n = 5) {
  const c = h.client();
  await c.session();
  for (let i = 0; i < n; i++) await c.post('/api/auth/login', { email, password: 'falsch-falsch' });
  await h.portal.audit.alerts.settled();
}

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await h.portal.createTenant('globex', 'Globex AG', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  acmeKey = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kai Key');
  globexKey = await h.signUp('key@globex.test', 'key-user', 'globex', 'Gabi Globex');
  await h.signUp('erika@acme.test', 'customer', 'acme', 'Erika Mustermann');
  await h.signUp('max@globex.test', 'customer', 'globex', 'Max Muster');
});
afterAll(async () => h?.close());

describe('alerts inbox', () => {
  it('brute force on an account lands as one row in words, and a repetition counts it up', async () => {
    await failSignIns('erika@acme.test');
    let alerts = (await inbox(admin)).filter((a) => a.kind === 'brute-force-account');
    expect(alerts).toHaveLength(1);
    const [first] = alerts;
    expect(first).toMatchObject({
      source: 'portal',
      severity: 'high',
      state: 'open',
      tenantId: 'acme',
      tenantName: 'Acme GmbH',
      count: 1,
      subject: { kind: 'user', name: 'Erika Mustermann', email: 'erika@acme.test' },
    });
    expect(JSON.stringify(first)).not.toMatch(/usr_/);
    // After the rule's quiet window it fires again: the same row, counted up.
    h.clock.offsetMs += 6 * 60_000;
    await failSignIns('erika@acme.test');
    alerts = (await inbox(admin)).filter((a) => a.kind === 'brute-force-account');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.id).toBe(first?.id);
    expect(alerts[0]?.count).toBe(2);
    expect(Date.parse(alerts[0]?.lastSeen ?? '')).toBeGreaterThan(
      Date.parse(first?.lastSeen ?? ''),
    );
    await h.portal.db.query('DELETE FROM portal_throttle');
  });

  it('upserts count atomically, once per alert event, and a resolved alert is not reopened', async () => {
    const input = {
      source: 'portal' as const,
      kind: 'test-rule',
      severity: 'medium' as const,
      tenantId: 'globex',
      subjectType: 'ip',
      subjectId: 'ps_test',
      details: {},
      time: Date.now(),
    };
    const rows = await Promise.all(
      Array.from({ length: 8 }, (_, i) => upsertAlert(h.portal.db, { ...input, eventId: `e${i}` })),
    );
    const ids = new Set(rows.map((r) => r?.id));
    expect(ids.size).toBe(1);
    expect(Math.max(...rows.map((r) => r?.count ?? 0))).toBe(8);
    // The same event again (a retried hook, a replayed webhook) is not counted.
    expect(await upsertAlert(h.portal.db, { ...input, eventId: 'e7' })).toBeUndefined();
    const critical = await upsertAlert(h.portal.db, {
      ...input,
      severity: 'critical',
      eventId: 'e8',
    });
    expect(critical).toMatchObject({ count: 9, severity: 'critical' });
    const id = critical?.id as string;
    expect((await admin.client.post(`/api/alerts/${id}/resolve`)).status).toBe(200);
    const reopened = await upsertAlert(h.portal.db, { ...input, eventId: 'e9' });
    expect(reopened?.id).not.toBe(id);
    expect(reopened?.count).toBe(1);
  });

  it('acknowledge and resolve are audited with who and when; a repeated one is a conflict', async () => {
    const [alert] = (await inbox(admin)).filter((a) => a.kind === 'brute-force-account');
    const id = alert?.id as string;
    const ack = await admin.client.post<{ alert: AlertRow }>(`/api/alerts/${id}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(ack.body.alert).toMatchObject({
      state: 'acknowledged',
      acknowledged: { by: { name: 'Ada Admin', email: 'admin@fluxel.test' } },
    });
    expect((await admin.client.post(`/api/alerts/${id}/acknowledge`)).status).toBe(409);
    const resolved = await acmeKey.client.post<{ alert: AlertRow }>(`/api/alerts/${id}/resolve`);
    expect(resolved.status).toBe(200);
    expect(resolved.body.alert).toMatchObject({
      state: 'resolved',
      resolved: { by: { name: 'Kai Key' } },
    });
    expect((await admin.client.post(`/api/alerts/${id}/resolve`)).status).toBe(409);
    const audited = await h.portal.audit.query({ tenant: 'acme', action: 'alert.*' });
    const transitions = audited.events.filter((e) => e.target?.id === id).map((e) => e.action);
    expect(transitions.sort()).toEqual(['alert.acknowledged', 'alert.resolved']);
    expect((await inbox(admin)).some((a) => a.id === id)).toBe(false);
    expect((await inbox(admin, 'resolved')).some((a) => a.id === id)).toBe(true);
  });

  it('of two acknowledgements at once exactly one wins, the other gets 409', async () => {
    await failSignIns('max@globex.test');
    const [alert] = (await inbox(admin)).filter(
      (a) => a.kind === 'brute-force-account' && a.tenantId === 'globex',
    );
    const id = alert?.id as string;
    const clients = await onSeparateConnections(admin.client, 2, h.portal.tls.ca);
    const answers = await race(clients, (c) => c.post(`/api/alerts/${id}/acknowledge`));
    await closeAll(clients);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const audited = await h.portal.audit.query({ tenant: 'globex', action: 'alert.acknowledged' });
    expect(audited.events.filter((e) => e.target?.id === id)).toHaveLength(1);
    await h.portal.db.query('DELETE FROM portal_throttle');
  });

  it('a key user sees and changes only the alerts of their own tenant', async () => {
    const mine = await inbox(acmeKey, 'all');
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((a) => a.tenantId))).toEqual(new Set(['acme']));
    const theirs = (await inbox(globexKey, 'all')).map((a) => a.id);
    expect(theirs.length).toBeGreaterThan(0);
    for (const id of theirs) {
      const res = await acmeKey.client.post(`/api/alerts/${id}/resolve`);
      expect(res.status).toBe(404);
    }
    const customer = h.client();
    expect((await customer.get('/api/alerts')).status).toBe(401);
  });

  it('the relay’s second-activation alert arrives as a critical alert naming the license', async () => {
    const created = await admin.client.post<{ license: { id: string }; licenseKey: string }>(
      '/api/licenses',
      { tenantId: 'acme', product: 'wawi-sync' },
    );
    expect(created.status).toBe(200);
    await h.activate(created.body.licenseKey);
    await expect(h.activate(created.body.licenseKey)).rejects.toThrow();
    await h.relay.alerts?.settled();
    const alerts = (await inbox(acmeKey)).filter((a) => a.kind === 'second-activation');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      source: 'relay',
      severity: 'critical',
      tenantName: 'Acme GmbH',
      subject: {
        kind: 'license',
        product: 'wawi-sync',
        licenseRef: created.body.license.id.slice(-6),
      },
    });
    const summary = await acmeKey.client.get<{ open: number; critical: number }>(
      '/api/alerts/summary',
    );
    expect(summary.body.critical).toBeGreaterThanOrEqual(1);
    expect((await inbox(globexKey)).some((a) => a.kind === 'second-activation')).toBe(false);
  });

  it('the relay webhook refuses a wrong or old signature', async () => {
    const body = JSON.stringify({ id: 'x', action: 'alert.second-activation', tenant: 'acme' });
    const post = (ts: string, sig: string) =>
      h.client().call('POST', RELAY_ALERTS_PATH, body, {
        headers: { 'x-fluxel-timestamp': ts, 'x-fluxel-signature': sig },
        csrf: false,
        origin: null,
      });
    const now = String(Math.floor(Date.now() / 1000));
    const sign = (ts: string, secret = RELAY_ALERT_SECRET) =>
      `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    expect((await post(now, sign(now, 'another-secret-of-enough-length'))).status).toBe(401);
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect((await post(old, sign(old))).status).toBe(401);
  });
});
