/**
 * The status page against the real server: public JSON for monitors (no session, no internals),
 * the relay probe when the relay is gone, the served certificate's expiry, maintenance windows
 * and security notes (administrators only, CSRF-checked, audited) and the system view.
 */
import { createServer } from 'node:net';
import { makeTestPki } from '@fluxel/internal/pki';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ComponentStatus,
  MaintenanceWindow,
  PublicStatus,
  SecurityNote,
  SystemInfo,
} from '../src/features/status/contract.ts';
import {
  applyMaintenance,
  classifyCertificate,
  classifyMailbox,
  classifyRelay,
  overallState,
  relayThresholds,
} from '../src/features/status/probes.ts';
import { relayStatsClient } from '../src/features/status/relay-stats.ts';
import { relayGateway } from '../src/server/relay-gateway.ts';
import {
  ADMIN_TOKEN,
  PORTAL_TOKEN,
  type PortalHarness,
  type SignedUp,
  startPortalHarness,
  TestClient,
} from './helpers.ts';

const DAY = 86_400_000;
let h: PortalHarness;
let admin: SignedUp;
let keyUser: SignedUp;

const byId = (s: PublicStatus, id: string) =>
  s.components.find((c) => c.id === id) as ComponentStatus;

const windowBody = (startsAt: number, endsAt: number, components = ['relay']) => ({
  title: { de: 'Relay-Wartung', en: 'Relay maintenance' },
  body: { de: 'Kurze Unterbrechung.', en: 'Short interruption.' },
  startsAt: new Date(startsAt).toISOString(),
  endsAt: new Date(endsAt).toISOString(),
  components,
});

const now = () => Date.now() + h.clock.offsetMs;

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  keyUser = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kai Key');
});
afterAll(async () => h?.close());

describe('classifiers', () => {
  it('certificate: 14 days and more operational, fewer degraded, expired or not yet valid outage', () => {
    const t = Date.UTC(2026, 0, 1);
    expect(classifyCertificate(t - DAY, t + 90 * DAY, t)).toEqual({
      state: 'operational',
      daysLeft: 90,
    });
    expect(classifyCertificate(t - DAY, t + 14 * DAY, t).state).toBe('operational');
    expect(classifyCertificate(t - DAY, t + 13 * DAY, t)).toEqual({
      state: 'degraded',
      note: 'certificate_expiring',
      daysLeft: 13,
    });
    expect(classifyCertificate(t - 90 * DAY, t - 1, t).state).toBe('outage');
    expect(classifyCertificate(t + DAY, t + 90 * DAY, t).note).toBe('certificate_not_yet_valid');
  });

  it('relay, mailbox and the overall state', () => {
    expect(classifyRelay({ reachable: false, latencyMs: 3 }).state).toBe('outage');
    expect(classifyRelay({ reachable: true, latencyMs: 5000 }).state).toBe('degraded');
    expect(classifyRelay({ reachable: true, latencyMs: 12 }).state).toBe('operational');
    // The marks are settings (`statusThresholds`), checked when the portal is built.
    expect(classifyRelay({ reachable: true, latencyMs: 5000 }, 10_000).state).toBe('operational');
    expect(relayThresholds({ relaySlowMs: 3000, relayTimeoutMs: 8000 })).toEqual({
      relaySlowMs: 3000,
      relayTimeoutMs: 8000,
    });
    expect(relayThresholds()).toEqual({ relaySlowMs: 1000, relayTimeoutMs: 2500 });
    expect(() => relayThresholds({ relaySlowMs: 3000 })).toThrow(
      'statusThresholds.relayTimeoutMs (2500) must not be below relaySlowMs (3000)',
    );
    expect(() => relayThresholds({ relayTimeoutMs: 0 })).toThrow(
      'statusThresholds.relayTimeoutMs must be a whole number of milliseconds ≥ 1, got 0',
    );
    expect(classifyMailbox(undefined)).toEqual({ state: 'unknown', note: 'stats_unavailable' });
    expect(classifyMailbox({ mailboxBacklog: 50_000, oldestEventAgeSeconds: 1 }).state).toBe(
      'degraded',
    );
    expect(classifyMailbox({ mailboxBacklog: 3, oldestEventAgeSeconds: 60 }).state).toBe(
      'operational',
    );
    const s = (...states: ComponentStatus['state'][]) => states.map((state) => ({ state }));
    expect(overallState(s('operational', 'unknown'))).toBe('operational');
    expect(overallState(s('operational', 'maintenance'))).toBe('maintenance');
    expect(overallState(s('operational', 'degraded', 'maintenance'))).toBe('degraded');
    expect(overallState(s('degraded', 'outage'))).toBe('outage');
  });

  it('a running window puts its components in maintenance', () => {
    const windows: MaintenanceWindow[] = [
      {
        id: 'mw_a',
        title: { de: 'x', en: 'x' },
        body: { de: '', en: '' },
        startsAt: '',
        endsAt: '',
        components: ['relay'],
        active: true,
      },
    ];
    const out = applyMaintenance(
      [
        { id: 'relay', state: 'outage', note: 'relay_unreachable' },
        { id: 'portal', state: 'operational' },
      ],
      windows,
    );
    expect(out[0]).toEqual({
      id: 'relay',
      state: 'maintenance',
      note: 'in_maintenance',
      maintenanceId: 'mw_a',
    });
    expect(out[1]?.state).toBe('operational');
  });
});

