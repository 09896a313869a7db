/**
 * GDPR: consents, the data export (exactly the person's data, no secrets), erasure with a
 * grace period (disable, sessions end, cancel), and after it: no plaintext left in any portal
 * table, the person key shredded, the audit chain still verifying.
 */
import type { AuditEvent } from '@fluxel/audit';
import { CryptoError } from '@fluxel/crypto';
import { strFromU8, unzipSync } from 'fflate';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentList, ErasureStatus } from '../src/features/privacy/contract.ts';
import {
  PASSWORD,
  type PortalHarness,
  reauthenticate,
  type SignedUp,
  signInWithTotpApi,
  startPortalHarness,
  type TestClient,
} from './helpers.ts';

let h: PortalHarness;
let admin: SignedUp;
let alice: SignedUp;
let bob: SignedUp;
const DAY = 86_400_000;
const ALICE = { email: 'alice@acme.test', name: 'Alice Aschenbrenner', phone: '+4915112345678' };
const BOB = { email: 'bob@acme.test', name: 'Bob Brettschneider' };

const reauth = (s: SignedUp) => reauthenticate(h, s);

/** A binary download with the client's cookies (and CSRF header for POST). */
async function download(client: TestClient, method: 'GET' | 'POST', path: string) {
  const res = await request(`${client.base}${path}`, {
    method,
    dispatcher: client.dispatcher,
    headers: {
      cookie: client.cookieHeader(),
      ...(method === 'POST'
        ? { origin: client.origin, 'x-csrf-token': client.csrf, 'content-type': 'application/json' }
        : {}),
    },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  const bytes = new Uint8Array(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, bytes };
}

function unzip(bytes: Uint8Array): Record<string, string> {
  const files = unzipSync(bytes);
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strFromU8(v)]));
}

const signIn = (email: string, secret: string) => signInWithTotpApi(h, email, secret);

