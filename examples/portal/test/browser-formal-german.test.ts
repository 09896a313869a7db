/**
 * The German pages as Chromium renders them address people as "Sie": the sign-in page, the
 * invitation, the enrolment of the second factor with the recovery codes, the dashboard of a
 * fresh account and the second sign-in step with an error. Every line of the visible text
 * (`document.body.innerText`) goes through the detector of `german-formal.ts`, so texts put
 * together on the page (placeholders filled in, notices) are covered as well as the
 * dictionaries.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { byTest, setUpBrowserHarness } from './browser-helpers.ts';
import { describeOffenders } from './german-formal.ts';
import { code, PASSWORD, type PortalHarness } from './helpers.ts';

let h: PortalHarness;
const EMAIL = 'erika@acme.test';

const b = setUpBrowserHarness({
  setup: async (started) => {
    h = started.h;
    await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  },
});

/** What a person sees: innerText skips hidden elements and keeps the line breaks. */
const visibleText = (page: Page) =>
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
  page.evaluate(() => document.body.innerText);

/** The informal lines of the page's visible text, each named by the page and its line. */
async function informalLines(page: Page, name: string): Promise<string[]> {
  expect(await page.locator('html').getAttribute('lang')).toBe('de');
  const text = await visibleText(page);
  return describeOffenders(
    text
      .split('\n')
      .map((line, i): [string, string] => [`${name} line ${i + 1}`, line.trim()])
      .filter(([, line]) => line !== ''),
  );
}

describe.skipIf(!b.available)('German pages in Chromium', () => {
  it('sign-in, invitation, enrolment, dashboard and the second step show no du-form', async () => {
    const { context, page } = await b.newPage();
    const offenders: string[] = [];
    const check = async (name: string, expected: string) => {
      // The expected formal sentence proves the page is rendered (and in German).
      await expect.poll(() => visibleText(page)).toContain(expected);
      offenders.push(...(await informalLines(page, name)));
    };

    await page.goto(`${h.portal.url}/login`);
    await byTest(page, 'login-form').waitFor();
    await check('sign-in', 'Melden Sie sich mit Ihrer E-Mail-Adresse');

    const token = await h.portal.invite(EMAIL, 'customer', 'acme');
    await page.goto(`${h.portal.url}/invite/${token}`);
    await byTest(page, 'invitation').waitFor();
    await check('invitation', 'Sie wurden zum Fluxel-Portal');
    await page.locator('input[name=name]').fill('Erika Muster');
    await page.locator('input[name=password]').fill(PASSWORD);
    await byTest(page, 'invite-accept').click();

    await byTest(page, 'totp-start').waitFor();
    await check('enrolment', 'richten Sie bitte einen zweiten Faktor ein');
    await byTest(page, 'totp-start').click();
    const form = byTest(page, 'totp-form');
    await form.waitFor();
    await check('authenticator setup', 'Scannen Sie diesen QR-Code');
    const secret = ((await byTest(page, 'totp-secret').textContent()) ?? '').replace(/\s/g, '');
    await form.locator('input[name=code]').fill(code(h, secret));
    await byTest(page, 'totp-confirm').click();
    await byTest(page, 'recovery-codes').waitFor();
    await check('recovery codes', 'Bewahren Sie diese Codes sicher auf');
    await byTest(page, 'recovery-saved').click();

    await byTest(page, 'logout').waitFor();
    await check('dashboard', 'Sie haben nur einen zweiten Faktor');
    await byTest(page, 'logout').click();
    await page.waitForURL(/\/login/);
    await page.locator('input[name=email]').fill(EMAIL);
    await page.locator('input[name=password]').fill(PASSWORD);
    await byTest(page, 'login-submit').click();
    await byTest(page, 'second-factor-form').waitFor();
    await byTest(page, 'method-totp').check();
    await page.locator('input[name=code]').fill('000000');
    await byTest(page, 'code-submit').click();
    await expect.poll(() => byTest(page, 'error').getAttribute('data-code')).toBe('invalid_code');
    await check('second step', 'Bestätigen Sie die Anmeldung jetzt mit Ihrem zweiten Faktor');

    expect(offenders).toEqual([]);
    await context.close();
  });
});