describe('public status', () => {
  it('answers without a session: every component, cacheable, no internals', async () => {
    const res = await h.client().get<PublicStatus>('/api/status');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=5\b/);
    expect(res.body.components.map((c) => c.id)).toEqual(['portal', 'relay', 'acme', 'mailbox']);
    expect(byId(res.body, 'portal').state).toBe('operational');
    expect(byId(res.body, 'relay').state).toBe('operational');
    expect(byId(res.body, 'relay').latencyMs).toBeGreaterThanOrEqual(0);
    const acme = byId(res.body, 'acme');
    expect(acme.state).toBe('operational');
    expect(acme.daysLeft).toBeGreaterThan(14);
    // The relay's portal API reports its mailbox backlog (counts only).
    expect(byId(res.body, 'mailbox')).toMatchObject({
      id: 'mailbox',
      state: 'operational',
      backlog: 0,
    });
    expect(res.body.state).toBe('operational');
    // No host names, ports, versions, issuers or error texts.
    for (const secret of [
      'localhost',
      '127.0.0.1',
      String(h.relay.adminPort),
      process.version,
      'Dev CA',
      'Error',
      'pglite',
    ])
      expect(res.text).not.toContain(secret);
  });

  it('the system view is for administrators only and has the TLS details', async () => {
    expect((await h.client().get('/api/status/system')).status).toBe(401);
    expect((await keyUser.client.get('/api/status/system')).status).toBe(403);
    const res = await admin.client.get<SystemInfo>('/api/status/system');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.tls?.subject).toContain('CN=127.0.0.1');
    expect(res.body.tls?.subjectAltNames).toContain('DNS:localhost');
    expect(res.body.tls?.issuer).toContain('Fluxel Relay Dev CA');
    expect(res.body.tls?.daysLeft).toBeGreaterThan(14);
    expect(res.body.node).toBe(process.version);
    expect(res.body.database).toBe('pglite');
    expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });
});

