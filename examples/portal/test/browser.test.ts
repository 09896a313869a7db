/**
 * The portal in a real browser: Debian's Chromium driven by playwright-core (never a downloaded
 * browser), against the real server, relay, SMTP sink and SMS sink. Chromium trusts the dev
 * certificate by its SPKI pin, so the page is a secure context and WebAuthn works with
 * Chromium's virtual authenticator. With FLUXEL_SCREENSHOTS=1 every main page is saved to
 * `screenshots/` (`pnpm --filter @fluxel-example/portal screenshots`).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  a11yViolations,
  acceptInvitation as accept,
  byTest,
  setUpBrowserHarness,
  shot,
  signInWithTotp as signIn,
} from './browser-helpers.ts';
import { code, PASSWORD, type PortalHarness } from './helpers.ts';

let h: PortalHarness;
let adminSecret = '';

const b = setUpBrowserHarness({
  setup: async (started) => {
    h = started.h;
    await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
    await h.portal.createTenant('globex', 'Globex AG', 'customer');
  },
});

const newPage = () => b.newPage();
const signInWithTotp = (page: Page, email: string, secret: string) =>
  signIn(h, page, email, secret);
const acceptInvitation = (page: Page, token: string, name: string) => accept(h, page, token, name);

describe.skipIf(!b.available)('portal in Chromium', () => {
  it('sign-up by invitation with TOTP enrolment, then the dashboard', async () => {
    const { context, page } = await newPage();
    const token = await h.portal.invite('admin@fluxel.test', 'administrator', 'fluxel-operator');
    await page.goto(`${h.portal.url}/invite/${token}`);
    await byTest(page, 'invitation').waitFor();
    await shot(page, '01-invitation');
    expect(await a11yViolations(page)).toEqual([]);
    adminSecret = await acceptInvitation(page, token, 'Ada Admin');
    await shot(page, '02-recovery-codes');
    const codes = await byTest(page, 'recovery-codes').innerText();
    expect(codes.match(/[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}/g)).toHaveLength(10);
    await byTest(page, 'recovery-saved').click();
    await expect.poll(() => page.locator('h1').innerText()).toMatch(/Hallo, Ada Admin/);
    await shot(page, '03-dashboard');
    expect(await a11yViolations(page)).toEqual([]);
    await context.close();
  });

  it('sign-in: a wrong code is refused, the right one signs in', async () => {
    const { context, page } = await newPage();
    await page.goto(`${h.portal.url}/login`);
    await shot(page, '04-login');
    expect(await a11yViolations(page)).toEqual([]);
    await page.locator('input[name=email]').fill('admin@fluxel.test');
    await page.locator('input[name=password]').fill(PASSWORD);
    await byTest(page, 'login-submit').click();
    await byTest(page, 'method-totp').check();
    await shot(page, '05-second-factor');
    expect(await a11yViolations(page)).toEqual([]);
    await page.locator('input[name=code]').fill('000000');
    await byTest(page, 'code-submit').click();
    await expect.poll(() => byTest(page, 'error').getAttribute('data-code')).toBe('invalid_code');
    h.clock.offsetMs += 30_000;
    await page.locator('input[name=code]').fill(code(h, adminSecret));
    await byTest(page, 'code-submit').click();
    await byTest(page, 'logout').waitFor();
    await context.close();
  });

  it('lockout after repeated wrong passwords is shown', async () => {
    await h.portal.invite('locked@acme.test', 'customer', 'acme');
    const { context, page } = await newPage();
    await page.goto(`${h.portal.url}/login`);
    const seen: string[] = [];
    for (let i = 0; i < 30 && !seen.includes('locked_out'); i++) {
      await page.locator('input[name=email]').fill('admin@fluxel.test');
      await page.locator('input[name=password]').fill(`falsches Passwort ${i}`);
      await byTest(page, 'login-submit').click();
      await expect.poll(() => byTest(page, 'error').count()).toBeGreaterThan(0);
      const c = (await byTest(page, 'error').getAttribute('data-code')) ?? '';
      seen.push(c);
      if (c === 'throttled') h.clock.offsetMs += 61_000;
      await page.waitForTimeout(20);
    }
    expect(seen).toContain('invalid_credentials');
    expect(seen.at(-1)).toBe('locked_out');
    await shot(page, '06-locked-out');
    // Let the administrator in again for the other tests.
    await h.portal.db.query('DELETE FROM portal_throttle');
    await context.close();
  });

  it('e-mail code: enrolled as the factor, read from the SMTP sink at sign-in', async () => {
    const token = await h.portal.invite('mail@acme.test', 'customer', 'acme');
    const { context, page } = await newPage();
    await page.goto(`${h.portal.url}/invite/${token}`);
    await page.locator('input[name=name]').fill('Mia Mail');
    await page.locator('input[name=password]').fill(PASSWORD);
    await byTest(page, 'invite-accept').click();
    await byTest(page, 'email-start').click();
    const enrolMail = await h.smtp.waitFor(
      (m) => m.to.includes('mail@acme.test') && /\d{6}/.test(m.text),
    );
    const enrolCode = /\b(\d{6})\b/.exec(enrolMail.text)?.[1] as string;
    await byTest(page, 'email-form').locator('input[name=code]').fill(enrolCode);
    await byTest(page, 'email-confirm').click();
    await byTest(page, 'recovery-saved').click();
    await byTest(page, 'logout').click();
    await page.waitForURL(/\/login/);
    const before = h.smtp.messages.length;
    await page.locator('input[name=email]').fill('mail@acme.test');
    await page.locator('input[name=password]').fill(PASSWORD);
    await byTest(page, 'login-submit').click();
    await byTest(page, 'method-email').check();
    h.clock.offsetMs += 31_000; // codes go out at most every 30 s
    await byTest(page, 'send-code-email').click();
    const mail = await h.smtp.waitFor(
      (m) =>
        m.to.includes('mail@acme.test') &&
        /\d{6}/.test(m.text) &&
        h.smtp.messages.indexOf(m) >= before,
    );
    const signInCode = /\b(\d{6})\b/.exec(mail.text)?.[1] as string;
    expect(signInCode).not.toBe(enrolCode);
    await page.locator('input[name=code]').fill(signInCode);
    await byTest(page, 'code-submit').click();
    await byTest(page, 'logout').waitFor();
    await context.close();
  });

  it('licenses: an administrator creates one for each of two tenants and locks one', async () => {
    const { context, page } = await newPage();
    await signInWithTotp(page, 'admin@fluxel.test', adminSecret);
    await page.goto(`${h.portal.url}/licenses`);
    await byTest(page, 'license-create-form').waitFor();
    await page.locator('select[name=tenantId]').selectOption('acme');
    await page.locator('input[name=product]').fill('wawi-sync');
    await byTest(page, 'license-create').click();
    const key = await byTest(page, 'license-key').innerText();
    expect(key.trim().length).toBeGreaterThan(20);
    await shot(page, '07-license-created');
    await page.locator('select[name=tenantId]').selectOption('globex');
    await page.locator('input[name=product]').fill('wawi-sync');
    await byTest(page, 'license-create').click();
    await byTest(page, 'license-key').waitFor();
    const rows = page.locator('tr[data-license-id]');
    await expect.poll(() => rows.count()).toBe(2);
    const globexRow = page.locator('tr[data-license-id]', { hasText: 'Globex' });
    await globexRow.getByTestId('license-lock-open').click();
    await page.locator('input[name=reason]').fill('Zahlung offen');
    await page.getByTestId('license-lock').click();
    await expect
      .poll(() => globexRow.getByTestId('license-status').getAttribute('data-status'))
      .toBe('locked');
    await shot(page, '08-licenses');
    expect(await a11yViolations(page)).toEqual([]);
    await page.goto(`${h.portal.url}/audit`);
    await byTest(page, 'audit-table').waitFor();
    await shot(page, '09-audit');
    expect(await a11yViolations(page)).toEqual([]);
    await page.goto(`${h.portal.url}/users`);
    await byTest(page, 'users-table').waitFor();
    await shot(page, '10-users');
    expect(await a11yViolations(page)).toEqual([]);
    await context.close();
  });

  it("licenses: a customer's key user sees only its tenant's license", async () => {
    const token = await h.portal.invite('key@acme.test', 'key-user', 'acme');
    const second = await newPage();
    const secret = await acceptInvitation(second.page, token, 'Kai Key');
    await byTest(second.page, 'recovery-saved').click();
    await second.page.goto(`${h.portal.url}/licenses`);
    await expect.poll(() => second.page.locator('tr[data-license-id]').count()).toBe(1);
    expect(await second.page.locator('tr[data-license-id]').innerText()).toContain('Acme');
    expect(secret).toMatch(/^[A-Z2-7]+$/);
    await second.context.close();
  });

  it('credentials: the form appears only after activation; the value is never shown', async () => {
    const created = await h.portal.db.query('SELECT 1');
    expect(created.rows).toHaveLength(1);
    const { context, page } = await newPage();
    await signInWithTotp(page, 'admin@fluxel.test', adminSecret);
    await page.goto(`${h.portal.url}/licenses`);
    await byTest(page, 'license-create-form').waitFor();
    await page.locator('select[name=tenantId]').selectOption('acme');
    await page.locator('input[name=product]').fill('shop-connector');
    await byTest(page, 'license-create').click();
    const key = (await byTest(page, 'license-key').innerText()).trim();
    const row = page.locator('tr[data-product="shop-connector"]');
    const id = (await row.getAttribute('data-license-id')) as string;
    await page.goto(`${h.portal.url}/licenses/${id}`);
    await byTest(page, 'credentials-unavailable').waitFor();
    await shot(page, '11-credentials-before-activation');
    await h.activate(key);
    await page.reload();
    const form = byTest(page, 'credentials-form');
    await form.waitFor();
    await form.locator('input[name=connection]').fill('shop-1');
    await form.locator('input[name=kind]').fill('api-key');
    await form.locator('input[name=fieldName]').first().fill('apiKey');
    await form.locator('input[name=fieldValue]').first().fill('geheimer-schluessel-42');
    await byTest(page, 'credentials-save').click();
    await page.locator('tr[data-connection="shop-1"]').waitFor();
    await shot(page, '12-credentials-set');
    expect(await a11yViolations(page)).toEqual([]);
    expect(await page.content()).not.toContain('geheimer-schluessel-42');
    await context.close();
  });

  it('credentials: replacing stored ones asks first; cancel keeps them, confirm replaces them', async () => {
    const { context, page } = await newPage();
    await signInWithTotp(page, 'admin@fluxel.test', adminSecret);
    await page.goto(`${h.portal.url}/licenses`);
    const row = page.locator('tr[data-product="shop-connector"]');
    const id = (await row.getAttribute('data-license-id')) as string;
    await page.goto(`${h.portal.url}/licenses/${id}`);
    // What the server holds for shop-1: field names and when it was set (values are never shown).
    const stored = () =>
      page.evaluate(async (url) => {
        const res = await fetch(url);
        const body = (await res.json()) as {
          connections: { connection: string; fieldNames: string[]; setAt: string }[];
        };
        return body.connections.find((c) => c.connection === 'shop-1');
      }, `/api/licenses/${id}/connections`);
    const before = await stored();
    expect(before?.fieldNames).toEqual(['apiKey']);
    await page.locator('tr[data-connection="shop-1"]').getByTestId('credentials-edit').click();
    const form = byTest(page, 'credentials-form');
    await expect.poll(() => form.locator('input[name=connection]').inputValue()).toBe('shop-1');
    await form.locator('input[name=fieldName]').first().fill('token');
    await form.locator('input[name=fieldValue]').first().fill('neuer-schluessel-43');
    await byTest(page, 'credentials-save').click();
    const confirm = byTest(page, 'credentials-replace-confirm');
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('überschrieben');
    expect(await a11yViolations(page)).toEqual([]);
    // Asking stored nothing; cancelling neither.
    expect(await stored()).toEqual(before);
    await byTest(page, 'credentials-replace-cancel').click();
    await expect.poll(() => confirm.count()).toBe(0);
    expect(await stored()).toEqual(before);
    // Asked again and confirmed: now the new fields are stored.
    await byTest(page, 'credentials-save').click();
    await byTest(page, 'credentials-replace').click();
    await expect.poll(async () => (await stored())?.fieldNames).toEqual(['token']);
    await expect
      .poll(() => page.locator('tr[data-connection="shop-1"]').textContent())
      .toContain('token');
    expect(await page.content()).not.toContain('neuer-schluessel-43');
    // A new connection has nothing to overwrite: it is stored without asking.
    await form.locator('input[name=connection]').fill('shop-2');
    await form.locator('input[name=fieldValue]').first().fill('zweiter-schluessel-44');
    await byTest(page, 'credentials-save').click();
    await page.locator('tr[data-connection="shop-2"]').waitFor();
    expect(await byTest(page, 'credentials-replace-confirm').count()).toBe(0);
    await context.close();
  });

  it('sessions: ending another session asks first; cancel keeps it, confirm ends it', async () => {
    const other = await newPage();
    await signInWithTotp(other.page, 'admin@fluxel.test', adminSecret);
    const mine = () =>
      other.page.evaluate(async () => {
        const res = await fetch('/api/me/sessions');
        if (res.status !== 200) return { status: res.status, id: undefined };
        const body = (await res.json()) as { sessions: { id: string; current: boolean }[] };
        return { status: res.status, id: body.sessions.find((s) => s.current)?.id };
      });
    const otherId = (await mine()).id as string;
    expect(otherId).toBeTruthy();

    const { context, page } = await newPage();
    await signInWithTotp(page, 'admin@fluxel.test', adminSecret);
    await page.goto(`${h.portal.url}/security`);
    const row = page.locator(`tr[data-session-id="${otherId}"]`);
    await row.waitFor();
    await row.getByTestId('session-end').click();
    const confirm = row.getByTestId('session-end-confirm');
    await confirm.waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    // Asking ended nothing; cancelling neither.
    expect(await mine()).toEqual({ status: 200, id: otherId });
    await row.getByTestId('session-end-cancel').click();
    await expect.poll(() => confirm.count()).toBe(0);
    expect(await mine()).toEqual({ status: 200, id: otherId });
    expect(await row.count()).toBe(1);
    // Confirmed: the row goes and the other browser is signed out.
    await row.getByTestId('session-end').click();
    await row.getByTestId('session-end-yes').click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await mine()).status).toBe(401);
    await context.close();
    await other.context.close();
  });

  it('sessions: a new password ends the other sessions, and the list shows it at once', async () => {
    const token = await h.portal.invite('sina@acme.test', 'customer', 'acme');
    const { context, page } = await newPage();
    const secret = await acceptInvitation(page, token, 'Sina Sitzung');
    await byTest(page, 'recovery-saved').click();
    const other = await newPage();
    await signInWithTotp(other.page, 'sina@acme.test', secret);
    await page.goto(`${h.portal.url}/security`);
    const rows = page.locator('[data-testid=sessions-table] tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const form = byTest(page, 'password-change-form');
    await form.locator('input[name=password]').fill('ein ganz neues Passwort 2026');
    await byTest(page, 'password-change').click();
    const dialog = byTest(page, 'reauth-dialog');
    await dialog.waitFor();
    await dialog.locator('input[name=password]').fill(PASSWORD);
    h.clock.offsetMs += 30_000;
    await dialog.locator('input[name=code]').fill(code(h, secret));
    await byTest(page, 'reauth-submit').click();
    // "Your other sessions have ended" — and the list no longer shows them as active.
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-current')).toBe('true');
    await other.page.reload();
    await other.page.waitForURL(/\/login/);
    await context.close();
    await other.context.close();
  });

  it('passkey: registered with the virtual authenticator, then a passwordless sign-in', async () => {
    const { context, page } = await newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    await signInWithTotp(page, 'admin@fluxel.test', adminSecret);
    await page.goto(`${h.portal.url}/security`);
    await byTest(page, 'factor-add-passkey').click();
    await byTest(page, 'passkey-register').click();
    // Adding a factor needs a fresh re-authentication; the app asks, then carries on.
    const dialog = byTest(page, 'reauth-dialog');
    await dialog.waitFor();
    await dialog.locator('input[name=password]').fill(PASSWORD);
    h.clock.offsetMs += 30_000;
    await dialog.locator('input[name=code]').fill(code(h, adminSecret));
    await byTest(page, 'reauth-submit').click();
    await expect.poll(() => page.locator('[data-factor-type=passkey]').count()).toBe(1);
    await shot(page, '13-security');
    expect(await a11yViolations(page)).toEqual([]);
    await byTest(page, 'logout').click();
    await page.waitForURL(/\/login/);
    await byTest(page, 'passkey-login').click();
    await byTest(page, 'logout').waitFor();
    const events = await h.portal.audit.query({ tenant: 'fluxel-operator', action: 'auth.signin' });
    expect(events.events[0]?.details).toMatchObject({ method: 'passkey' });
    await context.close();
  });

  it('the portal has a favicon: no 404 for it on every page load', async () => {
    const { context, page } = await newPage();
    const missing: string[] = [];
    page.on('response', (res) => {
      if (res.status() === 404) missing.push(new URL(res.url()).pathname);
    });
    await page.goto(`${h.portal.url}/login`);
    const href = await page.locator('link[rel=icon]').getAttribute('href');
    expect(href).toBe('/favicon.svg');
    const icon = await page.evaluate(async (url) => {
      const res = await fetch(url);
      return { status: res.status, type: res.headers.get('content-type') };
    }, String(href));
    expect(icon).toEqual({ status: 200, type: 'image/svg+xml' });
    expect(missing).toEqual([]);
    await context.close();
  });

  it('licenses of the same product are told apart in the list (id and issue date)', async () => {
    const { context, page } = await newPage();
    await signInWithTotp(page, 'admin@fluxel.test', adminSecret);
    await page.goto(`${h.portal.url}/licenses`);
    await byTest(page, 'license-create-form').waitFor();
    for (let i = 0; i < 2; i++) {
      await page.locator('select[name=tenantId]').selectOption('acme');
      await page.locator('input[name=product]').fill('twin-product');
      await byTest(page, 'license-create').click();
      await byTest(page, 'license-key').waitFor();
    }
    const twins = page.locator('tr[data-product=twin-product]');
    await expect.poll(() => twins.count()).toBe(2);
    const refs = await twins.getByTestId('license-ref').allInnerTexts();
    expect(refs).toHaveLength(2);
    expect(refs[0]).not.toBe(refs[1]);
    const [first, second] = await twins.evaluateAll((rows) =>
      rows.map((row) => (row.querySelector('th') as HTMLElement).innerText),
    );
    expect(first).not.toBe(second);
    expect(await a11yViolations(page)).toEqual([]);
    await context.close();
  });

  it("the language picked before signing in survives the sign-in and becomes the profile's", async () => {
    const { context, page } = await newPage();
    await page.goto(`${h.portal.url}/login`);
    await byTest(page, 'lang-en').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.locator('input[name=email]').fill('admin@fluxel.test');
    await page.locator('input[name=password]').fill(PASSWORD);
    await byTest(page, 'login-submit').click();
    await byTest(page, 'method-totp').check();
    h.clock.offsetMs += 30_000;
    await page.locator('input[name=code]').fill(code(h, adminSecret));
    await byTest(page, 'code-submit').click();
    await byTest(page, 'logout').waitFor();
    await expect.poll(() => page.locator('h1').innerText()).toMatch(/Hello, Ada Admin/);
    // It is the profile's language now: a new page load keeps it, from the server's side too.
    await page.reload();
    await expect.poll(() => page.locator('h1').innerText()).toMatch(/Hello, Ada Admin/);
    const me = await page.evaluate(
      async () => (await (await fetch('/api/me')).json()) as { locale: string },
    );
    expect(me.locale).toBe('en');
    // Back to German for the other tests (through the profile).
    await byTest(page, 'lang-de').click();
    await expect.poll(() => page.locator('h1').innerText()).toMatch(/Hallo, Ada Admin/);
    await context.close();
  });
});
