/**
 * SSO in Chromium against the local IdPs: "Sign in with Local OIDC" (oidc-provider's sign-in
 * page, code + PKCE) with and without MFA at the IdP, and "Sign in with Local SAML" (a signed
 * assertion POSTed cross-site to the ACS). The session cookie is SameSite=Strict: the tests show
 * the portal is signed in after the return, i.e. the same-site hop works.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { a11yViolations, byTest, chromiumAvailable, shot } from './browser-helpers.ts';
import { code, type SignedUp } from './helpers.ts';
import { IDP_PASSWORD, OIDC_ID, SAML_ID, type SsoHarness, startSsoHarness } from './sso-harness.ts';

const available = chromiumAvailable();
let s: SsoHarness;
let erika: SignedUp;

beforeAll(async () => {
  if (!available) return;
  s = await startSsoHarness({
    browser: true,
    trustMfa: true,
    mapping: { rules: [{ emailDomain: 'acme.test', tenant: 'acme', role: 'customer' }] },
    oidcAccounts: [
      {
        sub: 'oidc-erika',
        email: 'erika@acme.test',
        emailVerified: true,
        name: 'Erika',
        password: IDP_PASSWORD,
      },
    ],
    samlUsers: [
      { nameId: 'saml-erika', email: 'erika@acme.test', name: 'Erika', password: IDP_PASSWORD },
    ],
  });
  await s.h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  erika = await s.h.signUp('erika@acme.test', 'customer', 'acme', 'Erika Mustermann');
});

afterAll(async () => {
  await s?.close();
});

async function idpSignIn(page: Page, submit: string, mfa: boolean): Promise<void> {
  await page.locator('input[name=email]').fill('erika@acme.test');
  await page.locator('input[name=password]').fill(IDP_PASSWORD);
  if (mfa) await page.locator('input[name=mfa]').check();
  await byTest(page, submit).click();
}

describe.skipIf(!available)('SSO in Chromium', () => {
  it('shows one button per provider on the login page', async () => {
    const { context, page } = await s.newPage();
    await page.goto(`${s.h.portal.url}/login`);
    await byTest(page, `sso-${OIDC_ID}`).waitFor();
    expect(await byTest(page, `sso-${OIDC_ID}`).textContent()).toBe('Anmelden mit Local OIDC');
    expect(await byTest(page, `sso-${SAML_ID}`).textContent()).toBe('Anmelden mit Local SAML');
    await byTest(page, 'login-submit').waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await shot(page, 'sso-login');
    await context.close();
  });

  it('OIDC with MFA at the IdP: signed in at once', async () => {
    const { context, page } = await s.newPage();
    await page.goto(`${s.h.portal.url}/login`);
    await byTest(page, `sso-${OIDC_ID}`).click();
    await page.waitForURL((u) => u.href.startsWith(s.oidc.issuer));
    await idpSignIn(page, 'idp-submit', true);
    await byTest(page, 'logout').waitFor();
    expect(new URL(page.url()).origin).toBe(s.h.portal.origin);
    await context.close();
  });

  it('OIDC without MFA: lands on the second-factor step, then signs in with TOTP', async () => {
    const { context, page } = await s.newPage();
    await page.goto(`${s.h.portal.url}/login`);
    await byTest(page, `sso-${OIDC_ID}`).click();
    await page.waitForURL((u) => u.href.startsWith(s.oidc.issuer));
    await idpSignIn(page, 'idp-submit', false);
    await byTest(page, 'second-factor-form').waitFor();
    await byTest(page, 'method-totp').check();
    s.h.clock.offsetMs += 30_000;
    await page.locator('input[name=code]').fill(code(s.h, erika.secret));
    await byTest(page, 'code-submit').click();
    await byTest(page, 'logout').waitFor();
    await context.close();
  });

  it('SAML: signed assertion posted back; second factor still required without MFA', async () => {
    const { context, page } = await s.newPage();
    await page.goto(`${s.h.portal.url}/login`);
    await byTest(page, `sso-${SAML_ID}`).click();
    await page.waitForURL((u) => u.href.startsWith(s.saml.ssoUrl));
    await idpSignIn(page, 'saml-idp-submit', false);
    await byTest(page, 'second-factor-form').waitFor();
    await context.close();
  });

  it('SAML with MFA (AuthnContextClassRef) and trusted: signed in at once', async () => {
    const { context, page } = await s.newPage();
    await page.goto(`${s.h.portal.url}/login`);
    await byTest(page, `sso-${SAML_ID}`).click();
    await page.waitForURL((u) => u.href.startsWith(s.saml.ssoUrl));
    await idpSignIn(page, 'saml-idp-submit', true);
    await byTest(page, 'logout').waitFor();
    await shot(page, 'sso-saml-signed-in');
    await context.close();
  });

  it('a replayed SAML assertion (posted a second time) is refused', async () => {
    const { context, page } = await s.newPage();
    await page.goto(`${s.h.portal.url}/login`);
    await byTest(page, `sso-${SAML_ID}`).click();
    await page.waitForURL((u) => u.href.startsWith(s.saml.ssoUrl));
    // Capture the auto-posted form's response, then post it again from the IdP page.
    const posted = page.waitForRequest((r) => r.url().includes(`/sso/saml/${SAML_ID}/acs`));
    await idpSignIn(page, 'saml-idp-submit', true);
    const body = (await posted).postData() ?? '';
    await byTest(page, 'logout').waitFor();
    await context.close();
    // The same SAMLResponse posted again by another browser (a top-level cross-site POST).
    const samlResponse = new URLSearchParams(body).get('SAMLResponse') ?? '';
    expect(samlResponse).not.toBe('');
    const other = await s.newPage();
    await other.page.setContent(
      `<form method="post" action="${s.h.portal.url}/sso/saml/${SAML_ID}/acs"><input type="hidden" name="SAMLResponse" value="${samlResponse}"><button id="again">again</button></form>`,
    );
    const replay = other.page.waitForResponse((r) => r.url().includes(`/sso/saml/${SAML_ID}/acs`));
    await other.page.locator('#again').click();
    expect((await replay).status()).toBe(401);
    await byTest(other.page, 'sso-failed').waitFor();
    await other.context.close();
  });

  it('a refused return shows the error on the login page', async () => {
    const { context, page } = await s.newPage();
    await page.goto(`${s.h.portal.url}/sso/oidc/${OIDC_ID}/callback?code=x&state=forged`);
    await byTest(page, 'sso-failed').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.close();
  });
});
