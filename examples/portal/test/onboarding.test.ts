/**
 * Partner onboarding against the real server and the real SMTP sink: registration (strict
 * input, rate limit, duplicates), e-mail verification, the administrator's review (approve and
 * reject, audited, mailed), what approval creates (partner tenant, ADV acceptance, sandbox API
 * client, sealed webhook secret, invitation with mandatory 2FA), secrets shown once, the
 * certification checklist (signed event into the sandbox — bad signature and old timestamp
 * refused —, signed event out to the partner's receiver through the SSRF guard) and production
 * scopes only after certification.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { newWebhookSecret, signWebhook, verifyWebhook } from '@fluxel-example/kit/webhooks';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnboardingTerms } from '../src/features/onboarding/contract.ts';
import type { SessionInfo } from '../src/shared/api.ts';
import {
  acceptedTerms,
  code,
  PASSWORD,
  type PortalHarness,
  type SignedUp,
  startPortalHarness,
  type TestClient,
} from './helpers.ts';
import { closeAll, onSeparateConnections, race } from './race.ts';

const run = randomBytes(4).toString('hex');
const CONTACT = `kontakt-${run}@integrator.test`;
const REGISTRATION_LIMIT = 20;

let h: PortalHarness;
let admin: SignedUp;
let dispatcher: Agent;

beforeAll(async () => {
  h = await startPortalHarness({
    partner: { targets: { allowLoopback: true } },
    onboarding: { registrationLimit: { limit: REGISTRATION_LIMIT, windowMs: 3_600_000 } },
  });
  admin = await h.signUp(`admin-${run}@fluxel.test`, 'administrator', 'fluxel-operator', 'Ada');
  dispatcher = new Agent({ connect: { ca: h.portal.tls.ca } });
});

afterAll(async () => {
  await dispatcher?.close();
  await h?.close();
});

const count = async (sql: string, params: unknown[] = []) =>
  Number((await h.portal.db.query(sql, params)).rows[0]?.n ?? -1);
const applications = () => count('SELECT count(*)::int AS n FROM portal_partner_applications');
const mailsTo = (address: string) => h.smtp.messages.filter((m) => m.to.includes(address));

async function anonymous(): Promise<TestClient> {
  const client = h.client();
  await client.session();
  return client;
}

async function validBody(client: TestClient, email: string, company = 'Integrator GmbH') {
  return {
    companyName: company,
    companyAddress: 'Hafenstraße 1, 20457 Hamburg',
    website: 'https://integrator.example',
    contactName: 'Ina Integra',
    contactEmail: email,
    ...(await acceptedTerms(client)),
  };
}

/** The link token of the newest mail to `to` whose text contains `path`. */
async function linkToken(to: string, path: string): Promise<string> {
  const mail = await h.smtp.waitFor((m) => m.to.includes(to) && m.text.includes(path));
  const match = new RegExp(`${path}([A-Za-z0-9_-]{43})`).exec(mail.text);
  if (!match) throw new Error(`no ${path} link in the mail`);
  return match[1] as string;
}

let applicationId: string;
let partner: SignedUp;
let tenantId: string;
let clientId: string;
let clientSecret: string;
let webhookSecret: string;

