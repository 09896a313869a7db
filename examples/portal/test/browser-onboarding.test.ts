/**
 * Partner onboarding in Chromium, end to end: from the sign-in page to the registration form
 * (terms and ADV accepted), the confirmation link from the SMTP sink, an administrator's
 * approval, the partner's sign-up by the mailed invitation with TOTP, the secrets shown once,
 * and the certification checklist passing — step (a) by a signed event the test sends to the
 * sandbox as the partner's system, step (b) by the portal's signed event to a receiver the test
 * runs (it checks the signature). Then the administrator grants production scopes. axe finds no
 * serious or critical violation on the new pages. Screenshots `24`–`26`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { signWebhook, verifyWebhook } from '@fluxel-example/kit/webhooks';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import {
  a11yViolations,
  acceptInvitation,
  byTest,
  setUpBrowserHarness,
  shot,
} from './browser-helpers.ts';

const run = randomBytes(3).toString('hex');
const CONTACT = `ina-${run}@integrator.test`;
let receiver: Server | undefined;
const received: { valid: boolean; type: string | undefined }[] = [];

const b = setUpBrowserHarness({ portal: { partner: { targets: { allowLoopback: true } } } });

// Registered after the harness: vitest runs after-hooks last-registered first.
afterAll(async () => {
  if (receiver) await new Promise<void>((r) => receiver?.close(() => r()));
});

/** The 43-character token of the link after `path` in the newest mail to `to`. */
async function linkToken(to: string, path: string): Promise<string> {
  const mail = await b.h.smtp.waitFor((m) => m.to.includes(to) && m.text.includes(path));
  const token = new RegExp(`${path}([A-Za-z0-9_-]{43})`).exec(mail.text)?.[1];
  if (!token) throw new Error(`no ${path} link`);
  return token;
}

