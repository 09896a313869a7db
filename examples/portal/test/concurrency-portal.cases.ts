/**
 * The portal's one-time secrets, limits and counters outside sign-in, under concurrency: each
 * case fires N competing requests at once, every one on a connection of its own (`race.ts`),
 * and asserts the policy exactly — exactly one success, at most k evaluated, the counter
 * equals the attempts. Shared by `concurrency-portal.test.ts` (PGlite) and
 * `concurrency-portal-postgres.test.ts` (PostgreSQL, own schema); each case is named after what
 * it protects.
 *
 * What is counted in memory per portal process (not in the database) is said in the case
 * name: the registration limit per IP, the token endpoint's failed-attempt budget per IP and
 * the partner API's rate limit per client. With several portal processes each has its own.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { signWebhook } from '@fluxel-example/kit/webhooks';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { PartnerHub } from '../src/features/partner/hub.ts';
import type { PortalOptions } from '../src/server/app.ts';
import type { Context } from '../src/server/context.ts';
import type { TestClient } from './helpers.ts';
import {
  acceptedTerms,
  type PortalHarness,
  type Response,
  reauthenticate,
  type SignedUp,
} from './helpers.ts';
import { closeAll, firing, onSeparateConnections, race } from './race.ts';

/** Contenders per race. */
export const N = 8;
/** Registrations per IP and window in these tests. */
export const REGISTRATION_LIMIT = 20;
const REGISTRATION_WINDOW_MS = 60_000;
/** The token endpoint's failed-attempt budget per IP (fixed in `features/partner-api/service.ts`). */
const FAILED_AUTH_LIMIT = 30;
const FAILED_AUTH_WINDOW_MS = 60_000;

/** Each started portal's context (for the webhook cases' extra delivery workers). */
const contexts = new WeakMap<FastifyInstance, Context>();

/**
 * Harness options the cases need (both test files start the portal with these). The portal's
 * own webhook worker looks for due deliveries only when woken (new event, redelivery, ping):
 * the webhook cases run their attempts on extra workers of their own ("other portals") and
 * must decide who attempts when.
 */
export const CONCURRENCY_OPTIONS: Partial<PortalOptions> = {
  partner: { targets: { allowLoopback: true }, pollMs: 3_600_000 },
  onboarding: {
    registrationLimit: { limit: REGISTRATION_LIMIT, windowMs: REGISTRATION_WINDOW_MS },
  },
  extraRoutes: [(app, ctx) => contexts.set(app, ctx)],
};

/** Lease of a claimed delivery attempt (fixed in `partner/hub.ts`). */
const DELIVERY_LEASE_MS = 120_000;

