/**
 * The audit viewer's scope and filters (issue 19): "all tenants" means every tenant the viewer
 * may see (all of them for the Fluxel administrator, only their own for a customer's key user —
 * tenant isolation), the actor filter finds users by e-mail or name, the action filter takes a
 * prefix with LIKE wildcards as literal characters, the page carries a count, the CSV export
 * applies the same filters, and an administrator verifies the chain. On PGlite and, the query
 * being hand-written SQL, on the machine's PostgreSQL too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditVerifyResult, AuditViewPage } from '../src/features/audit/contract.ts';
import type { PortalOptions } from '../src/server/app.ts';
import { type PortalHarness, type SignedUp, startPortalHarness } from './helpers.ts';
import { dropSchema, POSTGRES_URL, postgresUp, uniqueSchema } from './postgres-schema.ts';

const get = (s: SignedUp, query: string) => s.client.get<AuditViewPage>(`/api/audit${query}`);
const tenantsOf = (page: AuditViewPage) => new Set(page.events.map((e) => e.tenant));

function auditViewerSuite(
  backend: string,
  options: Partial<PortalOptions>,
  cleanup?: () => Promise<void>,
) {
  // One describe per backend, so its harness lives only while its tests run.
  describe(`audit viewer on ${backend}`, () => {
    let h: PortalHarness;
    let admin: SignedUp;
    let acmeKey: SignedUp;
    let globexKey: SignedUp;
    let globexLicense = '';

    beforeAll(async () => {
      h = await startPortalHarness(options);
      await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
      await h.portal.createTenant('globex', 'Globex AG', 'customer');
      admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
      acmeKey = await h.signUp('karla@acme.test', 'key-user', 'acme', 'Karla Key');
      globexKey = await h.signUp('gustav@globex.test', 'key-user', 'globex', 'Gustav Globus');
      // Events in Globex by the administrator (license.created, license.locked) and in Acme by its
      // key user (user.invited).
      const created = await admin.client.post<{ license: { id: string } }>('/api/licenses', {
        tenantId: 'globex',
        product: 'wawi-sync',
        entitlements: ['orders'],
      });
      if (created.status !== 200) throw new Error(created.text);
      globexLicense = created.body.license.id;
      const locked = await admin.client.post(`/api/licenses/${globexLicense}/lock`, {
        reason: 'Zahlung offen',
      });
      if (locked.status !== 200) throw new Error(locked.text);
      const invited = await acmeKey.client.post('/api/invitations', {
        email: 'neu@acme.test',
        role: 'customer',
      });
      if (invited.status !== 200) throw new Error(invited.text);
      await h.portal.audit.log.flush?.();
    });
    afterAll(async () => {
      await h?.close();
      await cleanup?.();
    });

    describe('"all tenants"', () => {
      it("the operator's all-tenants query shows events of customer tenants", async () => {
        const res = await get(admin, '?limit=500');
        expect(res.status).toBe(200);
        const tenants = tenantsOf(res.body);
        expect(tenants).toContain('globex');
        expect(tenants).toContain('acme');
        expect(tenants).toContain('fluxel-operator');
        expect(
          res.body.events.some((e) => e.action === 'license.locked' && e.tenant === 'globex'),
        ).toBe(true);
        // Rows name the acting user (the administrator sees every user).
        const lock = res.body.events.find((e) => e.action === 'license.locked');
        expect(lock?.actor).toMatchObject({ name: 'Ada Admin', email: 'admin@fluxel.test' });
      });

      it("a key user's all-tenants query stays inside their own tenant", async () => {
        const res = await get(acmeKey, '?limit=500');
        expect(res.status).toBe(200);
        expect(res.body.events.length).toBeGreaterThan(0);
        expect([...tenantsOf(res.body)]).toEqual(['acme']);
        expect(res.body.events.some((e) => e.action === 'user.invited')).toBe(true);
        expect(res.text).not.toContain('globex');
        expect(res.text).not.toContain(globexLicense);
        // Globex's key user sees Globex's events, none of Acme's.
        const other = await get(globexKey, '?limit=500');
        expect([...tenantsOf(other.body)]).toEqual(['globex']);
        expect(other.body.events.some((e) => e.action === 'license.locked')).toBe(true);
        // The administrator acted in Globex, but Globex's key user does not learn the
        // administrator's name or e-mail: only users of tenants the viewer sees are named.
        const lock = other.body.events.find((e) => e.action === 'license.locked');
        expect(lock?.actor.name).toBeUndefined();
        expect(other.text).not.toContain('admin@fluxel.test');
        // Naming another tenant is a 404, as everywhere; so is the CSV.
        expect((await get(acmeKey, '?tenantId=globex')).status).toBe(404);
        expect((await acmeKey.client.get('/api/audit.csv?tenantId=globex')).status).toBe(404);
        // (Those attempts are themselves audited in Acme, naming "globex" as the denied target.)
        const csv = await acmeKey.client.get('/api/audit.csv');
        expect(csv.status).toBe(200);
        const rows = csv.text.trim().split('\r\n').slice(1);
        expect(rows.length).toBeGreaterThan(0);
        expect(new Set(rows.map((l) => l.split(',')[2]))).toEqual(new Set(['"acme"']));
        expect(csv.text).not.toContain(globexLicense);
      });

      it("a key user's actor filter does not reach users of other tenants", async () => {
        const byOther = await get(acmeKey, '?actor=gustav%40globex.test');
        expect(byOther.body.events).toEqual([]);
        const byAdmin = await get(globexKey, '?actor=admin%40fluxel.test');
        expect(byAdmin.body.events).toEqual([]);
        // By id the administrator's events in Globex stay findable (the id is on the row anyway).
        const byId = await get(globexKey, `?actor=${admin.userId}&action=license`);
        expect(byId.body.events.map((e) => e.action)).toContain('license.locked');
      });
    });

    describe('filters', () => {
      it('the actor filter matches an e-mail or a name, case-insensitively, as well as the id', async () => {
        const byEmail = await get(admin, '?actor=ADMIN%40Fluxel.test&action=license');
        expect(byEmail.status).toBe(200);
        expect(byEmail.body.events.map((e) => e.action).sort()).toEqual([
          'license.created',
          'license.locked',
        ]);
        expect(byEmail.body.events.every((e) => e.actor.id === admin.userId)).toBe(true);
        const byName = await get(admin, '?actor=karla%20key');
        expect(byName.body.events.length).toBeGreaterThan(0);
        expect(byName.body.events.every((e) => e.actor.id === acmeKey.userId)).toBe(true);
        const byId = await get(admin, `?actor=${acmeKey.userId}`);
        expect(byId.body.events.map((e) => e.seq)).toEqual(byName.body.events.map((e) => e.seq));
        // A wildcard is a character, not "anyone".
        expect((await get(admin, '?actor=%25')).body.events).toEqual([]);
        expect((await get(admin, '?actor=_')).body.events).toEqual([]);
      });

      it('the action filter takes a prefix; % and _ are literal', async () => {
        const license = await get(admin, '?action=license');
        const actions = new Set(license.body.events.map((e) => e.action));
        expect(actions).toEqual(new Set(['license.created', 'license.locked']));
        const star = await get(admin, '?action=license.*');
        expect(star.body.events.map((e) => e.seq)).toEqual(license.body.events.map((e) => e.seq));
        const exact = await get(admin, '?action=license.locked');
        expect(exact.body.events.map((e) => e.action)).toEqual(['license.locked']);
        expect((await get(admin, '?action=licens_')).body.events).toEqual([]);
        expect((await get(admin, '?action=%25')).body.events).toEqual([]);
        expect((await get(admin, '?action=%25locked')).body.events).toEqual([]);
      });

      it('the page carries the count of all matching events, not just the page', async () => {
        const all = await get(admin, '?action=auth&limit=500');
        expect(all.body.total).toBe(all.body.events.length);
        expect(all.body.totalCapped).toBe(false);
        expect(all.body.total).toBeGreaterThan(3);
        const first = await get(admin, '?action=auth&limit=2');
        expect(first.body.events).toHaveLength(2);
        expect(first.body.total).toBe(all.body.total);
        expect(first.body.nextBefore).toBeDefined();
        const none = await get(admin, '?action=nothing.like.this');
        expect(none.body).toMatchObject({ events: [], total: 0 });
      });

      it('the CSV export applies the same filters and scope as the page', async () => {
        const query = '?actor=admin%40fluxel.test&action=license';
        const json = await get(admin, query);
        expect(json.body.events.length).toBe(2);
        const csv = await admin.client.get(`/api/audit.csv${query}`);
        expect(csv.status).toBe(200);
        const lines = csv.text.trim().split('\r\n');
        expect(lines[0]).toMatch(/^seq,time,tenant,action,outcome,.*,actor_name,actor_email$/);
        expect(lines.slice(1).map((l) => Number(/^"(\d+)"/.exec(l)?.[1]))).toEqual(
          json.body.events.map((e) => e.seq),
        );
        expect(lines[1]).toContain('"globex"');
        expect(lines[1]).toContain('"admin@fluxel.test"');
        // All tenants in the CSV too, for the operator.
        const everything = await admin.client.get('/api/audit.csv');
        expect(everything.text).toContain('"globex"');
        expect(everything.text).toContain('"acme"');
      });
    });

    describe('verify chain', () => {
      it('only an administrator verifies the whole chain; it is intact, and audited', async () => {
        expect((await acmeKey.client.post('/api/audit/verify')).status).toBe(403);
        const res = await admin.client.post<AuditVerifyResult>('/api/audit/verify');
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ ok: true, findings: [], findingsTotal: 0 });
        expect(res.body.events).toBeGreaterThan(10);
        expect(res.body.keyId).toBe(h.portal.audit.log.keyId);
        const audited = await get(admin, '?action=audit.verified');
        expect(audited.body.events[0]).toMatchObject({
          outcome: 'success',
          tenant: 'fluxel-operator',
          details: { events: res.body.events, findings: 0 },
        });
      });

      it('a changed stored event is found, with its number (runs last: it breaks the chain)', async () => {
        const { rows } = await h.portal.db.query(
          "SELECT seq FROM portal_audit WHERE action = 'license.locked' AND tenant = 'globex'",
        );
        const seq = Number(rows[0]?.seq);
        await h.portal.db.query(
          "UPDATE portal_audit SET line = replace(line, 'Zahlung offen', 'Zahlung erfolgt') WHERE seq = $1",
          [seq],
        );
        const res = await admin.client.post<AuditVerifyResult>('/api/audit/verify');
        expect(res.body.ok).toBe(false);
        expect(res.body.findingsTotal).toBeGreaterThan(0);
        expect(res.body.findings.map((f) => f.seq)).toContain(seq);
      });
    });
  });
}

auditViewerSuite('PGlite', {});
// Registered only where PostgreSQL answers (under CI its absence fails the run).
if (await postgresUp()) {
  const schema = uniqueSchema('portal_audit_viewer');
  auditViewerSuite(
    'PostgreSQL',
    { databaseUrl: POSTGRES_URL, databaseSchema: schema, inMemoryDatabase: false },
    () => dropSchema(schema),
  );
}