describe('registration', () => {
  it('the terms and the current ADV are offered with the SHA-256 of each text', async () => {
    const client = await anonymous();
    const res = await client.get<OnboardingTerms>('/api/onboarding/terms?locale=en');
    expect(res.status).toBe(200);
    expect(res.body.terms.text).toMatch(/Partner terms/);
    expect(res.body.adv.version).toMatch(/\S/);
    expect(res.body.adv.sha256).toBe(
      createHash('sha256').update(res.body.adv.text, 'utf8').digest('hex'),
    );
  });

  it('registration with bad input changes nothing (problem+json, no row, no mail)', async () => {
    const client = await anonymous();
    const good = await validBody(client, `bad-${run}@integrator.test`);
    const bad: [string, unknown, number][] = [
      ['ADV not accepted', { ...good, acceptAdv: false }, 400],
      ['terms missing', { ...good, acceptTerms: undefined }, 400],
      ['bad e-mail', { ...good, contactEmail: 'not-an-address' }, 400],
      ['unknown field', { ...good, role: 'administrator' }, 400],
      ['control characters', { ...good, companyName: 'Evil\u0007 GmbH' }, 400],
      ['http website', { ...good, website: 'http://integrator.example' }, 400],
      ['too long', { ...good, companyAddress: 'x'.repeat(501) }, 400],
      ['not an object', 'plain text', 400],
      ['stale ADV text', { ...good, advSha256: 'a'.repeat(64) }, 409],
      ['old terms version', { ...good, termsVersion: '1999-01' }, 409],
    ];
    for (const [what, body, status] of bad) {
      const res = await client.post('/api/onboarding/applications', body);
      expect(res.status, what).toBe(status);
      expect(res.headers['content-type'], what).toMatch(/application\/problem\+json/);
    }
    expect(await applications()).toBe(0);
    expect(mailsTo(good.contactEmail)).toHaveLength(0);
    // And without the anonymous session's CSRF token nothing is even read.
    const csrf = await client.call('POST', '/api/onboarding/applications', good, { csrf: false });
    expect(csrf.status).toBe(403);
    expect(await applications()).toBe(0);
  });

  it('a registration mails a verification link; the application waits unverified', async () => {
    const client = await anonymous();
    const res = await client.post('/api/onboarding/applications', await validBody(client, CONTACT));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'verification_sent' });
    const token = await linkToken(CONTACT, '/partner-signup/verify/');
    const { rows } = await h.portal.db.query(
      'SELECT id, status, verify_hash FROM portal_partner_applications WHERE contact_email = $1',
      [CONTACT],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('unverified');
    // Only the hash of the link's token is stored.
    expect(rows[0]?.verify_hash).toBe(createHash('sha256').update(token).digest('hex'));
    applicationId = String(rows[0]?.id);
    const submitted = await h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'partner.application.submitted',
    });
    expect(submitted.events.some((e) => e.target?.id === applicationId)).toBe(true);
  });

  it('duplicate registration creates nothing and tells the address owner by mail', async () => {
    const client = await anonymous();
    const before = await applications();
    const again = await client.post(
      '/api/onboarding/applications',
      await validBody(client, CONTACT.toUpperCase(), 'Integrator Zwei GmbH'),
    );
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ status: 'verification_sent' });
    expect(await applications()).toBe(before);
    await h.smtp.waitFor((m) => m.to.includes(CONTACT) && /bereits/.test(m.text));
    // An address that already has an account: the same.
    const existing = await client.post(
      '/api/onboarding/applications',
      await validBody(client, `admin-${run}@fluxel.test`),
    );
    expect(existing.status).toBe(202);
    expect(await applications()).toBe(before);
  });

  it('the link verifies once; a wrong or used token is refused', async () => {
    const client = await anonymous();
    const token = await linkToken(CONTACT, '/partner-signup/verify/');
    const wrong = await client.post('/api/onboarding/verify', { token: 'A'.repeat(43) });
    expect(wrong.status).toBe(404);
    expect(wrong.body).toMatchObject({ code: 'token_invalid' });
    const ok = await client.post('/api/onboarding/verify', { token });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ status: 'pending' });
    expect((await client.post('/api/onboarding/verify', { token })).status).toBe(404);
    // The administrators hear of it.
    await h.smtp.waitFor(
      (m) => m.to.includes(`admin-${run}@fluxel.test`) && /Integrator GmbH/.test(m.subject),
    );
  });
});

