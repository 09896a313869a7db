/**
 * The ADV page in Chromium: a key user opens /adv, sees the prompt, reads the agreement,
 * accepts it, and sees the acceptance details and the PDF link; the PDF downloads. The
 * processing register is shown as tables. Screenshot `20-adv.png` (FLUXEL_SCREENSHOTS=1).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  a11yViolations,
  acceptInvitation,
  byTest,
  setUpBrowserHarness,
  shot,
} from './browser-helpers.ts';

const b = setUpBrowserHarness({
  setup: ({ h }) => h.portal.createTenant('mueller', 'Müller & Söhne GmbH', 'customer'),
});

describe.skipIf(!b.available)('ADV in Chromium', () => {
  it('a key user accepts the agreement and gets the PDF; the register is shown', async () => {
    const { h } = b;
    const { context, page } = await b.newPage();
    const token = await h.portal.invite('key@mueller.test', 'key-user', 'mueller');
    await acceptInvitation(h, page, token, 'Jürgen Käßler');
    await byTest(page, 'recovery-saved').click();
    await byTest(page, 'nav-adv').click();
    await byTest(page, 'adv-needs-acceptance').waitFor();
    expect(await byTest(page, 'adv-needs-acceptance').textContent()).toContain('Fassung 1.0');
    expect(await byTest(page, 'adv-text').textContent()).toContain(
      'Der Auftragnehmer verarbeitet personenbezogene Daten ausschließlich',
    );
    expect(await byTest(page, 'adv-not-accepted').isVisible()).toBe(true);

    // The button needs the confirmation first (a required checkbox).
    await byTest(page, 'adv-accept').click();
    expect(await byTest(page, 'adv-acceptance').count()).toBe(0);
    await byTest(page, 'adv-confirm').check();
    await byTest(page, 'adv-accept').click();

    const facts = byTest(page, 'adv-acceptance');
    await facts.waitFor();
    expect(await byTest(page, 'adv-accepted-version').textContent()).toBe('1.0');
    expect(await byTest(page, 'adv-accepted-by').textContent()).toBe('Jürgen Käßler');
    expect(await facts.textContent()).toContain('127.0.0.1');
    expect(await byTest(page, 'adv-needs-acceptance').count()).toBe(0);
    expect(await byTest(page, 'adv-accept-form').count()).toBe(0);
    const link = byTest(page, 'adv-pdf');
    expect(await link.getAttribute('href')).toMatch(/^\/api\/adv\/acceptances\/adv_[\w-]+\/pdf$/);

    // The processing register: one table per activity, recipients, measures.
    await byTest(page, 'register-recipients').waitFor();
    expect(await byTest(page, 'register-activity').count()).toBeGreaterThan(3);
    expect(await byTest(page, 'register-recipients').textContent()).toContain(
      'SMS-Gateway-Anbieter',
    );
    await shot(page, '20-adv');
    expect(await a11yViolations(page)).toEqual([]);

    // The link downloads the PDF with the session cookie.
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const path = await download.path();
    expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-');
    expect(download.suggestedFilename()).toBe('ADV-mueller-1.0.pdf');

    // In English the page and the agreement switch language.
    await byTest(page, 'lang-en').click();
    await expect
      .poll(() => byTest(page, 'adv-text').textContent())
      .toContain('Data Processing Agreement');
    await context.close();
  });
});
