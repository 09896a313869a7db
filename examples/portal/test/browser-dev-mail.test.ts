/**
 * The dev start's mail viewer in Chromium (the harness with `devMailViewer`, as `dev.ts` wires
 * it): a password reset asked for on the page, the demo banner's link to the viewer, the mails
 * newest first with names people typed shown as text, and the links in them followed — the
 * reset to a new password, the invitation to its page. Screenshot `29-dev-mails.png`.
 */
import { describe, expect, it } from 'vitest';
import { OPERATOR_TENANT } from '../src/server/context.ts';
import { a11yViolations, byTest, setUpBrowserHarness, shot } from './browser-helpers.ts';

const b = setUpBrowserHarness({ harness: { devMailViewer: true } });

describe.skipIf(!b.available)('demo mail viewer in Chromium', () => {
  it('a reset link and an invitation: from the banner to the viewer, and on through the links', async () => {
    const { h } = b;
    await h.portal.createTenant('acme', 'Acme <i>GmbH</i>', 'customer');
    // A name with markup: the invitation mail carries it, the viewer must show it as text.
    const name = 'Ada <img src=x onerror="window.pwned=1"> Admin';
    const admin = await h.signUp('admin@fluxel.test', 'administrator', OPERATOR_TENANT, name);
    const invited = await admin.client.post('/api/invitations', {
      email: 'neu@acme.test',
      role: 'key-user',
      tenantId: 'acme',
    });
    expect(invited.status).toBe(200);
    await h.smtp.waitFor((m) => m.to.includes('neu@acme.test'));

    const { context, page } = await b.newPage();
    await page.goto(`${h.portal.url}/reset`);
    await byTest(page, 'dev-banner').waitFor();
    expect(await byTest(page, 'dev-banner').textContent()).toMatch(/verschickt keine E-Mails/);
    await page.locator('input[name=email]').fill('admin@fluxel.test');
    await byTest(page, 'reset-request').click();
    await byTest(page, 'status').waitFor();
    await h.smtp.waitFor((m) => m.to.includes('admin@fluxel.test'));

    await byTest(page, 'dev-banner-mails').click();
    await byTest(page, 'dev-mails').waitFor();
    expect(new URL(page.url()).pathname).toBe('/dev/mails');
    expect(await byTest(page, 'dev-mail-subject').allInnerTexts()).toEqual([
      'Fluxel: Passwort zurücksetzen',
      'Einladung zum Fluxel-Portal / Invitation to the Fluxel portal (Acme <i>GmbH</i>)',
    ]);
    expect(await byTest(page, 'dev-mail-to').allInnerTexts()).toEqual([
      'An: admin@fluxel.test',
      'An: neu@acme.test',
    ]);
    const [resetMail, invitation] = [
      byTest(page, 'dev-mail').nth(0),
      byTest(page, 'dev-mail').nth(1),
    ];
    expect(await invitation.getByTestId('dev-mail-text').textContent()).toContain(
      `${name} lädt Sie in das Fluxel-Portal ein`,
    );
    expect(await byTest(page, 'dev-mails').locator('img, i, script').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(await resetMail.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await a11yViolations(page)).toEqual([]);
    await shot(page, '29-dev-mails');

    // The reset mail's link, as a person would click it, to a new password.
    const resetLink = resetMail.getByTestId('dev-mail-link');
    expect(await resetLink.count()).toBe(1);
    expect(await resetLink.getAttribute('href')).toMatch(
      /^https:\/\/localhost:\d+\/reset\/[\w-]+$/,
    );
    await resetLink.click();
    await byTest(page, 'reset-form').waitFor();
    await page.locator('input[name=password]').fill('ein neues langes Passwort für den Test');
    await byTest(page, 'reset-submit').click();
    await byTest(page, 'reset-to-login').waitFor();

    // Back through the banner: the invitation's link opens the invitation.
    await byTest(page, 'dev-banner-mails').click();
    await byTest(page, 'dev-mails').waitFor();
    await byTest(page, 'dev-mail').nth(1).getByTestId('dev-mail-link').click();
    await byTest(page, 'invitation').waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/invite\/[\w-]+$/);
    await context.close();
  });
});
