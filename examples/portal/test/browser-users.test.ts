/**
 * Users and licenses in Chromium, as the key user of a customer tenant meets them: pending
 * invitations listed on the users page, sent again (the old link then says it was replaced)
 * and revoked; and the device a license is bound to, with a "last seen" that follows the
 * relay. Screenshots `40-users-invitations.png`, `41-invitation-replaced.png`,
 * `42-license-device.png`.
 */
import { describe, expect, it } from 'vitest';
import { OPERATOR_TENANT } from '../src/server/context.ts';
import {
  a11yViolations,
  byTest,
  setUpBrowserHarness,
  shot,
  signInWithTotp,
} from './browser-helpers.ts';
import type { PortalHarness, SignedUp } from './helpers.ts';

let h: PortalHarness;
let admin: SignedUp;
let keyUser: SignedUp;

/** The token of the newest invitation link mailed to `email` after `before` mails. */
async function mailedToken(email: string, before: number): Promise<string> {
  const mail = await h.smtp.waitFor(
    (m) =>
      m.to.includes(email) && h.smtp.messages.indexOf(m) >= before && /\/invite\//.test(m.text),
  );
  return /\/invite\/([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] as string;
}

const b = setUpBrowserHarness({
  setup: async (started) => {
    h = started.h;
    await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
    admin = await h.signUp('admin@fluxel.test', 'administrator', OPERATOR_TENANT, 'Ada Admin');
    keyUser = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kai Key');
  },
});

describe.skipIf(!b.available)('users and licenses in Chromium', () => {
  it('pending invitations: listed, sent again (the old link says it was replaced), revoked', async () => {
    const { context, page } = await b.newPage();
    await signInWithTotp(h, page, 'key@acme.test', keyUser.secret);
    await page.goto(`${h.portal.url}/users`);
    await page.getByText('Keine offenen Einladungen.').waitFor();

    // Invited on the page: the invitation appears in the pending list at once.
    let before = h.smtp.messages.length;
    const form = byTest(page, 'invite-form');
    await form.locator('input[name=email]').fill('neu@acme.test');
    await form.locator('select[name=role]').selectOption('customer');
    await byTest(page, 'invite-submit').click();
    const firstToken = await mailedToken('neu@acme.test', before);
    const row = page.locator('tr[data-email="neu@acme.test"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('Kai Key');
    expect(await row.getByTestId('invitation-expiry').getAttribute('data-expired')).toBe('false');
    await form.locator('input[name=email]').fill('zweite@acme.test');
    await byTest(page, 'invite-submit').click();
    await page.locator('tr[data-email="zweite@acme.test"]').waitFor();
    await shot(page, '40-users-invitations');
    expect(await a11yViolations(page)).toEqual([]);

    // Sent again: a new mail with a new link; the row now holds the new invitation.
    const firstId = await row.getAttribute('data-invitation-id');
    before = h.smtp.messages.length;
    await row.getByTestId('invitation-resend').click();
    const secondToken = await mailedToken('neu@acme.test', before);
    expect(secondToken).not.toBe(firstToken);
    await expect.poll(() => row.getAttribute('data-invitation-id')).not.toBe(firstId);
    await page.getByText(/erneut gesendet/).waitFor();

    // Revoked after a confirmation: gone from the list.
    const second = page.locator('tr[data-email="zweite@acme.test"]');
    await second.getByTestId('invitation-revoke').click();
    await second.getByTestId('invitation-revoke-confirm').waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await second.getByTestId('invitation-revoke-yes').click();
    await expect.poll(() => second.count()).toBe(0);
    await context.close();

    // The old link says it was replaced and what to do; the new one works.
    const visitor = await b.newPage();
    await visitor.page.goto(`${h.portal.url}/invite/${firstToken}`);
    const error = byTest(visitor.page, 'error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('invitation_replaced');
    expect(await error.textContent()).toMatch(/erneut versendet.*neuesten Einladungs-E-Mail/s);
    await shot(visitor.page, '41-invitation-replaced');
    expect(await a11yViolations(visitor.page)).toEqual([]);
    await visitor.page.goto(`${h.portal.url}/invite/${secondToken}`);
    await byTest(visitor.page, 'invitation').waitFor();
    await visitor.context.close();
  });

  it('the license owner sees the bound device and a "last seen" that follows the relay', async () => {
    const created = await admin.client.post<{ license: { id: string }; licenseKey: string }>(
      '/api/licenses',
      { tenantId: 'acme', product: 'wawi-sync' },
    );
    expect(created.status).toBe(200);
    const id = created.body.license.id;
    const { context, page } = await b.newPage();
    await signInWithTotp(h, page, 'key@acme.test', keyUser.secret);
    await page.goto(`${h.portal.url}/licenses/${id}`);
    const device = byTest(page, 'license-device');
    await device.waitFor();
    expect(await device.getAttribute('data-bound')).toBe('false');

    const client = await h.activate(created.body.licenseKey);
    await page.reload();
    await expect.poll(() => device.getAttribute('data-bound')).toBe('true');
    const lastSeen = byTest(page, 'device-last-seen');
    const first = (await lastSeen.getAttribute('data-last-seen')) as string;
    expect(Date.parse(first)).toBeGreaterThan(Date.now() - 60_000);
    expect(await lastSeen.textContent()).toMatch(/jetzt|vor \d+ Sekunden?/);
    // The key user does not manage devices: no key thumbprint.
    expect(await device.textContent()).not.toMatch(/Fingerabdruck/);
    await shot(page, '42-license-device');
    expect(await a11yViolations(page)).toEqual([]);

    // The device renews its access later; the open page follows without a reload.
    await new Promise((done) => setTimeout(done, 1100));
    await client.refreshToken({ body: {} });
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await expect
      .poll(async () => Date.parse((await lastSeen.getAttribute('data-last-seen')) ?? ''))
      .toBeGreaterThan(Date.parse(first));
    await context.close();
  });
});