describe.skipIf(!b.available)('partner onboarding in Chromium', () => {
  it('registration → confirmation → approval → partner sign-up → checklist passes', async () => {
    const { h } = b;
    // ---------------------------------------------------------------- the applicant
    const applicant = await b.newPage();
    let page = applicant.page;
    await page.goto(`${h.portal.url}/login`);
    await byTest(page, 'partner-signup-link').click();
    const form = byTest(page, 'signup-form');
    await form.waitFor();
    expect(await byTest(page, 'signup-adv').textContent()).toMatch(/Auftragsverarbeitung/);
    await form.locator('input[name=companyName]').fill('Integrator GmbH');
    await form.locator('input[name=companyAddress]').fill('Hafenstraße 1, 20457 Hamburg');
    await form.locator('input[name=website]').fill('https://integrator.example');
    await form.locator('input[name=contactName]').fill('Ina Integra');
    await form.locator('input[name=contactEmail]').fill(CONTACT);
    await byTest(page, 'accept-terms').check();
    await byTest(page, 'accept-adv').check();
    expect(await a11yViolations(page)).toEqual([]);
    await shot(page, '24-partner-signup');
    await byTest(page, 'signup-submit').click();
    await byTest(page, 'signup-sent').waitFor();

    await page.goto(
      `${h.portal.url}/partner-signup/verify/${await linkToken(CONTACT, '/partner-signup/verify/')}`,
    );
    await byTest(page, 'verify-submit').click();
    await byTest(page, 'verify-done').waitFor();
    await applicant.context.close();

    // ---------------------------------------------------------------- the administrator
    const adminToken = await h.portal.invite(
      `admin-${run}@fluxel.test`,
      'administrator',
      'fluxel-operator',
    );
    const adminSide = await b.newPage();
    const adminPage = adminSide.page;
    await acceptInvitation(h, adminPage, adminToken, 'Ada Admin');
    await byTest(adminPage, 'recovery-saved').click();
    await byTest(adminPage, 'nav-onboarding').click();
    const row = byTest(adminPage, 'application-row').filter({ hasText: 'Integrator GmbH' });
    await row.waitFor();
    expect(await row.textContent()).toContain(CONTACT);
    expect(await a11yViolations(adminPage)).toEqual([]);
    await shot(adminPage, '25-onboarding-review');
    await row.getByTestId('approve').click();
    await byTest(adminPage, 'status').first().waitFor();
    await expect.poll(() => byTest(adminPage, 'partner-row').count()).toBe(1);

    // ---------------------------------------------------------------- the partner signs up
    const partnerSide = await b.newPage();
    page = partnerSide.page;
    await acceptInvitation(h, page, await linkToken(CONTACT, '/invite/'), 'Ina Integra');
    await byTest(page, 'recovery-saved').click();
    await byTest(page, 'nav-certification').click();
    await byTest(page, 'cert-reveal').click();
    await byTest(page, 'cert-credentials').waitFor();
    const clientId = (await byTest(page, 'cert-client-id').textContent())?.trim() ?? '';
    const clientSecret = (await byTest(page, 'cert-client-secret').textContent())?.trim() ?? '';
    const webhookSecret = (await byTest(page, 'cert-webhook-secret').textContent())?.trim() ?? '';
    expect(clientSecret).toMatch(/^fpcs_/);
    expect(webhookSecret).toMatch(/^whsec_/);

    // ---------------------------------------------------------------- step (a): into the sandbox
    const dispatcher = new Agent({ connect: { ca: h.portal.tls.ca } });
    try {
      const tokenRes = await request(`${h.portal.url}/oauth/token`, {
        method: 'POST',
        dispatcher,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=sandbox',
      });
      const { access_token } = (await tokenRes.body.json()) as { access_token: string };
      expect(tokenRes.statusCode).toBe(200);
      const body = JSON.stringify({
        type: 'certification.test',
        timestamp: new Date().toISOString(),
        data: { system: 'integrator-erp' },
      });
      const id = `msg_${run}`;
      const ts = Math.floor((Date.now() + h.clock.offsetMs) / 1000);
      const sent = await request(`${h.portal.url}/partner-api/v1/sandbox/events`, {
        method: 'POST',
        dispatcher,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${access_token}`,
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': signWebhook(webhookSecret, id, ts, body),
        },
        body,
      });
      expect(sent.statusCode).toBe(200);
      await sent.body.dump();
    } finally {
      await dispatcher.close();
    }
    await byTest(page, 'cert-refresh').click();
    await expect.poll(() => byTest(page, 'step-inbound').getAttribute('data-state')).toBe('passed');
    // The outcome in words (a stable code translated), not the developer's text.
    expect(await byTest(page, 'step-inbound-outcome').textContent()).toBe(
      'Das Test-Ereignis kam korrekt signiert an.',
    );
    expect(await byTest(page, 'step-inbound').textContent()).not.toMatch(/signature valid/);

    // ---------------------------------------------------------------- step (b): to the partner
    // First to a port nobody listens on: the step fails and says what to check.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = byTest(page, 'cert-webhook-form');
    await unreachable.locator('input[name=url]').fill(`http://127.0.0.1:${closedPort}/fluxel`);
    await unreachable.locator('button[type=submit]').click();
    await byTest(page, 'status').waitFor();
    await byTest(page, 'cert-send').click();
    await expect
      .poll(() => byTest(page, 'step-outbound-outcome').getAttribute('data-code'))
      .toBe('unreachable');
    expect(await byTest(page, 'step-outbound').getAttribute('data-state')).toBe('failed');
    expect(await byTest(page, 'step-outbound-outcome').textContent()).toBe(
      'Ihr Webhook war nicht erreichbar: Prüfen Sie Adresse, DNS und Firewall.',
    );
    expect(await byTest(page, 'step-outbound').textContent()).not.toMatch(/ECONNREFUSED/);

    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const valid = verifyWebhook(
          webhookSecret,
          req.headers,
          text,
          Date.now() + h.clock.offsetMs,
        ).ok;
        received.push({ valid, type: (JSON.parse(text) as { type?: string }).type });
        res.writeHead(valid ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => receiver?.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as { port: number }).port;
    const hook = byTest(page, 'cert-webhook-form');
    await hook.locator('input[name=url]').fill(`http://127.0.0.1:${port}/fluxel`);
    await hook.locator('button[type=submit]').click();
    await byTest(page, 'status').waitFor();
    // A new receiver starts step (b) over.
    await expect.poll(() => byTest(page, 'step-outbound').getAttribute('data-state')).toBe('open');
    await byTest(page, 'cert-send').click();
    await expect
      .poll(() => byTest(page, 'step-outbound').getAttribute('data-state'))
      .toBe('passed');
    expect(received).toEqual([{ valid: true, type: 'certification.test' }]);
    expect(await byTest(page, 'step-outbound-outcome').textContent()).toBe(
      'Ihr Webhook hat das Test-Ereignis angenommen (HTTP 204).',
    );
    expect(await byTest(page, 'cert-summary').getAttribute('data-certified')).toBe('true');
    expect(await a11yViolations(page)).toEqual([]);
    await shot(page, '26-partner-certification');

    // ---------------------------------------------------------------- production scopes
    await adminPage.reload();
    const partnerRow = byTest(adminPage, 'partner-row');
    await expect.poll(() => partnerRow.getAttribute('data-certified')).toBe('true');
    await partnerRow.getByTestId('grant').click();
    await expect.poll(() => partnerRow.locator('code').textContent()).toMatch(/licenses:read/);
    const { rows } = await h.portal.db.query(
      'SELECT scopes FROM portal_partner_clients WHERE id = $1',
      [clientId],
    );
    expect(String(rows[0]?.scopes).split(' ').sort()).toEqual([
      'events:read',
      'licenses:read',
      'sandbox',
      'webhooks:manage',
    ]);
    await partnerSide.context.close();
    await adminSide.context.close();
  });

  it('a customer requests key-user rights; a key user approves; the role changes at once', async () => {
    const { h } = b;
    const tenant = `acme-${run}`;
    await h.portal.createTenant(tenant, 'Acme GmbH', 'customer');
    const keySide = await b.newPage();
    await acceptInvitation(
      h,
      keySide.page,
      await h.portal.invite(`key-${run}@acme.test`, 'key-user', tenant),
      'Kim Key',
    );
    await byTest(keySide.page, 'recovery-saved').click();
    const customerSide = await b.newPage();
    const page = customerSide.page;
    await acceptInvitation(
      h,
      page,
      await h.portal.invite(`carla-${run}@acme.test`, 'customer', tenant),
      'Carla Kundin',
    );
    await byTest(page, 'recovery-saved').click();
    await byTest(page, 'nav-rights').click();
    const form = byTest(page, 'rights-form');
    await form.waitFor();
    expect(await byTest(page, 'nav-users').count()).toBe(0);
    await form.locator('select[name=role]').selectOption('key-user');
    await form.locator('input[name=reason]').fill('Ich pflege ab Januar die Zugangsdaten.');
    await byTest(page, 'rights-submit').click();
    await expect
      .poll(() => byTest(page, 'rights-mine').locator('li').getAttribute('data-status'))
      .toBe('pending');
    expect(await a11yViolations(page)).toEqual([]);

    const keyPage = keySide.page;
    await byTest(keyPage, 'nav-rights').click();
    const row = byTest(keyPage, 'rights-row').filter({ hasText: 'Carla Kundin' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Ich pflege ab Januar die Zugangsdaten.');
    expect(await a11yViolations(keyPage)).toEqual([]);
    await shot(keyPage, '27-rights-approval');
    await row.locator('input[name=note]').fill('Willkommen');
    await row.getByTestId('rights-approve').click();
    await expect.poll(() => byTest(keyPage, 'rights-row').count()).toBe(0);

    // The customer's open session: the next load shows the new role and its pages.
    await page.reload();
    await byTest(page, 'nav-users').waitFor();
    expect(await byTest(page, 'rights-current').textContent()).toMatch(/Key-User/);
    await h.smtp.waitFor(
      (m) => m.to.includes(`carla-${run}@acme.test`) && /genehmigt/.test(m.subject),
    );
    await customerSide.context.close();
    await keySide.context.close();
  });
});