describe('maintenance windows and security notes', () => {
  it('only administrators announce windows, with a CSRF token and from our origin', async () => {
    const body = windowBody(now() - 60_000, now() + 3_600_000);
    const denied = await keyUser.client.post('/api/status/maintenance', body);
    expect(denied.status).toBe(403);
    expect((denied.body as { code: string }).code).toBe('forbidden');
    const anonymous = h.client();
    await anonymous.session();
    expect((await anonymous.post('/api/status/maintenance', body)).status).toBe(401);
    const noToken = await admin.client.call('POST', '/api/status/maintenance', body, {
      csrf: false,
    });
    expect(noToken.status).toBe(403);
    expect((noToken.body as { code: string }).code).toBe('csrf');
    const foreign = await admin.client.call('POST', '/api/status/maintenance', body, {
      origin: 'https://evil.example',
    });
    expect((foreign.body as { code: string }).code).toBe('csrf');
    const invalid = await admin.client.post('/api/status/maintenance', {
      ...body,
      endsAt: body.startsAt,
    });
    expect(invalid.status).toBe(400);
    const public_ = await h.client().get<PublicStatus>('/api/status');
    expect(public_.body.maintenance).toEqual([]);
    const { events } = await h.portal.audit.query({
      tenant: 'acme',
      action: 'access.denied',
    });
    expect(events.some((e) => String(e.details?.reason).includes('status.manage'))).toBe(true);
  });

  it('a running window puts the component in maintenance; changes are audited', async () => {
    const created = await admin.client.post<{ maintenance: MaintenanceWindow }>(
      '/api/status/maintenance',
      windowBody(now() - 60_000, now() + 3_600_000),
    );
    expect(created.status).toBe(200);
    const id = created.body.maintenance.id;
    expect(created.body.maintenance.active).toBe(true);
    const upcoming = await admin.client.post<{ maintenance: MaintenanceWindow }>(
      '/api/status/maintenance',
      windowBody(now() + DAY, now() + DAY + 3_600_000, ['portal', 'acme']),
    );
    expect(upcoming.body.maintenance.active).toBe(false);

    const status = (await h.client().get<PublicStatus>('/api/status')).body;
    expect(byId(status, 'relay')).toMatchObject({ state: 'maintenance', maintenanceId: id });
    expect(byId(status, 'portal').state).toBe('operational');
    expect(status.state).toBe('maintenance');
    expect(status.maintenance.map((w) => w.id)).toEqual([id, upcoming.body.maintenance.id]);

    const moved = await admin.client.call<{ maintenance: MaintenanceWindow }>(
      'PUT',
      `/api/status/maintenance/${id}`,
      windowBody(now() + 2 * DAY, now() + 2 * DAY + 60_000),
    );
    expect(moved.status).toBe(200);
    expect(moved.body.maintenance.active).toBe(false);
    expect(byId((await h.client().get<PublicStatus>('/api/status')).body, 'relay').state).toBe(
      'operational',
    );
    expect((await keyUser.client.call('DELETE', `/api/status/maintenance/${id}`)).status).toBe(403);
    expect((await admin.client.call('DELETE', `/api/status/maintenance/${id}`)).status).toBe(204);
    expect((await admin.client.call('DELETE', `/api/status/maintenance/${id}`)).status).toBe(404);
    expect((await admin.client.call('DELETE', '/api/status/maintenance/../../users')).status).toBe(
      404,
    );

    const { events } = await h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'status.maintenance.*',
    });
    const mine = events.filter((e) => e.target?.id === id).map((e) => e.action);
    expect(mine.sort()).toEqual([
      'status.maintenance.created',
      'status.maintenance.deleted',
      'status.maintenance.updated',
    ]);
    expect(events.every((e) => e.actor.id === admin.userId)).toBe(true);
  });

  it('security notes: published by administrators, listed publicly, newest first', async () => {
    const note = {
      title: { de: 'OpenSSL aktualisiert', en: 'OpenSSL updated' },
      body: { de: 'CVE-2026-0001 behoben.', en: 'Fixed CVE-2026-0001.' },
      severity: 'high',
    };
    expect((await keyUser.client.post('/api/status/notes', note)).status).toBe(403);
    expect(
      (await admin.client.post('/api/status/notes', { ...note, severity: 'apocalyptic' })).status,
    ).toBe(400);
    const older = await admin.client.post<{ note: SecurityNote }>('/api/status/notes', {
      ...note,
      title: { de: 'Älter', en: 'Older' },
      publishedAt: new Date(now() - 3 * DAY).toISOString(),
    });
    const created = await admin.client.post<{ note: SecurityNote }>('/api/status/notes', note);
    expect(created.status).toBe(200);
    const list = (await h.client().get<PublicStatus>('/api/status')).body.securityNotes;
    expect(list.map((n) => n.id)).toEqual([created.body.note.id, older.body.note.id]);
    expect(list[0]).toMatchObject({ severity: 'high', title: note.title, body: note.body });

    const edited = await admin.client.call<{ note: SecurityNote }>(
      'PUT',
      `/api/status/notes/${created.body.note.id}`,
      { ...note, severity: 'medium' },
    );
    expect(edited.body.note.severity).toBe('medium');
    expect(
      (await admin.client.call('DELETE', `/api/status/notes/${older.body.note.id}`)).status,
    ).toBe(204);
    const { events } = await h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'status.note.*',
    });
    expect(events.map((e) => e.action).sort()).toEqual([
      'status.note.created',
      'status.note.created',
      'status.note.deleted',
      'status.note.updated',
    ]);
  });
});

