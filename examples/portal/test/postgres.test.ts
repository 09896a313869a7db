/**
 * The portal on the machine's PostgreSQL (`DATABASE_URL`, default the local `test` database) in
 * a schema of its own: two portals starting at the same moment share one migration run (advisory
 * lock), and sign-in, roles and tenant scoping work the same as on PGlite.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openPortalDatabase } from '../src/server/db.ts';
import { acceptedTerms } from './helpers.ts';
import { dropSchema, setUpPostgresPortal, POSTGRES_URL as URL } from './postgres-schema.ts';

const pg = await setUpPostgresPortal('portal_test');
const SCHEMA = pg.schema;

describe.skipIf(!pg.up)('portal on PostgreSQL', () => {
  it('two portals migrating the same new schema at once both come up', async () => {
    const schema = `${SCHEMA}_twin`;
    try {
      const [a, b] = await Promise.all([
        openPortalDatabase({ url: URL, schema }),
        openPortalDatabase({ url: URL, schema }),
      ]);
      const { rows } = await a.query('SELECT version FROM portal_migrations ORDER BY version');
      const files = readdirSync(new globalThis.URL('../migrations/', import.meta.url))
        .filter((f) => f.endsWith('.sql'))
        .sort();
      expect(files.length).toBeGreaterThan(1);
      expect(rows.map((r) => r.version)).toEqual(files);
      await a.close();
      await b.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it('sign-up, sign-in with TOTP, tenant scoping and the audit log work on PostgreSQL', async () => {
    const h = pg.h();
    expect(h.portal.db.kind).toBe('postgres');
    await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
    await h.portal.createTenant('globex', 'Globex AG', 'customer');
    const admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator');
    const other = await h.signUp('key@globex.test', 'key-user', 'globex');
    const created = await admin.client.post<{ license: { id: string } }>('/api/licenses', {
      tenantId: 'acme',
      product: 'wawi-sync',
    });
    expect(created.status).toBe(200);
    expect((await other.client.get(`/api/licenses/${created.body.license.id}`)).status).toBe(404);
    const page = await h.portal.audit.query({ tenant: 'acme', action: 'license.created' });
    expect(page.events).toHaveLength(1);
    const tables = await h.portal.db.query(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [SCHEMA],
    );
    expect(Number(tables.rows[0]?.n)).toBeGreaterThan(8);
  });

  it('partner onboarding and a rights request work on PostgreSQL', async () => {
    const h = pg.h();
    const anon = h.client();
    await anon.session();
    const terms = await acceptedTerms(anon);
    const body = {
      companyName: 'PG Integration GmbH',
      companyAddress: 'Datenbankweg 5, Berlin',
      contactName: 'Paula Postgres',
      contactEmail: 'paula@pg-integration.test',
      ...terms,
    };
    expect((await anon.post('/api/onboarding/applications', body)).status).toBe(202);
    // The duplicate goes through the partial unique index (ON CONFLICT … WHERE).
    expect((await anon.post('/api/onboarding/applications', body)).status).toBe(202);
    const mail = await h.smtp.waitFor((m) => m.to.includes(body.contactEmail));
    const token = /verify\/([A-Za-z0-9_-]{43})/.exec(mail.text)?.[1];
    expect((await anon.post('/api/onboarding/verify', { token })).status).toBe(200);
    const admin = await h.signUp('admin2@fluxel.test', 'administrator', 'fluxel-operator');
    const list = await admin.client.get<{ applications: { id: string }[] }>(
      '/api/onboarding/applications?status=pending',
    );
    expect(list.body.applications).toHaveLength(1);
    const approved = await admin.client.post<{ tenantId: string }>(
      `/api/onboarding/applications/${list.body.applications[0]?.id}/approve`,
    );
    expect(approved.status).toBe(200);
    const acc = await h.portal.db.query(
      'SELECT version FROM portal_adv_acceptances WHERE tenant_id = $1',
      [approved.body.tenantId],
    );
    expect(acc.rows).toEqual([{ version: terms.advVersion }]);

    const customer = await h.signUp('kunde@acme.test', 'customer', 'acme');
    const keyUser = await h.signUp('key@acme.test', 'key-user', 'acme');
    const asked = await customer.client.post<{ request: { id: string } }>('/api/rights/requests', {
      role: 'key-user',
      reason: 'Zugangsdaten pflegen',
    });
    expect(asked.status).toBe(201);
    const pending = await keyUser.client.get<{ requests: { id: string }[] }>(
      '/api/rights/requests?status=pending',
    );
    expect(pending.body.requests.map((r) => r.id)).toEqual([asked.body.request.id]);
    expect(
      (await keyUser.client.post(`/api/rights/requests/${asked.body.request.id}/approve`, {}))
        .status,
    ).toBe(200);
    expect((await customer.client.session()).user?.role).toBe('key-user');
  });
});