/** Waits until `check` gives a value (polling; a deadline only against hanging forever). */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + READY_BOUND_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A webhook receiver that holds every request until the test answers it. */
class HeldReceiver {
  readonly got: { readonly body: string; readonly res: ServerResponse }[] = [];
  /** When set, requests are answered at once with this status. */
  answerAtOnce: number | undefined;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.got.push({ body: Buffer.concat(chunks).toString('utf8'), res });
        if (this.answerAtOnce !== undefined) res.writeHead(this.answerAtOnce).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/ccy`;
  }
  received(n: number): Promise<true> {
    return until(`${n} webhook request(s)`, () => (this.got.length >= n ? true : undefined));
  }
  answer(i: number, status: number): void {
    this.got[i]?.res.writeHead(status).end();
  }
  async close(): Promise<void> {
    for (const g of this.got) if (!g.res.headersSent) g.res.writeHead(204).end();
    const s = this.server;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}

const OPERATOR = 'fluxel-operator';

export function portalConcurrencyCases(harness: () => PortalHarness): void {
  const run = randomBytes(4).toString('hex');
  const h = () => harness();
  let admin: SignedUp;
  let admin2: SignedUp;

  /** Fires `attempt` on N (or `n`) separate connections carrying `client`'s session at once. */
  const fire = firing(() => h().portal.tls.ca, N);
  const statusCount = (responses: readonly Response<unknown>[], status: number) =>
    responses.filter((r) => r.status === status).length;
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await h().portal.db.query(sql, params)).rows[0]?.n ?? -1);
  const events = async (
    tenant: string,
    action: string,
    outcome?: 'success' | 'failure' | 'denied',
  ) =>
    (await h().portal.audit.query({ tenant, action, ...(outcome ? { outcome } : {}), limit: 500 }))
      .events;
  const mailsTo = (address: string, subject?: RegExp) =>
    h().smtp.messages.filter(
      (m) => m.to.includes(address) && (!subject || subject.test(m.subject)),
    );
  /** Moves the portal clock to just after the start of a fresh window of `windowMs`. */
  const freshWindow = (windowMs: number) => {
    const now = Date.now() + h().clock.offsetMs;
    h().clock.offsetMs += windowMs - (now % windowMs) + 1000;
  };
  async function anonymous(): Promise<TestClient> {
    const client = h().client();
    await client.session();
    return client;
  }
  const reauth = (s: SignedUp) => reauthenticate(h(), s);

  beforeAll(async () => {
    admin = await h().signUp(`ccy-admin-${run}@fluxel.test`, 'administrator', OPERATOR, 'Ada');
    admin2 = await h().signUp(`ccy-admin2-${run}@fluxel.test`, 'administrator', OPERATOR, 'Bea');
  });

  // ================================================================ onboarding

  async function applicationBody(client: TestClient, email: string) {
    return {
      companyName: `Nebenläufig ${email.slice(0, 12)} GmbH`,
      companyAddress: 'Parallelweg 8, 10115 Berlin',
      contactName: 'Nina Nebenläufig',
      contactEmail: email,
      ...(await acceptedTerms(client)),
    };
  }

  /** Registers `email`; returns the verification token from the mail. */
  async function register(email: string): Promise<string> {
    const client = await anonymous();
    const res = await client.post(
      '/api/onboarding/applications',
      await applicationBody(client, email),
    );
    if (res.status !== 202) throw new Error(`registration failed: ${res.text}`);
    const mail = await h().smtp.waitFor((m) => m.to.includes(email) && /verify\//.test(m.text));
    return /verify\/([A-Za-z0-9_-]{43})/.exec(mail.text)?.[1] as string;
  }

  /** Registers and verifies `email`; returns the pending application's id. */
  async function pendingApplication(email: string): Promise<string> {
    const token = await register(email);
    const verified = await (await anonymous()).post('/api/onboarding/verify', { token });
    if (verified.status !== 200) throw new Error(`verify failed: ${verified.text}`);
    const list = await admin.client.get<{ applications: { id: string; contactEmail: string }[] }>(
      '/api/onboarding/applications?status=pending',
    );
    return list.body.applications.find((a) => a.contactEmail === email)?.id as string;
  }

  /** An approved, onboarded partner tenant with a signed-in partner user. */
  async function onboardedPartner(tag: string) {
    const email = `ccy-${tag}-${run}@integrator.test`;
    const id = await pendingApplication(email);
    const approved = await admin.client.post<{ tenantId: string; clientId: string }>(
      `/api/onboarding/applications/${id}/approve`,
    );
    if (approved.status !== 200) throw new Error(`approve failed: ${approved.text}`);
    const { tenantId, clientId } = approved.body;
    const partner = await h().signUp(`ccy-${tag}-user-${run}@integrator.test`, 'partner', tenantId);
    return { tenantId, clientId, partner };
  }

  describe('onboarding', () => {
    it('e-mail verification link: N concurrent uses, exactly one verifies (one audit event, one review request)', async () => {
      const email = `ccy-verify-${run}@integrator.test`;
      const token = await register(email);
      const reviewer = `ccy-admin-${run}@fluxel.test`;
      const before = mailsTo(reviewer, /Partner-Registrierung/).length;
      const res = await fire(await anonymous(), (c) => c.post('/api/onboarding/verify', { token }));
      expect(statusCount(res, 200)).toBe(1);
      expect(statusCount(res, 404)).toBe(N - 1);
      const { rows } = await h().portal.db.query(
        'SELECT id, status FROM portal_partner_applications WHERE contact_email = $1',
        [email],
      );
      expect(rows.map((r) => r.status)).toEqual(['pending']);
      const verified = (await events(OPERATOR, 'partner.application.verified')).filter(
        (e) => e.target?.id === rows[0]?.id,
      );
      expect(verified).toHaveLength(1);
      await h().smtp.waitFor(
        (m) => m.to.includes(reviewer) && /Partner-Registrierung/.test(m.subject),
      );
      expect(mailsTo(reviewer, /Partner-Registrierung/).length - before).toBe(1);
    });

    it('application review: N concurrent approve/reject decisions, exactly one wins (one tenant, one invitation)', async () => {
      const email = `ccy-decide-${run}@integrator.test`;
      const id = await pendingApplication(email);
      const tenantsBefore = await count(
        "SELECT count(*)::int AS n FROM portal_tenants WHERE kind = 'partner'",
      );
      // Two administrators, each on N/2 connections, half approving and half rejecting.
      const [a, b] = await Promise.all([
        onSeparateConnections(admin.client, N / 2, h().portal.tls.ca),
        onSeparateConnections(admin2.client, N / 2, h().portal.tls.ca),
      ]);
      let res: Response[];
      try {
        res = await race([...a, ...b], (c, i) =>
          i % 2 === 0
            ? c.post(`/api/onboarding/applications/${id}/approve`)
            : c.post(`/api/onboarding/applications/${id}/reject`, { reason: 'Nicht passend' }),
        );
      } finally {
        await closeAll([...a, ...b]);
      }
      expect(statusCount(res, 200)).toBe(1);
      expect(statusCount(res, 409)).toBe(N - 1);
      const winner = res.findIndex((r) => r.status === 200);
      const approved = winner % 2 === 0;
      const { rows } = await h().portal.db.query(
        'SELECT status, tenant_id FROM portal_partner_applications WHERE id = $1',
        [id],
      );
      expect(rows[0]?.status).toBe(approved ? 'approved' : 'rejected');
      expect(
        await count("SELECT count(*)::int AS n FROM portal_tenants WHERE kind = 'partner'"),
      ).toBe(tenantsBefore + (approved ? 1 : 0));
      expect(
        await count('SELECT count(*)::int AS n FROM portal_invitations WHERE email = $1', [email]),
      ).toBe(approved ? 1 : 0);
      const decisions = [
        ...(await events(OPERATOR, 'partner.application.approved')),
        ...(await events(OPERATOR, 'partner.application.rejected')),
      ].filter((e) => e.target?.id === id);
      expect(decisions).toHaveLength(1);
    });

    it('partner credential reveal: N concurrent requests, exactly one gets the secrets, and they work', async () => {
      const { clientId, partner } = await onboardedPartner('reveal');
      const res = await fire<{ clientId: string; clientSecret: string; webhookSecret: string }>(
        partner.client,
        (c) => c.post('/api/onboarding/me/credentials'),
      );
      expect(statusCount(res, 200)).toBe(1);
      expect(statusCount(res, 409)).toBe(N - 1);
      const shown = res.find((r) => r.status === 200)?.body;
      expect(shown?.clientId).toBe(clientId);
      for (const r of res.filter((x) => x.status !== 200)) {
        expect(r.text).not.toContain('fpcs_');
        expect(r.text).not.toContain('whsec_');
      }
      // The one secret handed out is the one that works (no later reveal rotated it away).
      const anon = await anonymous();
      const viaClient = await anon.call(
        'POST',
        '/oauth/token',
        `grant_type=client_credentials&client_id=${clientId}&client_secret=${shown?.clientSecret}`,
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      );
      expect(viaClient.status).toBe(200);
      const revealed = await events(
        (
          await h().portal.db.query('SELECT tenant_id FROM portal_partner_clients WHERE id = $1', [
            clientId,
          ])
        ).rows[0]?.tenant_id as string,
        'partner.credentials.revealed',
      );
      expect(revealed).toHaveLength(1);
    });

    it('production scope grant: N concurrent grants of different scopes all add up (no lost update)', async () => {
      const { tenantId, clientId } = await onboardedPartner('grant');
      await h().portal.db.query(
        `UPDATE portal_partner_onboarding SET inbound_state = 'passed', outbound_state = 'passed',
           certified_at = $2 WHERE tenant_id = $1`,
        [tenantId, Date.now() + h().clock.offsetMs],
      );
      const scopes = ['licenses:read', 'events:read', 'webhooks:manage'];
      const res = await fire(
        admin.client,
        (c, i) =>
          c.post(`/api/onboarding/partners/${tenantId}/grant`, {
            scopes: [scopes[i % scopes.length]],
          }),
        scopes.length * 2,
      );
      expect(res.map((r) => r.status)).toEqual(res.map(() => 200));
      const { rows } = await h().portal.db.query(
        'SELECT scopes FROM portal_partner_clients WHERE id = $1',
        [clientId],
      );
      expect(String(rows[0]?.scopes).split(' ').sort()).toEqual([...scopes, 'sandbox'].sort());
      expect(await events(tenantId, 'partner.scopes.granted', 'success')).toHaveLength(
        scopes.length * 2,
      );
    });

    it('certification: N concurrent passing sandbox events certify once (one certification event)', async () => {
      const { tenantId, clientId, partner } = await onboardedPartner('certify');
      const shown = await partner.client.post<{ clientSecret: string; webhookSecret: string }>(
        '/api/onboarding/me/credentials',
      );
      expect(shown.status).toBe(200);
      await h().portal.db.query(
        "UPDATE portal_partner_onboarding SET outbound_state = 'passed' WHERE tenant_id = $1",
        [tenantId],
      );
      const anon = await anonymous();
      const tokenRes = await anon.call<{ access_token: string }>(
        'POST',
        '/oauth/token',
        `grant_type=client_credentials&client_id=${clientId}&client_secret=${shown.body.clientSecret}`,
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      );
      expect(tokenRes.status).toBe(200);
      const body = JSON.stringify({
        type: 'certification.test',
        timestamp: new Date().toISOString(),
        data: { attempt: 1 },
      });
      const res = await fire(anon, (c, i) => {
        const id = `msg_${run}_${i}`;
        const ts = Math.floor((Date.now() + h().clock.offsetMs) / 1000);
        return c.call('POST', '/partner-api/v1/sandbox/events', body, {
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokenRes.body.access_token}`,
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': signWebhook(shown.body.webhookSecret, id, ts, body),
          },
        });
      });
      expect(res.map((r) => r.status)).toEqual(res.map(() => 200));
      expect(await events(tenantId, 'partner.certified')).toHaveLength(1);
      expect(
        await count(
          'SELECT count(*)::int AS n FROM portal_partner_onboarding WHERE tenant_id = $1 AND certified_at IS NOT NULL',
          [tenantId],
        ),
      ).toBe(1);
    });

    it('sandbox replay: the same signed message N times at once, exactly one accepted, the others refused as replays (409 replayed, problem+json)', async () => {
      const { tenantId, clientId, partner } = await onboardedPartner('replay');
      const shown = await partner.client.post<{ clientSecret: string; webhookSecret: string }>(
        '/api/onboarding/me/credentials',
      );
      expect(shown.status).toBe(200);
      const anon = await anonymous();
      const tokenRes = await anon.call<{ access_token: string }>(
        'POST',
        '/oauth/token',
        `grant_type=client_credentials&client_id=${clientId}&client_secret=${shown.body.clientSecret}`,
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      );
      expect(tokenRes.status).toBe(200);
      const body = JSON.stringify({
        type: 'certification.test',
        timestamp: new Date().toISOString(),
        data: { attempt: 1 },
      });
      const id = `msg_replay_${run}`;
      const ts = Math.floor((Date.now() + h().clock.offsetMs) / 1000);
      const send = (c: TestClient) =>
        c.call<{ code?: string; received?: boolean }>(
          'POST',
          '/partner-api/v1/sandbox/events',
          body,
          {
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${tokenRes.body.access_token}`,
              'webhook-id': id,
              'webhook-timestamp': String(ts),
              'webhook-signature': signWebhook(shown.body.webhookSecret, id, ts, body),
            },
          },
        );
      const res = await fire(anon, send);
      expect(statusCount(res, 200)).toBe(1);
      expect(statusCount(res, 409)).toBe(N - 1);
      for (const r of res.filter((x) => x.status === 409)) {
        expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(r.body.code).toBe('replayed');
      }
      // Later, still inside the 5-minute window: refused as well.
      h().clock.offsetMs += 60_000;
      const later = await send(anon);
      expect(later.status).toBe(409);
      expect(later.body.code).toBe('replayed');
      expect(
        await count(
          "SELECT count(*)::int AS n FROM portal_partner_onboarding WHERE tenant_id = $1 AND inbound_state = 'passed'",
          [tenantId],
        ),
      ).toBe(1);
    });

    it('failed approval: the application goes back to the queue (its own claim only) and can be approved again', async () => {
      const email = `ccy-fail-${run}@integrator.test`;
      const id = await pendingApplication(email);
      // The invitation cannot be stored (as if the database failed half-way through).
      const trigger = `ccy_fail_${run}`;
      await h().portal.db.query(
        `CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $f$
         BEGIN RAISE EXCEPTION 'invitation store down'; END $f$`,
      );
      await h().portal.db.query(
        `CREATE TRIGGER ${trigger} BEFORE INSERT ON portal_invitations FOR EACH ROW
         WHEN (NEW.email = '${email}') EXECUTE FUNCTION ${trigger}()`,
      );
      try {
        const failed = await admin.client.post(`/api/onboarding/applications/${id}/approve`);
        expect(failed.status).toBe(500);
      } finally {
        await h().portal.db.query(`DROP TRIGGER ${trigger} ON portal_invitations`);
        await h().portal.db.query(`DROP FUNCTION ${trigger}()`);
      }
      const { rows } = await h().portal.db.query(
        'SELECT status, reviewed_by, tenant_id FROM portal_partner_applications WHERE id = $1',
        [id],
      );
      expect(rows[0]).toEqual({ status: 'pending', reviewed_by: null, tenant_id: null });
      const again = await admin2.client.post<{ tenantId: string }>(
        `/api/onboarding/applications/${id}/approve`,
      );
      expect(again.status).toBe(200);
      expect(
        await count('SELECT count(*)::int AS n FROM portal_invitations WHERE email = $1', [email]),
      ).toBe(1);
    });

    it('registration limit per IP (in memory, per portal process): N concurrent registrations, exactly the limit accepted', async () => {
      freshWindow(REGISTRATION_WINDOW_MS);
      const extra = 4;
      const client = await anonymous();
      const bodies = await Promise.all(
        Array.from({ length: REGISTRATION_LIMIT + extra }, (_, i) =>
          applicationBody(client, `ccy-limit-${i}-${run}@integrator.test`),
        ),
      );
      const before = await count('SELECT count(*)::int AS n FROM portal_partner_applications');
      const res = await fire(
        client,
        (c, i) => c.post('/api/onboarding/applications', bodies[i]),
        REGISTRATION_LIMIT + extra,
      );
      expect(statusCount(res, 202)).toBe(REGISTRATION_LIMIT);
      expect(statusCount(res, 429)).toBe(extra);
      expect(await count('SELECT count(*)::int AS n FROM portal_partner_applications')).toBe(
        before + REGISTRATION_LIMIT,
      );
      // Later cases register again: start a fresh window for them.
      freshWindow(REGISTRATION_WINDOW_MS);
    });
  });

  // ================================================================ partner API clients

  describe('partner API', () => {
    const PARTNER = `ccy-ptn-${run}`;
    let partner: SignedUp;

    beforeAll(async () => {
      await h().portal.createTenant(PARTNER, 'Nebenläufig Partner GmbH', 'partner');
      partner = await h().signUp(`ccy-partner-${run}@fluxel.test`, 'partner', PARTNER, 'Paula');
    });

    async function newClient(name: string) {
      const res = await partner.client.post<{ client: { clientId: string }; clientSecret: string }>(
        '/api/partner/clients',
        { name, scopes: ['licenses:read', 'webhooks:manage'] },
      );
      expect(res.status).toBe(200);
      return { clientId: res.body.client.clientId, secret: res.body.clientSecret };
    }
    const tokenRequest = (c: TestClient, clientId: string, secret: string) =>
      c.call<{ access_token?: string; error?: string }>(
        'POST',
        '/oauth/token',
        `grant_type=client_credentials&client_id=${encodeURIComponent(clientId)}&client_secret=${encodeURIComponent(secret)}`,
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      );

    it('token endpoint failed-attempt budget per IP (in memory): N concurrent wrong secrets, at most the budget evaluated; once spent, not even the right secret is evaluated', async () => {
      const { clientId, secret } = await newClient('Rate');
      freshWindow(FAILED_AUTH_WINDOW_MS);
      const extra = 6;
      const anon = await anonymous();
      const res = await fire(
        anon,
        (c, i) => tokenRequest(c, clientId, `fpcs_wrong-${i}`),
        FAILED_AUTH_LIMIT + extra,
      );
      expect(statusCount(res, 401)).toBe(FAILED_AUTH_LIMIT);
      expect(statusCount(res, 429)).toBe(extra);
      // Evaluated (and audited as failures) exactly the budget, no more.
      const failures = (await events(OPERATOR, 'partner.token', 'failure')).filter(
        (e) => e.actor.id === `api-client:${clientId}`,
      );
      expect(failures).toHaveLength(FAILED_AUTH_LIMIT);
      // Spent: the right secret is not evaluated either (else guessing goes on behind 429s).
      const right = await tokenRequest(anon, clientId, secret);
      expect(right.status).toBe(429);
      expect(right.headers['retry-after']).toBeDefined();
      // The next window: the right secret works, and successes give their reservation back:
      // rounds of N concurrent right attempts, more than the budget in all, every one passes.
      freshWindow(FAILED_AUTH_WINDOW_MS);
      const tokens = new Set<string | undefined>();
      for (let round = 0; round * N <= FAILED_AUTH_LIMIT; round++) {
        const ok = await fire(anon, (c) => tokenRequest(c, clientId, secret));
        expect(statusCount(ok, 200)).toBe(N);
        for (const r of ok) tokens.add(r.body.access_token);
      }
      expect(tokens.size).toBeGreaterThan(FAILED_AUTH_LIMIT);
      expect((await tokenRequest(anon, clientId, 'fpcs_wrong')).status).toBe(401);
      freshWindow(FAILED_AUTH_WINDOW_MS);
    });

    it('client credential token issuance: N concurrent requests, N distinct live tokens, N audit events', async () => {
      const { clientId, secret } = await newClient('Tokens');
      const anon = await anonymous();
      const res = await fire(anon, (c) => tokenRequest(c, clientId, secret));
      expect(statusCount(res, 200)).toBe(N);
      const tokens = new Set(res.map((r) => r.body.access_token));
      expect(tokens.size).toBe(N);
      for (const token of tokens) {
        const list = await anon.call('GET', '/partner-api/v1/webhooks', undefined, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(list.status).toBe(200);
      }
      const issued = (await events(PARTNER, 'partner.token', 'success')).filter(
        (e) => e.actor.id === `api-client:${clientId}`,
      );
      expect(issued).toHaveLength(N);
    });

    it('client revocation: N concurrent revokes, revoked once and audited once, no token survives', async () => {
      const { clientId, secret } = await newClient('Revoke');
      const anon = await anonymous();
      const token = (await tokenRequest(anon, clientId, secret)).body.access_token;
      const res = await fire<{ client: { revokedAt?: string } }>(partner.client, (c) =>
        c.post(`/api/partner/clients/${clientId}/revoke`),
      );
      expect(res.map((r) => r.status)).toEqual(res.map(() => 200));
      expect(new Set(res.map((r) => r.body.client.revokedAt)).size).toBe(1);
      const revoked = (await events(PARTNER, 'partner.client.revoked')).filter(
        (e) => e.target?.id === clientId,
      );
      expect(revoked).toHaveLength(1);
      const after = await anon.call('GET', '/partner-api/v1/webhooks', undefined, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(after.status).toBe(401);
      expect((await tokenRequest(anon, clientId, secret)).status).toBe(401);
    });

    it('webhook subscription deletion: N concurrent deletes, exactly one 204, audited once', async () => {
      const created = await partner.client.post<{ subscription: { id: string } }>(
        '/api/partner/subscriptions',
        { url: 'https://hooks.example.com/ccy', eventTypes: ['license.locked'] },
      );
      expect(created.status).toBe(200);
      const id = created.body.subscription.id;
      const res = await fire(partner.client, (c) =>
        c.call('DELETE', `/api/partner/subscriptions/${id}`),
      );
      expect(statusCount(res, 204)).toBe(1);
      expect(statusCount(res, 404)).toBe(N - 1);
      const deleted = (await events(PARTNER, 'partner.subscription.deleted')).filter(
        (e) => e.target?.id === id,
      );
      expect(deleted).toHaveLength(1);
    });

    it('webhook subscription update: N concurrent updates (half deactivate, half change the event types), both applied, one audit event per real change', async () => {
      const created = await partner.client.post<{ subscription: { id: string } }>(
        '/api/partner/subscriptions',
        { url: 'https://hooks.example.com/ccy-update', eventTypes: ['license.locked'] },
      );
      expect(created.status).toBe(200);
      const id = created.body.subscription.id;
      const types = ['license.unlocked', 'license.activated'];
      const res = await fire(partner.client, (c, i) =>
        c.call(
          'PATCH',
          `/api/partner/subscriptions/${id}`,
          i % 2 === 0 ? { active: false } : { eventTypes: types },
        ),
      );
      expect(res.map((r) => r.status)).toEqual(res.map(() => 200));
      const row = async () =>
        (
          await h().portal.db.query(
            'SELECT active, event_types FROM portal_partner_subscriptions WHERE id = $1',
            [id],
          )
        ).rows[0];
      const after = await row();
      expect(after?.active).toBe(false);
      expect(String(after?.event_types).split(' ').sort()).toEqual([...types].sort());
      const updated = async () =>
        (await events(PARTNER, 'partner.subscription.updated')).filter((e) => e.target?.id === id);
      // Two real changes (deactivated; types changed): two events, not one per request.
      expect(await updated()).toHaveLength(2);
      // Setting what is already there changes nothing and is not audited.
      const same = await partner.client.call('PATCH', `/api/partner/subscriptions/${id}`, {
        active: false,
        eventTypes: [...types].reverse(),
      });
      expect(same.status).toBe(200);
      expect(await updated()).toHaveLength(2);
    });

    /** A delivery worker of "another portal" on the same database, driven by the test. */
    const otherPortal = () =>
      new PartnerHub(contexts.get(h().portal.app) as Context, {
        targets: { allowLoopback: true },
        retryScheduleMs: [5_000],
        jitter: 0,
        deliveryTimeoutMs: 60_000,
      });
    const delivery = async (id: string) =>
      (
        await h().portal.db.query(
          'SELECT status, attempts, last_status, last_error FROM portal_partner_deliveries WHERE id = $1',
          [id],
        )
      ).rows[0];
    /** A subscription to a held receiver and one event for it, not yet attempted. */
    async function heldDelivery(tag: string) {
      const receiver = await new HeldReceiver().start();
      const created = await partner.client.post<{ subscription: { id: string } }>(
        '/api/partner/subscriptions',
        { url: receiver.url, eventTypes: ['license.locked'] },
      );
      expect(created.status).toBe(200);
      const subscriptionId = created.body.subscription.id;
      const hub = otherPortal();
      const event = await hub.emit({
        type: 'license.locked',
        tenant: PARTNER,
        data: { licenseId: `lic_${tag}_${run}` },
      });
      const { rows } = await h().portal.db.query(
        'SELECT id FROM portal_partner_deliveries WHERE subscription_id = $1 AND event_id = $2',
        [subscriptionId, event?.id],
      );
      const done = async () => {
        // The receiver first: it answers what it still holds, so the worker can stop.
        await receiver.close();
        await hub.stop();
        await h().portal.db.query('DELETE FROM portal_partner_subscriptions WHERE id = $1', [
          subscriptionId,
        ]);
      };
      return { receiver, hub, deliveryId: String(rows[0]?.id), done };
    }

    it("webhook redelivery while an attempt is in flight: N concurrent redeliveries refused (409 delivery_in_progress), the running attempt's result stands, the event is sent once", async () => {
      const { receiver, hub, deliveryId, done } = await heldDelivery('redeliver');
      try {
        const attempt = hub.tick();
        await receiver.received(1);
        const res = await fire(partner.client, (c) =>
          c.post(`/api/partner/deliveries/${deliveryId}/redeliver`),
        );
        expect(res.map((r) => r.status)).toEqual(res.map(() => 409));
        expect(res.map((r) => r.body.code)).toEqual(res.map(() => 'delivery_in_progress'));
        receiver.answer(0, 204);
        await attempt;
        expect(await delivery(deliveryId)).toMatchObject({
          status: 'delivered',
          attempts: 1,
          last_status: 204,
        });
        expect(receiver.got).toHaveLength(1);
        expect(
          (await events(PARTNER, 'partner.delivery.redelivered')).filter(
            (e) => e.target?.id === deliveryId,
          ),
        ).toHaveLength(0);
        // The attempt is over: now a redelivery is accepted, and sent once more.
        receiver.answerAtOnce = 204;
        const again = await partner.client.post(`/api/partner/deliveries/${deliveryId}/redeliver`);
        expect(again.status).toBe(200);
        await until('the redelivery', async () => {
          const d = await delivery(deliveryId);
          return d?.status === 'delivered' && d.attempts === 2 ? d : undefined;
        });
        expect(receiver.got).toHaveLength(2);
      } finally {
        await done();
      }
    });

    it("webhook attempt results: a stale attempt (lease expired, taken over by another portal) cannot overwrite the newer attempt's result", async () => {
      const { receiver, hub, deliveryId, done } = await heldDelivery('lease');
      const second = otherPortal();
      try {
        const first = hub.tick();
        await receiver.received(1);
        // The first worker seems gone: its lease runs out, another portal takes the delivery.
        h().clock.offsetMs += DELIVERY_LEASE_MS + 1000;
        const takeover = second.tick();
        await receiver.received(2);
        receiver.answer(1, 204);
        await takeover;
        const delivered = { status: 'delivered', attempts: 2, last_status: 204, last_error: null };
        expect(await delivery(deliveryId)).toMatchObject(delivered);
        // The stale first attempt ends with an error afterwards: its result is dropped (else the
        // delivery would be pending again and the event sent a third time).
        receiver.answer(0, 500);
        await first;
        expect(await delivery(deliveryId)).toMatchObject(delivered);
      } finally {
        await done();
        await second.stop();
      }
    });
  });

  // ================================================================ rights requests

  describe('rights requests', () => {
    const CUSTOMER = `ccy-cust-${run}`;
    let keyUser: SignedUp;
    let keyUser2: SignedUp;

    beforeAll(async () => {
      await h().portal.createTenant(CUSTOMER, 'Nebenläufig Kunde AG', 'customer');
      keyUser = await h().signUp(`ccy-key-${run}@kunde.test`, 'key-user', CUSTOMER, 'Kai');
      keyUser2 = await h().signUp(`ccy-key2-${run}@kunde.test`, 'key-user', CUSTOMER, 'Kim');
    });

    it('one open request per user: N concurrent requests, exactly one created', async () => {
      const customer = await h().signUp(`ccy-req-${run}@kunde.test`, 'customer', CUSTOMER, 'Rita');
      const res = await fire(customer.client, (c, i) =>
        c.post('/api/rights/requests', { role: 'key-user', reason: `Bitte ${i}` }),
      );
      expect(statusCount(res, 201)).toBe(1);
      expect(statusCount(res, 409)).toBe(N - 1);
      expect(
        await count(
          "SELECT count(*)::int AS n FROM portal_rights_requests WHERE user_id = $1 AND status = 'pending'",
          [customer.userId],
        ),
      ).toBe(1);
      const requested = (await events(CUSTOMER, 'rights.requested')).filter(
        (e) => e.actor.id === customer.userId,
      );
      expect(requested).toHaveLength(1);
    });

    it('rights decision: N concurrent approve/reject/withdraw, exactly one decision, the role changes at most once', async () => {
      const customer = await h().signUp(`ccy-dec-${run}@kunde.test`, 'customer', CUSTOMER, 'Dora');
      const asked = await customer.client.post<{ request: { id: string } }>(
        '/api/rights/requests',
        {
          role: 'key-user',
          reason: 'Zugangsdaten pflegen',
        },
      );
      expect(asked.status).toBe(201);
      const id = asked.body.request.id;
      const [a, b, w] = await Promise.all([
        onSeparateConnections(keyUser.client, N / 2, h().portal.tls.ca),
        onSeparateConnections(keyUser2.client, N / 2, h().portal.tls.ca),
        onSeparateConnections(customer.client, 2, h().portal.tls.ca),
      ]);
      let res: Response[];
      try {
        res = await race([...a, ...b, ...w], (c, i) =>
          i >= N
            ? c.post(`/api/rights/requests/${id}/withdraw`)
            : i % 2 === 0
              ? c.post(`/api/rights/requests/${id}/approve`, {})
              : c.post(`/api/rights/requests/${id}/reject`, { reason: 'Nein' }),
        );
      } finally {
        await closeAll([...a, ...b, ...w]);
      }
      expect(statusCount(res, 200)).toBe(1);
      expect(statusCount(res, 409)).toBe(N + 1);
      const winner = res.findIndex((r) => r.status === 200);
      const outcome = winner >= N ? 'withdrawn' : winner % 2 === 0 ? 'approved' : 'rejected';
      const { rows } = await h().portal.db.query(
        'SELECT status FROM portal_rights_requests WHERE id = $1',
        [id],
      );
      expect(rows[0]?.status).toBe(outcome);
      const { rows: user } = await h().portal.db.query(
        'SELECT role FROM portal_users WHERE id = $1',
        [customer.userId],
      );
      expect(user[0]?.role).toBe(outcome === 'approved' ? 'key-user' : 'customer');
      const decisions = (
        await Promise.all(
          ['rights.approved', 'rights.rejected', 'rights.withdrawn'].map((action) =>
            events(CUSTOMER, action, 'success'),
          ),
        )
      )
        .flat()
        .filter((e) => e.target?.id === id);
      expect(decisions).toHaveLength(1);
      expect(
        (await events(CUSTOMER, 'user.role.changed')).filter(
          (e) => e.target?.id === customer.userId,
        ),
      ).toHaveLength(outcome === 'approved' ? 1 : 0);
    });

    it('rights approve racing a direct role change: a request is recorded as approved only if the approval itself changed the role (one role change, one audit event)', async () => {
      for (let round = 0; round < 4; round++) {
        const customer = await h().signUp(
          `ccy-rc${round}-${run}@kunde.test`,
          'customer',
          CUSTOMER,
          `Rena ${round}`,
        );
        const asked = await customer.client.post<{ request: { id: string } }>(
          '/api/rights/requests',
          { role: 'key-user', reason: 'Benutzer einladen' },
        );
        expect(asked.status).toBe(201);
        const id = asked.body.request.id;
        // A key user approves while an administrator sets the same role directly.
        const [a, b] = await Promise.all([
          onSeparateConnections(keyUser.client, 1, h().portal.tls.ca),
          onSeparateConnections(admin.client, 1, h().portal.tls.ca),
        ]);
        let res: Response[];
        try {
          res = await race([...a, ...b], (c, i) =>
            i === 0
              ? c.post(`/api/rights/requests/${id}/approve`, {})
              : c.call('PATCH', `/api/users/${customer.userId}`, { role: 'key-user' }),
          );
        } finally {
          await closeAll([...a, ...b]);
        }
        const [approve, patch] = res as [Response, Response];
        expect(patch.status, `round ${round}: ${patch.text}`).toBe(200);
        const { rows } = await h().portal.db.query(
          'SELECT r.status, u.role FROM portal_rights_requests r JOIN portal_users u ON u.id = r.user_id WHERE r.id = $1',
          [id],
        );
        expect(rows[0]?.role).toBe('key-user');
        const changes = (await events(CUSTOMER, 'user.role.changed', 'success')).filter(
          (e) => e.target?.id === customer.userId,
        );
        // The role changed once, so it is reported once — by whoever changed it.
        expect(changes, `round ${round}`).toHaveLength(1);
        if (rows[0]?.status === 'approved') {
          expect(approve.status, `round ${round}`).toBe(200);
          expect(changes[0]?.details).toMatchObject({
            from: 'customer',
            to: 'key-user',
            request: id,
          });
        } else {
          // The administrator was first: the approval found the role changed; still open.
          expect(rows[0]?.status, `round ${round}`).toBe('pending');
          expect(approve.status, `round ${round}`).toBe(409);
          expect((approve.body as { code?: string }).code, `round ${round}`).toBe('role_changed');
          expect(changes[0]?.details?.request).toBeUndefined();
        }
      }
    });

    it('ADV acceptance once per version: N concurrent accepts, exactly one acceptance, one audit event', async () => {
      const state = await keyUser.client.get<{
        current: { id: string; sha256: string; locale: 'de' | 'en' };
      }>('/api/adv');
      expect(state.status).toBe(200);
      const { id: version, sha256, locale } = state.body.current;
      const res = await fire<{ created: boolean; acceptance: { id: string } }>(
        keyUser.client,
        (c) => c.post('/api/adv/accept', { version, locale, textSha256: sha256 }),
      );
      expect(statusCount(res, 201)).toBe(1);
      expect(statusCount(res, 200)).toBe(N - 1);
      expect(res.filter((r) => r.body.created)).toHaveLength(1);
      expect(new Set(res.map((r) => r.body.acceptance.id)).size).toBe(1);
      expect(
        await count(
          'SELECT count(*)::int AS n FROM portal_adv_acceptances WHERE tenant_id = $1 AND version = $2',
          [CUSTOMER, version],
        ),
      ).toBe(1);
      expect(await events(CUSTOMER, 'adv.accepted')).toHaveLength(1);
    });
  });

  // ================================================================ user management

  describe('user management', () => {
    const CUSTOMER = `ccy-mgmt-${run}`;
    const path = (s: SignedUp) => `/api/users/${s.userId}`;
    const userState = async (s: SignedUp) =>
      (
        await h().portal.db.query(
          `SELECT u.role, u.status, e.state FROM portal_users u
           LEFT JOIN portal_erasures e ON e.user_id = u.id WHERE u.id = $1`,
          [s.userId],
        )
      ).rows[0];

    beforeAll(async () => {
      await h().portal.createTenant(CUSTOMER, 'Verwaltung Kunde AG', 'customer');
    });

    it('PATCH /api/users/:id: a role that does not fit the tenant (partner, administrator on a customer) is refused with 400, the role stays', async () => {
      const person = await h().signUp(`ccy-fit-${run}@kunde.test`, 'customer', CUSTOMER, 'Fiona');
      for (const role of ['partner', 'administrator']) {
        const res = await admin.client.call<{ code: string; fields: { path: string }[] }>(
          'PATCH',
          path(person),
          { role },
        );
        expect(res.status, role).toBe(400);
        expect(res.body.code).toBe('bad_request');
        expect(res.body.fields.map((f) => f.path)).toEqual(['role']);
      }
      expect((await userState(person))?.role).toBe('customer');
      expect(
        [
          ...(await events(CUSTOMER, 'user.role.changed')),
          ...(await events(CUSTOMER, 'admin.role.granted')),
        ].filter((e) => e.target?.id === person.userId),
      ).toHaveLength(0);
    });

    it('PATCH /api/users/:id: N concurrent identical role changes, the role changes once and is audited once', async () => {
      const person = await h().signUp(`ccy-role-${run}@kunde.test`, 'customer', CUSTOMER, 'Rolf');
      const res = await fire(admin.client, (c) =>
        c.call('PATCH', path(person), { role: 'key-user' }),
      );
      expect(res.map((r) => r.status)).toEqual(res.map(() => 200));
      expect((await userState(person))?.role).toBe('key-user');
      const changes = (await events(CUSTOMER, 'user.role.changed', 'success')).filter(
        (e) => e.target?.id === person.userId,
      );
      expect(changes).toHaveLength(1);
      expect(changes[0]?.details).toMatchObject({ from: 'customer', to: 'key-user' });
    });

    it('PATCH /api/users/:id: an account with a scheduled erasure is not made active (409 erasure_scheduled); disabling it is kept when the erasure is cancelled', async () => {
      const person = await h().signUp(`ccy-act-${run}@kunde.test`, 'customer', CUSTOMER, 'Agnes');
      await reauth(admin);
      const erasure = `/api/privacy/users/${person.userId}/erasure`;
      expect((await admin.client.post(erasure)).status).toBe(200);
      const res = await admin.client.call<{ code: string }>('PATCH', path(person), {
        status: 'active',
      });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('erasure_scheduled');
      expect(await userState(person)).toMatchObject({ status: 'disabled', state: 'scheduled' });
      expect(
        (await events(CUSTOMER, 'user.enabled')).filter((e) => e.target?.id === person.userId),
      ).toHaveLength(0);
      // An administrator disables the account meanwhile: a cancel gives back *that* status.
      expect((await admin.client.call('PATCH', path(person), { status: 'disabled' })).status).toBe(
        200,
      );
      expect((await admin.client.post(`${erasure}/cancel`)).status).toBe(200);
      expect(await userState(person)).toMatchObject({ status: 'disabled', state: 'cancelled' });
      // Without a scheduled erasure the account can be made active again.
      expect((await admin.client.call('PATCH', path(person), { status: 'active' })).status).toBe(
        200,
      );
      expect((await userState(person))?.status).toBe('active');
    });

    it('account activation racing erasure scheduling and cancelling: the account is never active while its erasure is scheduled', async () => {
      const person = await h().signUp(`ccy-race-${run}@kunde.test`, 'customer', CUSTOMER, 'Rosa');
      await reauth(admin);
      const erasure = `/api/privacy/users/${person.userId}/erasure`;
      for (let round = 0; round < 6; round++) {
        // A third schedule the erasure, a third cancel it, a third make the account active.
        const res = await fire(admin.client, (c, i) =>
          i % 3 === 0
            ? c.post(erasure)
            : i % 3 === 1
              ? c.post(`${erasure}/cancel`)
              : c.call('PATCH', path(person), { status: 'active' }),
        );
        expect(
          res.filter((r) => r.status !== 200 && r.status !== 409).map((r) => r.text),
          `round ${round}`,
        ).toEqual([]);
        const now = await userState(person);
        if (now?.state === 'scheduled')
          expect(now, `round ${round}`).toMatchObject({ status: 'disabled' });
      }
    });
  });

  // ================================================================ erasure (GDPR)

  describe('erasure', () => {
    const CUSTOMER = `ccy-gdpr-${run}`;

    beforeAll(async () => {
      await h().portal.createTenant(CUSTOMER, 'Löschprobe AG', 'customer');
    });

    it('erasure request: N concurrent requests by the person, one erasure scheduled, one mail, one audit event', async () => {
      const email = `ccy-erase-${run}@kunde.test`;
      const person = await h().signUp(email, 'customer', CUSTOMER, 'Erna');
      await reauth(person);
      const res = await fire(person.client, (c) => c.post('/api/privacy/erasure'));
      expect(statusCount(res, 200)).toBe(1);
      // The others: already scheduled (409), or their session had already ended (401).
      const refused = res.filter((r) => r.status !== 200);
      expect(refused.filter((r) => r.status !== 409 && r.status !== 401)).toEqual([]);
      expect(
        await count(
          "SELECT count(*)::int AS n FROM portal_erasures WHERE user_id = $1 AND state = 'scheduled'",
          [person.userId],
        ),
      ).toBe(1);
      const { rows } = await h().portal.db.query('SELECT status FROM portal_users WHERE id = $1', [
        person.userId,
      ]);
      expect(rows[0]?.status).toBe('disabled');
      expect(
        await count('SELECT count(*)::int AS n FROM portal_sessions WHERE user_id = $1', [
          person.userId,
        ]),
      ).toBe(0);
      await h().smtp.waitFor((m) => m.to.includes(email) && /Löschung/.test(m.subject));
      expect(mailsTo(email, /Löschung/)).toHaveLength(1);
      expect(
        (await events(CUSTOMER, 'privacy.erasure.scheduled')).filter(
          (e) => e.target?.id === person.userId,
        ),
      ).toHaveLength(1);
    });

    it('erasure cancel link: N concurrent uses, exactly one cancels and restores the account', async () => {
      const email = `ccy-cancel-${run}@kunde.test`;
      const person = await h().signUp(email, 'customer', CUSTOMER, 'Carla');
      await reauth(admin);
      expect((await admin.client.post(`/api/privacy/users/${person.userId}/erasure`)).status).toBe(
        200,
      );
      const mail = await h().smtp.waitFor(
        (m) => m.to.includes(email) && /Löschung/.test(m.subject),
      );
      const token = /\/privacy\/cancel\/([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] as string;
      const res = await fire(await anonymous(), (c) =>
        c.post('/api/privacy/erasure/cancel', { token }),
      );
      expect(statusCount(res, 204)).toBe(1);
      expect(statusCount(res, 404)).toBe(N - 1);
      const { rows } = await h().portal.db.query(
        'SELECT u.status, e.state FROM portal_users u JOIN portal_erasures e ON e.user_id = u.id WHERE u.id = $1',
        [person.userId],
      );
      expect(rows[0]).toEqual({ status: 'active', state: 'cancelled' });
      expect(
        (await events(CUSTOMER, 'privacy.erasure.cancelled')).filter(
          (e) => e.target?.id === person.userId,
        ),
      ).toHaveLength(1);
    });

    it('erasure cancel and a new erasure at the same moment: the account status always matches the erasure state', async () => {
      const person = await h().signUp(`ccy-flip-${run}@kunde.test`, 'customer', CUSTOMER, 'Flora');
      await reauth(admin);
      const path = `/api/privacy/users/${person.userId}/erasure`;
      expect((await admin.client.post(path)).status).toBe(200);
      const state = async () =>
        (
          await h().portal.db.query(
            `SELECT e.state, e.previous_status, u.status FROM portal_erasures e
             JOIN portal_users u ON u.id = e.user_id WHERE u.id = $1`,
            [person.userId],
          )
        ).rows[0];
      for (let round = 0; round < 6; round++) {
        // Half the contenders cancel the scheduled erasure, half schedule a new one.
        const res = await fire(admin.client, (c, i) =>
          c.post(i % 2 === 0 ? `${path}/cancel` : path),
        );
        expect(res.filter((r) => r.status !== 200 && r.status !== 409).map((r) => r.text)).toEqual(
          [],
        );
        const now = await state();
        // Scheduled: disabled, and a cancel would give back the active account it had.
        // Cancelled: active again.
        if (now?.state === 'scheduled')
          expect(now, `round ${round}`).toEqual({
            state: 'scheduled',
            previous_status: 'active',
            status: 'disabled',
          });
        else expect(now, `round ${round}`).toMatchObject({ state: 'cancelled', status: 'active' });
        if (now?.state === 'cancelled') expect((await admin.client.post(path)).status).toBe(200);
      }
    });

    it('erasure run: N concurrent runs erase each person once (one completion event each)', async () => {
      const people = await Promise.all(
        [0, 1].map((i) =>
          h().signUp(`ccy-run-${i}-${run}@kunde.test`, 'customer', CUSTOMER, `Rolf ${i}`),
        ),
      );
      await reauth(admin);
      for (const p of people)
        expect((await admin.client.post(`/api/privacy/users/${p.userId}/erasure`)).status).toBe(
          200,
        );
      const due = Date.now() + h().clock.offsetMs + 31 * 86_400_000;
      const runs = await Promise.all(
        Array.from({ length: N }, () => h().portal.app.privacy.runErasures(due)),
      );
      const erased = runs.flat().filter((id) => people.some((p) => p.userId === id));
      expect(erased.sort()).toEqual(people.map((p) => p.userId).sort());
      for (const p of people) {
        expect(
          (await events(CUSTOMER, 'privacy.erasure.completed')).filter(
            (e) => e.target?.id === p.userId,
          ),
        ).toHaveLength(1);
        const { rows } = await h().portal.db.query(
          'SELECT e.state, u.email FROM portal_erasures e JOIN portal_users u ON u.id = e.user_id WHERE u.id = $1',
          [p.userId],
        );
        expect(rows[0]?.state).toBe('done');
        expect(String(rows[0]?.email)).toMatch(/@erased\.invalid$/);
      }
    });
  });
}
