/**
 * Refused input as people see it in Chromium: a weak password on the invitation page and a
 * malformed code in the second sign-in step show a translated sentence that says what to do
 * (German, formal), and none of the server's developer text — no policy code such as
 * `too_short`, no regular expression, no `path: message` pair.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { acceptInvitation, byTest, setUpBrowserHarness, shot } from './browser-helpers.ts';
import { PASSWORD, type PortalHarness } from './helpers.ts';

let h: PortalHarness;
const EMAIL = 'erika.muster@acme.test';

const b = setUpBrowserHarness({
  setup: async (started) => {
    h = started.h;
    await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  },
});

/** The error notice's visible text once it names `code` (`data-code`). */
async function errorText(page: Page, code: string): Promise<string> {
  const notice = byTest(page, 'error');
  await expect.poll(() => notice.getAttribute('data-code')).toBe(code);
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
  return notice.innerText();
}

/** Developer text that must never reach the page. */
const RAW = [
  /too_short|contains_identity|weak_password|invalid_format|\bcommon\b/,
  /\/\^|\[0-9A-Za-z-\]|must match pattern|Invalid string/,
  /\bcode:|\bpassword:/,
];

describe.skipIf(!b.available)('refused input in Chromium', () => {
  it('a weak password and a malformed code are said in words, not codes or patterns', async () => {
    const { context, page } = await b.newPage();
    const token = await h.portal.invite(EMAIL, 'customer', 'acme');

    await page.goto(`${h.portal.url}/invite/${token}`);
    await byTest(page, 'invitation').waitFor();
    await page.locator('input[name=name]').fill('Erika Muster');
    const weak: [string, string][] = [
      ['kurz', 'Das Passwort muss mindestens 12 Zeichen lang sein.'],
      ['Erika sagt Hallo 2026', 'Das Passwort darf weder Ihren Namen noch Ihre E-Mail-Adresse'],
      ['password1234', 'Dieses Passwort ist zu verbreitet oder leicht zu erraten.'],
    ];
    const texts: string[] = [];
    for (const [password, sentence] of weak) {
      await page.locator('input[name=password]').fill(password);
      await byTest(page, 'invite-accept').click();
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
      await expect.poll(() => byTest(page, 'error').innerText()).toContain(sentence);
      texts.push(await errorText(page, 'weak_password'));
    }
    await shot(page, '30-weak-password');

    // Enrol for real, sign out and type a code that is not one.
    await acceptInvitation(h, page, token, 'Erika Muster');
    await byTest(page, 'recovery-saved').click();
    await byTest(page, 'logout').click();
    await page.waitForURL(/\/login/);
    await page.locator('input[name=email]').fill(EMAIL);
    await page.locator('input[name=password]').fill(PASSWORD);
    await byTest(page, 'login-submit').click();
    await byTest(page, 'second-factor-form').waitFor();
    await byTest(page, 'method-totp').check();
    await page.locator('input[name=code]').fill('abc!');
    await byTest(page, 'code-submit').click();
    const malformed = await errorText(page, 'bad_request');
    expect(malformed).toContain(
      'Der Code besteht aus 6 bis 24 Buchstaben, Ziffern oder Bindestrichen.',
    );
    texts.push(malformed);
    await shot(page, '31-malformed-code');

    const leaks = texts.filter((text) => RAW.some((raw) => raw.test(text)));
    expect(leaks).toEqual([]);
    await context.close();
  });
});