describe('review', () => {
  it('only administrators see and decide the queue', async () => {
    await h.portal.createTenant(`cust-${run}`, 'Kunde AG', 'customer');
    const keyUser = await h.signUp(`key-${run}@kunde.test`, 'key-user', `cust-${run}`, 'Kai');
    expect((await keyUser.client.get('/api/onboarding/applications')).status).toBe(403);
    expect(
      (await keyUser.client.post(`/api/onboarding/applications/${applicationId}/approve`)).status,
    ).toBe(403);
    const list = await admin.client.get<{ applications: { id: string; status: string }[] }>(
      '/api/onboarding/applications?status=pending',
    );
    expect(list.status).toBe(200);
    expect(list.body.applications.map((a) => [a.id, a.status])).toEqual([
      [applicationId, 'pending'],
    ]);
  });

  it('reject needs a reason; it is audited and mailed; a decided application stays decided', async () => {
    const email = `abgelehnt-${run}@integrator.test`;
    const client = await anonymous();
    const submitted = await client.post(
      '/api/onboarding/applications',
      await validBody(client, email, 'Zweifelhaft KG'),
    );
    expect(submitted.status).toBe(202);
    await client.post('/api/onboarding/verify', {
      token: await linkToken(email, '/partner-signup/verify/'),
    });
    const { rows } = await h.portal.db.query(
      'SELECT id FROM portal_partner_applications WHERE contact_email = $1',
      [email],
    );
    const id = String(rows[0]?.id);
    const noReason = await admin.client.post(`/api/onboarding/applications/${id}/reject`, {});
    expect(noReason.status).toBe(400);
    const rejected = await admin.client.post<{ application: { status: string } }>(
      `/api/onboarding/applications/${id}/reject`,
      { reason: 'Keine Integrationen mit JTL-Wawi nachgewiesen' },
    );
    expect(rejected.status).toBe(200);
    expect(rejected.body.application.status).toBe('rejected');
    const mail = await h.smtp.waitFor((m) => m.to.includes(email) && /abgelehnt/.test(m.text));
    expect(mail.text).toContain('Keine Integrationen mit JTL-Wawi nachgewiesen');
    expect((await admin.client.post(`/api/onboarding/applications/${id}/approve`)).status).toBe(
      409,
    );
    const audit = await h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'partner.application.rejected',
    });
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]?.actor.id).toBe(admin.userId);
    expect(audit.events[0]?.details).toMatchObject({
      reason: 'Keine Integrationen mit JTL-Wawi nachgewiesen',
    });
    expect(
      await count("SELECT count(*)::int AS n FROM portal_tenants WHERE name = 'Zweifelhaft KG'"),
    ).toBe(0);
  });

  it('approval creates the tenant, the ADV acceptance, the sandbox client, the secret and the invitation', async () => {
    const res = await admin.client.post<{ tenantId: string; clientId: string }>(
      `/api/onboarding/applications/${applicationId}/approve`,
    );
    expect(res.status).toBe(200);
    tenantId = res.body.tenantId;
    clientId = res.body.clientId;
    expect(tenantId).toMatch(/^ptn-integrator-gmbh-[0-9a-f]{8}$/);
    const tenant = await h.portal.db.query('SELECT name, kind FROM portal_tenants WHERE id = $1', [
      tenantId,
    ]);
    expect(tenant.rows[0]).toEqual({ name: 'Integrator GmbH', kind: 'partner' });
    // The applicant's ADV acceptance, filed for the tenant like any acceptance.
    const terms = (await (await anonymous()).get<OnboardingTerms>('/api/onboarding/terms')).body;
    const acc = await h.portal.db.query(
      'SELECT version, text_sha256, user_name, ip FROM portal_adv_acceptances WHERE tenant_id = $1',
      [tenantId],
    );
    expect(acc.rows).toEqual([
      {
        version: terms.adv.version,
        text_sha256: terms.adv.sha256,
        user_name: 'Ina Integra',
        ip: '127.0.0.1',
      },
    ]);
    const advAudit = await h.portal.audit.query({ tenant: tenantId, action: 'adv.accepted' });
    expect(advAudit.events).toHaveLength(1);
    expect(advAudit.events[0]?.details).toMatchObject({ textSha256: terms.adv.sha256 });
    // The sandbox client, no production scope.
    const client = await h.portal.db.query(
      'SELECT scopes, tenant_id FROM portal_partner_clients WHERE id = $1',
      [clientId],
    );
    expect(client.rows[0]).toEqual({ scopes: 'sandbox', tenant_id: tenantId });
    // The webhook secret is sealed, never stored in clear.
    const onboarding = await h.portal.db.query(
      'SELECT webhook_secret_sealed FROM portal_partner_onboarding WHERE tenant_id = $1',
      [tenantId],
    );
    expect(String(onboarding.rows[0]?.webhook_secret_sealed)).not.toMatch(/whsec_/);
    const approved = await h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'partner.application.approved',
    });
    expect(approved.events.map((e) => e.target?.id)).toEqual([applicationId]);
    const created = await h.portal.audit.query({
      tenant: tenantId,
      action: 'partner.client.created',
    });
    expect(created.events).toHaveLength(1);
    // Approving twice does not create a second tenant.
    expect(
      (await admin.client.post(`/api/onboarding/applications/${applicationId}/approve`)).status,
    ).toBe(409);
    expect(
      await count("SELECT count(*)::int AS n FROM portal_tenants WHERE name = 'Integrator GmbH'"),
    ).toBe(1);
  });

  it('the contact signs up by the mailed invitation, with mandatory 2FA', async () => {
    const token = await linkToken(CONTACT, '/invite/');
    const client = await anonymous();
    const accepted = await client.post<SessionInfo>(`/api/invitations/${token}/accept`, {
      name: 'Ina Integra',
      password: PASSWORD,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.stage).toBe('enrol');
    // Nothing before the second factor.
    const early = await client.get('/api/onboarding/me');
    expect(early.status).toBe(403);
    expect(early.body).toMatchObject({ code: 'enrolment_required' });
    const start = await client.post<{ secret: string }>('/api/enrol/totp/start');
    const done = await client.post<{ session: SessionInfo }>('/api/enrol/totp/confirm', {
      code: code(h, start.body.secret),
    });
    expect(done.status).toBe(200);
    expect(done.body.session.user?.role).toBe('partner');
    expect(done.body.session.user?.tenant.id).toBe(tenantId);
    partner = {
      client,
      secret: start.body.secret,
      recoveryCodes: [],
      userId: String(done.body.session.user?.id),
    };
  });
});