/** Every row of every portal table as text, to search for plaintexts. */
async function everyRow(): Promise<{ table: string; text: string }[]> {
  const { rows: tables } = await h.portal.db.query(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_name LIKE 'portal%' AND table_type = 'BASE TABLE'`,
  );
  const out: { table: string; text: string }[] = [];
  for (const t of tables) {
    const table = String(t.table_name);
    const { rows } = await h.portal.db.query(`SELECT (x.*)::text AS text FROM ${table} x`);
    for (const r of rows) out.push({ table, text: String(r.text) });
  }
  return out;
}

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  alice = await h.signUp(ALICE.email, 'customer', 'acme', ALICE.name);
  bob = await h.signUp(BOB.email, 'customer', 'acme', BOB.name);
  await h.portal.db.query('UPDATE portal_users SET phone = $2 WHERE id = $1', [
    alice.userId,
    ALICE.phone,
  ]);
});
afterAll(async () => h?.close());

describe('consents', () => {
  it('lists the purposes, records a grant and a withdrawal, refuses stale versions', async () => {
    const list = await alice.client.get<ConsentList>('/api/privacy/consents');
    expect(list.status).toBe(200);
    expect(list.body.consents.map((c) => c.purpose)).toEqual(['newsletter', 'product-analytics']);
    expect(list.body.consents.every((c) => !c.granted)).toBe(true);
    const version = list.body.consents[0]?.version as string;

    const granted = await alice.client.post<ConsentList>('/api/privacy/consents', {
      purpose: 'newsletter',
      version,
      granted: true,
    });
    expect(granted.status).toBe(200);
    expect(granted.body.consents.find((c) => c.purpose === 'newsletter')?.granted).toBe(true);
    await alice.client.post('/api/privacy/consents', {
      purpose: 'product-analytics',
      version,
      granted: true,
    });
    const withdrawn = await alice.client.post<ConsentList>('/api/privacy/consents', {
      purpose: 'product-analytics',
      version,
      granted: false,
    });
    expect(withdrawn.body.consents.find((c) => c.purpose === 'product-analytics')?.granted).toBe(
      false,
    );
    expect(withdrawn.body.history).toHaveLength(3);

    const stale = await alice.client.post('/api/privacy/consents', {
      purpose: 'newsletter',
      version: '1999-01',
      granted: true,
    });
    expect(stale.status).toBe(409);
    const unknown = await alice.client.post('/api/privacy/consents', {
      purpose: 'telemetry',
      version,
      granted: true,
    });
    expect(unknown.status).toBe(400);
    await bob.client.post('/api/privacy/consents', {
      purpose: 'newsletter',
      version,
      granted: true,
    });

    const events = await h.portal.audit.store.query({
      tenant: 'acme',
      action: 'privacy.consent.*',
    });
    expect(events.events.filter((e) => e.actor.id === alice.userId).map((e) => e.action)).toEqual([
      'privacy.consent.withdrawn',
      'privacy.consent.granted',
      'privacy.consent.granted',
    ]);
  });
});

describe('export', () => {
  it('needs a re-authentication', async () => {
    const res = await alice.client.get('/api/privacy/export');
    expect(res.status).toBe(403);
    expect((res.body as { code: string }).code).toBe('reauth_required');
  });

  it("contains exactly the person's data, without secrets", async () => {
    await reauth(alice);
    const res = await download(alice.client, 'GET', '/api/privacy/export');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(String(res.headers['content-disposition'])).toMatch(
      /^attachment; filename="fluxel-data-/,
    );
    const files = unzip(res.bytes);
    expect(Object.keys(files).sort()).toEqual(['data.json', 'summary.html', 'summary.txt']);
    const data = JSON.parse(files['data.json'] as string);
    expect(data.user).toMatchObject({
      id: alice.userId,
      email: ALICE.email,
      name: ALICE.name,
      phone: ALICE.phone,
      role: 'customer',
      tenant: { id: 'acme', name: 'Acme GmbH' },
    });
    expect(data.factors).toHaveLength(1);
    expect(data.factors[0]).toMatchObject({ type: 'totp', confirmed: true });
    expect(data.recoveryCodes).toEqual({ total: 10, unused: 10 });
    expect(data.sessions.length).toBeGreaterThan(0);
    expect(data.consents).toHaveLength(3);
    expect(data.consents[0].evidence).toHaveProperty('ip');
    expect(data.invitations.received).toHaveLength(1);
    expect(data.invitations.received[0].email).toBe(ALICE.email);
    const actions = data.auditEvents.map((e: { action: string }) => e.action);
    expect(actions).toContain('auth.signin');
    expect(actions).toContain('privacy.consent.granted');
    expect(
      data.auditEvents.every((e: { actor: { id: string } }) => e.actor.id === alice.userId),
    ).toBe(true);

    const all = Object.values(files).join('\n');
    // No one else's data …
    for (const other of [BOB.email, BOB.name, bob.userId, admin.userId, 'admin@fluxel.test'])
      expect(all).not.toContain(other);
    // … and no secrets: password hash, TOTP seed (plain or sealed), code hashes.
    const { rows } = await h.portal.db.query(
      "SELECT u.password_hash, f.secret FROM portal_users u JOIN portal_factors f ON f.user_id = u.id AND f.type = 'totp' WHERE u.id = $1",
      [alice.userId],
    );
    expect(all).not.toContain(String(rows[0]?.password_hash));
    expect(all).not.toContain('$argon2');
    expect(all).not.toContain(String(rows[0]?.secret));
    expect(all).not.toContain(alice.secret);
    expect(all).not.toContain('flx1.');
    const { rows: codes } = await h.portal.db.query(
      'SELECT code_hash FROM portal_recovery_codes WHERE user_id = $1',
      [alice.userId],
    );
    for (const c of codes) expect(all).not.toContain(String(c.code_hash));

    expect(files['summary.txt']).toContain('DATENAUSKUNFT');
    expect(files['summary.txt']).toContain('DATA EXPORT');
    expect(files['summary.txt']).toContain(ALICE.name);
    expect(files['summary.html']).toContain('<h1>Datenauskunft</h1>');

    const audited = await h.portal.audit.store.query({
      tenant: 'acme',
      action: 'privacy.exported',
    });
    expect(audited.events[0]?.actor.id).toBe(alice.userId);
  });

  it('includes the ADV acceptances the person declared (and only theirs)', async () => {
    await h.portal.createTenant('globex', 'Globex AG', 'customer');
    const karla = await h.signUp('karla@globex.test', 'key-user', 'globex', 'Karla Key');
    const adv = await karla.client.get<{ current?: { id: string; sha256: string } }>('/api/adv');
    const current = adv.body.current;
    expect(current).toBeDefined();
    const accepted = await karla.client.post('/api/adv/accept', {
      version: current?.id,
      textSha256: current?.sha256,
    });
    expect(accepted.status).toBeLessThan(300);
    await reauth(karla);
    const files = unzip((await download(karla.client, 'GET', '/api/privacy/export')).bytes);
    const data = JSON.parse(files['data.json'] as string);
    expect(data.advAcceptances).toHaveLength(1);
    expect(data.advAcceptances[0]).toMatchObject({
      tenantId: 'globex',
      version: current?.id,
      textSha256: current?.sha256,
      acceptedAs: 'Karla Key',
    });
    expect(data.advAcceptances[0].ip).toBeTruthy();
    expect(files['summary.txt']).toContain(`ADV ${current?.id}`);
    // Alice accepted nothing: her export lists no acceptance.
    await reauth(alice);
    const hers = unzip((await download(alice.client, 'GET', '/api/privacy/export')).bytes);
    expect(JSON.parse(hers['data.json'] as string).advAcceptances).toEqual([]);
  });

  it('administrators export for a user; others may not', async () => {
    const denied = await download(bob.client, 'POST', `/api/privacy/users/${alice.userId}/export`);
    expect(denied.status).toBe(403);
    const noReauth = await download(
      admin.client,
      'POST',
      `/api/privacy/users/${alice.userId}/export`,
    );
    expect(noReauth.status).toBe(403);
    await reauth(admin);
    const missing = await download(admin.client, 'POST', '/api/privacy/users/usr_nobody/export');
    expect(missing.status).toBe(404);
    const res = await download(admin.client, 'POST', `/api/privacy/users/${alice.userId}/export`);
    expect(res.status).toBe(200);
    const data = JSON.parse(unzip(res.bytes)['data.json'] as string);
    expect(data.user.id).toBe(alice.userId);
    expect(JSON.stringify(data)).not.toContain('admin@fluxel.test');
  });
});

describe('erasure', () => {
  let evidence = '';
  let sealedBefore = '';
  let transformed: AuditEvent | undefined;

  it('an administrator schedules one; the user cancels it by the mailed link', async () => {
    await reauth(admin);
    const res = await admin.client.post<ErasureStatus>(`/api/privacy/users/${bob.userId}/erasure`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('scheduled');
    expect((await bob.client.session()).stage).toBe('anonymous');
    const list = await admin.client.get<{ erasures: { userId: string }[] }>(
      '/api/privacy/erasures',
    );
    expect(list.body.erasures.map((e) => e.userId)).toEqual([bob.userId]);

    const mail = await h.smtp.waitFor(
      (m) => m.to.includes(BOB.email) && /Löschung/.test(m.subject),
    );
    const token = /\/privacy\/cancel\/([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] as string;
    expect(token).toBeTruthy();
    const anon = h.client();
    await anon.session();
    expect((await anon.post('/api/privacy/erasure/cancel', { token: 'x'.repeat(43) })).status).toBe(
      404,
    );
    expect((await anon.post('/api/privacy/erasure/cancel', { token })).status).toBe(204);
    expect((await anon.post('/api/privacy/erasure/cancel', { token })).status).toBe(404);
    bob = { ...bob, client: await signIn(BOB.email, bob.secret) };
  });

  it('the user requests it: disabled at once, every session ends, the date is told', async () => {
    h.clock.offsetMs += 6 * 60_000; // the export's re-authentication has expired
    const second = await signIn(ALICE.email, alice.secret);
    expect((await alice.client.post('/api/privacy/erasure')).status).toBe(403);
    await reauth(alice);
    const { rows } = await h.portal.db.query(
      'SELECT evidence FROM portal_consents WHERE user_id = $1 AND evidence IS NOT NULL LIMIT 1',
      [alice.userId],
    );
    evidence = String(rows[0]?.evidence);
    sealedBefore = await h.portal.app.privacy.sealPersonal(alice.userId, 'test', ALICE.phone);
    expect(await h.portal.app.privacy.openPersonal(alice.userId, 'test', sealedBefore)).toBe(
      ALICE.phone,
    );
    expect(
      JSON.parse(
        await h.portal.app.privacy.openPersonal(alice.userId, 'consent-evidence', evidence),
      ),
    ).toHaveProperty('ip');

    // The proposed audit privacy transform: IP pseudonymised, user agent under the person key.
    const transform = h.portal.app.privacy.auditPrivacy(new Uint8Array(32).fill(7));
    const event: AuditEvent = {
      id: 'EVT1',
      time: new Date().toISOString(),
      tenant: 'acme',
      actor: { type: 'user', id: alice.userId, ip: '203.0.113.9', userAgent: 'Firefox/140' },
      action: 'auth.signin',
      outcome: 'success',
    };
    transformed = await transform(event);
    expect(transformed.actor.ip).toMatch(/^ps_/);
    expect(JSON.stringify(transformed)).not.toContain('Firefox');
    expect((await h.portal.app.privacy.readableEvent(transformed)).actor.userAgent).toBe(
      'Firefox/140',
    );

    const before = Date.now() + h.clock.offsetMs;
    const res = await alice.client.post<ErasureStatus>('/api/privacy/erasure');
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('scheduled');
    const due = Date.parse(res.body.dueAt as string);
    expect(due - before).toBeGreaterThanOrEqual(30 * DAY - 1000);
    expect(due - before).toBeLessThan(30 * DAY + 60_000);

    expect((await alice.client.session()).stage).toBe('anonymous');
    expect((await second.session()).stage).toBe('anonymous');
    const { rows: sessions } = await h.portal.db.query(
      'SELECT 1 FROM portal_sessions WHERE user_id = $1',
      [alice.userId],
    );
    expect(sessions).toHaveLength(0);
    const again = h.client();
    await again.session();
    expect(
      (await again.post('/api/auth/login', { email: ALICE.email, password: PASSWORD })).status,
    ).toBe(401);
  });

  it('nothing happens before the grace period ends', async () => {
    const now = Date.now() + h.clock.offsetMs;
    expect(await h.portal.app.privacy.runErasures(now + 29 * DAY)).toEqual([]);
    expect((await everyRow()).some((r) => r.text.includes(ALICE.email))).toBe(true);
  });

  it("afterwards the person's data is gone, the key shredded, the audit log verifies", async () => {
    h.clock.offsetMs += 31 * DAY;
    expect(await h.portal.app.privacy.runErasures()).toEqual([alice.userId]);
    expect(await h.portal.app.privacy.runErasures()).toEqual([]);

    const rows = await everyRow();
    for (const plain of [ALICE.email, ALICE.name, ALICE.phone, 'Aschenbrenner'])
      expect(
        rows.filter((r) => r.text.includes(plain)).map((r) => r.table),
        plain,
      ).toEqual([]);
    for (const table of [
      'portal_factors',
      'portal_recovery_codes',
      'portal_sessions',
      'portal_codes',
      'portal_consents',
    ]) {
      const { rows: left } = await h.portal.db.query(`SELECT 1 FROM ${table} WHERE user_id = $1`, [
        alice.userId,
      ]);
      expect(left, table).toHaveLength(0);
    }

    // Crypto-shredding: values sealed under the person key before (backups!) no longer open.
    for (const [field, text] of [
      ['test', sealedBefore],
      ['consent-evidence', evidence],
    ] as const)
      await expect(h.portal.app.privacy.openPersonal(alice.userId, field, text)).rejects.toSatisfy(
        (e: unknown) => CryptoError.isInstance(e) && e.code === 'ERR_CRYPTO_KEY_DESTROYED',
      );
    expect(
      (await h.portal.app.privacy.readableEvent(transformed as AuditEvent)).actor.userAgent,
    ).toBe('[ERASED]');
    const { rows: keys } = await h.portal.db.query(
      'SELECT material, destroyed_at FROM portal_person_keys WHERE user_id = $1',
      [alice.userId],
    );
    expect(keys[0]?.material).toBeNull();
    expect(keys[0]?.destroyed_at).not.toBeNull();

    // Bob is untouched.
    const bobRows = rows.filter((r) => r.text.includes(BOB.email));
    expect(bobRows.map((r) => r.table)).toContain('portal_users');
    const { rows: bobNow } = await h.portal.db.query(
      `SELECT u.status, (SELECT count(*)::int FROM portal_factors f WHERE f.user_id = u.id) AS factors,
              (SELECT count(*)::int FROM portal_consents c WHERE c.user_id = u.id) AS consents
       FROM portal_users u WHERE u.id = $1`,
      [bob.userId],
    );
    expect(bobNow[0]).toEqual({ status: 'active', factors: 1, consents: 1 });

    // The audit log was not rewritten: the events name the pseudonymous id, the chain verifies.
    const events = await h.portal.audit.store.query({ tenant: 'acme', actorId: alice.userId });
    expect(events.events.length).toBeGreaterThan(3);
    const completed = await h.portal.audit.store.query({
      tenant: 'acme',
      action: 'privacy.erasure.completed',
    });
    expect(completed.events[0]?.target?.id).toBe(alice.userId);
    await h.portal.audit.log.checkpoint();
    const report = await h.portal.audit.store.verify({ live: true });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