describe('failing components', () => {
  let broken: PortalHarness;
  let client: TestClient;
  let agent: Agent;

  beforeAll(async () => {
    // A port nothing listens on: the relay is "down".
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const deadPort = typeof address === 'object' && address ? address.port : 9;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // The portal serves a certificate valid for two days (its own test CA).
    const pki = makeTestPki();
    const relay = relayGateway({
      adminAddress: `127.0.0.1:${deadPort}`,
      adminToken: ADMIN_TOKEN,
      relayUrl: `https://127.0.0.1:${deadPort}`,
      portalToken: PORTAL_TOKEN,
      ca: pki.caPem,
    });
    broken = await startPortalHarness({
      relay,
      tls: { dir: pki.dir, caPath: pki.caPath, ca: pki.caPem, cert: pki.certPem, key: pki.keyPem },
    });
    agent = new Agent({ connect: { ca: pki.caPem } });
    client = new TestClient(broken.portal.url, agent);
  });
  afterAll(async () => {
    await broken?.close();
    await agent?.close();
  });

  it('relay unreachable → relay outage; certificate expiring → acme degraded', async () => {
    const res = await client.get<PublicStatus>('/api/status');
    expect(res.status).toBe(200);
    expect(byId(res.body, 'relay')).toEqual({
      id: 'relay',
      state: 'outage',
      note: 'relay_unreachable',
    });
    expect(byId(res.body, 'acme')).toMatchObject({
      state: 'degraded',
      note: 'certificate_expiring',
      daysLeft: 1,
    });
    expect(byId(res.body, 'portal').state).toBe('operational');
    expect(res.body.state).toBe('outage');
    expect(res.text).not.toContain(String(broken.portal.port));
    expect(res.text).not.toMatch(/ECONNREFUSED|UNAVAILABLE|14 /);
  });

  it('an expired certificate is an outage', async () => {
    broken.clock.offsetMs += 3 * DAY;
    const res = await client.get<PublicStatus>('/api/status');
    expect(byId(res.body, 'acme')).toMatchObject({ state: 'outage', note: 'certificate_expired' });
    broken.clock.offsetMs -= 3 * DAY;
  });

  it('the relay stats client reads the backlog from the relay (counts, no content)', async () => {
    const stats = relayStatsClient({
      relayUrl: h.relay.url,
      portalToken: PORTAL_TOKEN,
      ca: h.portal.tls.ca,
    });
    try {
      await expect(stats.stats()).resolves.toEqual({ mailboxBacklog: 0, oldestEventAgeSeconds: 0 });
      const wrong = relayStatsClient({
        relayUrl: h.relay.url,
        portalToken: 'x'.repeat(40),
        ca: h.portal.tls.ca,
      });
      await expect(wrong.stats()).resolves.toBeUndefined();
      await wrong.close();
    } finally {
      await stats.close();
    }
  });
});