describe('credentials and certification', () => {
  it('the secrets are shown once, after the first sign-in; no clear secret is stored', async () => {
    const state = await partner.client.get<{ secretsRevealed: boolean; certified: boolean }>(
      '/api/onboarding/me',
    );
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ secretsRevealed: false, certified: false });
    const shown = await partner.client.post<{
      clientId: string;
      clientSecret: string;
      webhookSecret: string;
    }>('/api/onboarding/me/credentials');
    expect(shown.status).toBe(200);
    expect(shown.body.clientId).toBe(clientId);
    clientSecret = shown.body.clientSecret;
    webhookSecret = shown.body.webhookSecret;
    expect(clientSecret).toMatch(/^fpcs_/);
    expect(webhookSecret).toMatch(/^whsec_/);
    const again = await partner.client.post('/api/onboarding/me/credentials');
    expect(again.status).toBe(409);
    for (const table of [
      'portal_partner_onboarding',
      'portal_partner_clients',
      'portal_partner_applications',
    ]) {
      const { rows } = await h.portal.db.query(`SELECT * FROM ${table}`);
      const dump = JSON.stringify(rows);
      expect(dump, table).not.toContain(clientSecret);
      expect(dump, table).not.toContain(webhookSecret.slice(6));
    }
    // Other partners' tenants cannot see this checklist (not onboarded → 404).
    expect((await admin.client.get('/api/onboarding/me')).status).toBe(404);
  });

  it('only sandbox scopes before certification (partner 403, administrator 409)', async () => {
    const byPartner = await partner.client.post('/api/partner/clients', {
      name: 'Produktion',
      scopes: ['licenses:read'],
    });
    expect(byPartner.status).toBe(403);
    const byAdmin = await admin.client.post('/api/partner/clients', {
      tenantId,
      name: 'Produktion',
      scopes: ['licenses:read', 'sandbox'],
    });
    expect(byAdmin.status).toBe(409);
    const grant = await admin.client.post(`/api/onboarding/partners/${tenantId}/grant`, {
      scopes: ['licenses:read'],
    });
    expect(grant.status).toBe(409);
    const sandboxOnly = await partner.client.post('/api/partner/clients', {
      name: 'Zweite Sandbox',
      scopes: ['sandbox'],
    });
    expect(sandboxOnly.status).toBe(200);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM portal_partner_clients WHERE tenant_id = $1 AND scopes <> 'sandbox'",
        [tenantId],
      ),
    ).toBe(0);
  });

  async function accessToken(scope?: string): Promise<string> {
    const res = await request(`${h.portal.url}/oauth/token`, {
      method: 'POST',
      dispatcher,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      },
      body: `grant_type=client_credentials${scope ? `&scope=${scope}` : ''}`,
    });
    const body = (await res.body.json()) as { access_token: string };
    expect(res.statusCode).toBe(200);
    return body.access_token;
  }

  async function sandbox(
    token: string | undefined,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
    const res = await request(`${h.portal.url}/partner-api/v1/sandbox/events`, {
      method: 'POST',
      dispatcher,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body,
    });
    return {
      status: res.statusCode,
      type: String(res.headers['content-type']),
      body: (await res.body.json()) as Record<string, unknown>,
    };
  }

  const event = () =>
    JSON.stringify({
      type: 'certification.test',
      timestamp: new Date().toISOString(),
      data: { system: 'integrator-erp', attempt: 1 },
    });
  const signed = (secret: string, body: string, ageS = 0) => {
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const ts = Math.floor((Date.now() + h.clock.offsetMs) / 1000) - ageS;
    return {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(secret, id, ts, body),
    };
  };

  it('sandbox event with a bad signature or an old timestamp is refused with problem+json', async () => {
    const token = await accessToken();
    const body = event();
    const noToken = await sandbox(undefined, body, signed(webhookSecret, body));
    expect(noToken.status).toBe(401);
    expect(noToken.type).toMatch(/application\/problem\+json/);

    const forged = await sandbox(token, body, signed(newWebhookSecret(), body));
    expect(forged.status).toBe(401);
    expect(forged.type).toMatch(/application\/problem\+json/);
    expect(forged.body).toMatchObject({ code: 'invalid_signature' });

    const old = await sandbox(token, body, signed(webhookSecret, body, 600));
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ code: 'stale_timestamp' });

    // The body changed after signing.
    const tampered = await sandbox(
      token,
      body.replace('attempt":1', 'attempt":2'),
      signed(webhookSecret, body),
    );
    expect(tampered.body).toMatchObject({ code: 'invalid_signature' });

    const missing = await sandbox(token, body, {});
    expect(missing.status).toBe(400);

    const state = await partner.client.get<{
      steps: { id: string; state: string; detail?: string }[];
    }>('/api/onboarding/me');
    expect(state.body.steps.find((s) => s.id === 'inbound')).toMatchObject({
      state: 'failed',
    });
    const failures = await h.portal.audit.query({
      tenant: tenantId,
      action: 'partner.certification.step',
      outcome: 'failure',
    });
    expect(failures.events.length).toBeGreaterThanOrEqual(3);
  });

  it('a correctly signed sandbox event passes step (a); a bad event body is refused', async () => {
    const token = await accessToken('sandbox');
    const invalid = JSON.stringify({ type: 'license.exploded', timestamp: 'yesterday', data: {} });
    const refused = await sandbox(token, invalid, signed(webhookSecret, invalid));
    expect(refused.status).toBe(400);
    expect(refused.type).toMatch(/application\/problem\+json/);
    // The sandbox's refused fields carry stable reasons, like every portal problem.
    expect(refused.body).toMatchObject({
      code: 'bad_request',
      fields: expect.arrayContaining([
        expect.objectContaining({ path: 'type', reason: 'invalid_choice' }),
        expect.objectContaining({ path: 'timestamp', reason: 'invalid_time' }),
      ]),
    });
    const body = event();
    const ok = await sandbox(token, body, signed(webhookSecret, body));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ received: true, step: 'passed', certified: false });
    // A later bad attempt does not undo a passed step.
    await sandbox(token, body, signed(newWebhookSecret(), body));
    const state = await partner.client.get<{ steps: { id: string; state: string }[] }>(
      '/api/onboarding/me',
    );
    expect(state.body.steps.find((s) => s.id === 'inbound')?.state).toBe('passed');
  });

  it('step (b): internal webhook URLs are refused by the SSRF guard; a failing receiver fails', async () => {
    const internal = await partner.client.call('PUT', '/api/onboarding/me/webhook', {
      url: 'https://10.0.0.7/hook',
    });
    expect(internal.status).toBe(400);
    expect(internal.headers['content-type']).toMatch(/application\/problem\+json/);
    const early = await partner.client.post('/api/onboarding/me/checklist/outbound');
    expect(early.status).toBe(409);

    const failing = await receiver(500);
    try {
      const set = await partner.client.call('PUT', '/api/onboarding/me/webhook', {
        url: `http://127.0.0.1:${failing.port}/fluxel`,
      });
      expect(set.status).toBe(200);
      const sent = await partner.client.post<{
        steps: { id: string; state: string; detail?: string }[];
      }>('/api/onboarding/me/checklist/outbound');
      expect(sent.status).toBe(200);
      expect(sent.body.steps.find((s) => s.id === 'outbound')).toMatchObject({
        state: 'failed',
        detail: 'HTTP 500',
      });
      expect(failing.got).toHaveLength(1);
    } finally {
      await failing.close();
    }
  });

  it('step (b): the portal sends a signed test event; the receiver answers 2xx; certified', async () => {
    const ok = await receiver(204);
    try {
      await partner.client.call('PUT', '/api/onboarding/me/webhook', {
        url: `http://127.0.0.1:${ok.port}/fluxel`,
      });
      const sent = await partner.client.post<{
        certified: boolean;
        steps: { id: string; state: string }[];
      }>('/api/onboarding/me/checklist/outbound');
      expect(sent.status).toBe(200);
      expect(sent.body.steps.map((s) => [s.id, s.state])).toEqual([
        ['inbound', 'passed'],
        ['outbound', 'passed'],
      ]);
      expect(sent.body.certified).toBe(true);
      const got = ok.got[0];
      expect(got).toBeDefined();
      expect(
        verifyWebhook(
          webhookSecret,
          got?.headers ?? {},
          got?.body ?? '',
          Date.now() + h.clock.offsetMs,
        ),
      ).toEqual({ ok: true });
      expect(JSON.parse(got?.body ?? '{}')).toMatchObject({
        type: 'certification.test',
        tenant: tenantId,
      });
    } finally {
      await ok.close();
    }
    const certified = await h.portal.audit.query({ tenant: tenantId, action: 'partner.certified' });
    expect(certified.events).toHaveLength(1);
    await h.smtp.waitFor(
      (m) => m.to.includes(`admin-${run}@fluxel.test`) && /zertifiziert/.test(m.subject),
    );
  });

  it('after certification an administrator grants production scopes (the partner still cannot)', async () => {
    const byPartner = await partner.client.post('/api/partner/clients', {
      name: 'Produktion',
      scopes: ['licenses:read'],
    });
    expect(byPartner.status).toBe(403);
    const bad = await admin.client.post(`/api/onboarding/partners/${tenantId}/grant`, {
      scopes: ['root'],
    });
    expect(bad.status).toBe(400);
    const grant = await admin.client.post<{ partner: { scopes: string[] } }>(
      `/api/onboarding/partners/${tenantId}/grant`,
      { scopes: ['licenses:read', 'events:read'] },
    );
    expect(grant.status).toBe(200);
    expect([...grant.body.partner.scopes].sort()).toEqual([
      'events:read',
      'licenses:read',
      'sandbox',
    ]);
    const token = await accessToken('licenses:read');
    const licenses = await request(`${h.portal.url}/partner-api/v1/licenses`, {
      dispatcher,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(licenses.statusCode).toBe(200);
    await licenses.body.dump();
    const granted = await h.portal.audit.query({
      tenant: tenantId,
      action: 'partner.scopes.granted',
    });
    expect(granted.events.map((e) => e.outcome).sort()).toEqual(['denied', 'success']);
    const partners = await admin.client.get<{
      partners: { tenantId: string; certified: boolean }[];
    }>('/api/onboarding/partners');
    expect(partners.body.partners).toEqual([
      expect.objectContaining({ tenantId, certified: true }),
    ]);
  });
});

describe('approval is one step', () => {
  /** A verified application of `company`, waiting for review; its id. */
  async function pendingApplication(email: string, company: string): Promise<string> {
    const client = await anonymous();
    const submitted = await client.post(
      '/api/onboarding/applications',
      await validBody(client, email, company),
    );
    expect(submitted.status).toBe(202);
    await client.post('/api/onboarding/verify', {
      token: await linkToken(email, '/partner-signup/verify/'),
    });
    const { rows } = await h.portal.db.query(
      "SELECT id FROM portal_partner_applications WHERE contact_email = $1 AND status = 'pending'",
      [email],
    );
    return String(rows[0]?.id);
  }

  const setUpFor = async (company: string) => ({
    tenants: await count('SELECT count(*)::int AS n FROM portal_tenants WHERE name = $1', [
      company,
    ]),
    clients: await count('SELECT count(*)::int AS n FROM portal_partner_clients WHERE name = $1', [
      `${company} (Sandbox)`,
    ]),
    checklists: await count(
      `SELECT count(*)::int AS n FROM portal_partner_onboarding o
       JOIN portal_tenants t ON t.id = o.tenant_id WHERE t.name = $1`,
      [company],
    ),
    invitations: await count(
      `SELECT count(*)::int AS n FROM portal_invitations i
       JOIN portal_tenants t ON t.id = i.tenant_id WHERE t.name = $1`,
      [company],
    ),
  });

  it('two approvals at once: one succeeds, the other gets 409; one tenant, one invitation', async () => {
    const company = `Gleichzeitig ${run} GmbH`;
    const id = await pendingApplication(`gleichzeitig-${run}@integrator.test`, company);
    const clients = await onSeparateConnections(admin.client, 2, h.portal.tls.ca);
    try {
      const answers = await race(clients, (c) =>
        c.post(`/api/onboarding/applications/${id}/approve`),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      expect(answers.find((a) => a.status === 409)?.body).toMatchObject({ code: 'conflict' });
    } finally {
      await closeAll(clients);
    }
    expect(await setUpFor(company)).toEqual({
      tenants: 1,
      clients: 1,
      checklists: 1,
      invitations: 1,
    });
    const approved = await h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'partner.application.approved',
    });
    expect(approved.events.filter((e) => e.target?.id === id)).toHaveLength(1);
  });

  it('an approval that fails half-way leaves nothing behind; the application stays pending', async () => {
    const company = `Halbfertig ${run} GmbH`;
    const email = `halbfertig-${run}@integrator.test`;
    const id = await pendingApplication(email, company);
    // The invitation is the last thing approval writes: make it fail for this address only.
    await h.portal.db.query(`CREATE FUNCTION refuse_invitation_${run}() RETURNS trigger AS $$
      BEGIN
        IF NEW.email = '${email}' THEN RAISE EXCEPTION 'refused for the test'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await h.portal.db.query(`CREATE TRIGGER refuse_invitation_${run} BEFORE INSERT ON portal_invitations
      FOR EACH ROW EXECUTE FUNCTION refuse_invitation_${run}()`);
    try {
      const failed = await admin.client.post(`/api/onboarding/applications/${id}/approve`);
      expect(failed.status).toBe(500);
    } finally {
      await h.portal.db.query(`DROP TRIGGER refuse_invitation_${run} ON portal_invitations`);
      await h.portal.db.query(`DROP FUNCTION refuse_invitation_${run}()`);
    }
    expect(await setUpFor(company)).toEqual({
      tenants: 0,
      clients: 0,
      checklists: 0,
      invitations: 0,
    });
    const { rows } = await h.portal.db.query(
      'SELECT status, tenant_id, reviewed_by FROM portal_partner_applications WHERE id = $1',
      [id],
    );
    expect(rows[0]).toEqual({ status: 'pending', tenant_id: null, reviewed_by: null });
    expect(
      (
        await h.portal.audit.query({
          tenant: 'fluxel-operator',
          action: 'partner.application.approved',
        })
      ).events.filter((e) => e.target?.id === id),
    ).toHaveLength(0);
    // Nothing half-done blocks the review: approving again sets everything up.
    const again = await admin.client.post(`/api/onboarding/applications/${id}/approve`);
    expect(again.status).toBe(200);
    expect(await setUpFor(company)).toEqual({
      tenants: 1,
      clients: 1,
      checklists: 1,
      invitations: 1,
    });
  });
});

describe('rate limit', () => {
  it('the public registration endpoint is rate-limited per IP (429 + Retry-After)', async () => {
    const client = await anonymous();
    let limited: Awaited<ReturnType<TestClient['post']>> | undefined;
    for (let i = 0; i < REGISTRATION_LIMIT + 1 && !limited; i++) {
      const res = await client.post('/api/onboarding/applications', { companyName: 'x' });
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(400);
    }
    expect(limited).toBeDefined();
    expect(limited?.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited?.body).toMatchObject({ code: 'throttled' });
  });
});

interface Receiver {
  readonly port: number;
  readonly got: { headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

async function receiver(status: number): Promise<Receiver> {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
