/**
 * The certificates page in Debian's Chromium (playwright-core) against Pebble: an administrator
 * enters the domain and the e-mail, requests the certificate, watches the progress, sees the
 * certificate (issued by Pebble, files in the letsencrypt/…/orders/<id>/ layout), evaluates it
 * green and deletes it (with confirmation).
 *
 * Trust: after the hot swap the portal presents Pebble's leaf to every new connection, and Pebble
 * makes the leaf key only while ordering. So the harness's Chromium trusts, besides the dev
 * certificate's SPKI, those of Pebble's intermediate and root (known once Pebble runs, which is
 * why Pebble starts in a hook registered before the harness): `--ignore-certificate-errors-spki-list`
 * accepts a chain when any certificate in it has a listed key, so the page keeps working on
 * new connections before, during and after the swap, and again after the delete.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  a11yViolations,
  byTest,
  chromiumAvailable,
  setUpBrowserHarness,
  shot,
  signInWithTotp,
} from './browser-helpers.ts';
import type { PortalHarness } from './helpers.ts';
import {
  DOMAIN,
  type PortalPebble,
  pebbleMissing,
  servedCertificate,
  startPortalPebble,
} from './pebble-portal.ts';

const skip = !chromiumAvailable() || !!pebbleMissing();

let acme: PortalPebble;
let intermediate: string;
let h: PortalHarness;

/** The serial a fresh TLS connection to the portal is shown, verified by the dev CA or Pebble's root. */
const servedSerial = async (port: number, servername: string): Promise<string> =>
  (await servedCertificate(port, [h.portal.tls.ca, acme.root], servername)).serial;

// Pebble first: the portal reads its ACME settings when it starts, Chromium needs Pebble's
// certificates. After-hooks run last-registered first, so Pebble stops after the harness.
beforeAll(async () => {
  if (skip) return;
  acme = await startPortalPebble();
  const listener = new Agent({ connect: { ca: acme.pebble.listenerCa } });
  intermediate = await (
    await undiciFetch(`${acme.pebble.managementUrl}/intermediates/0`, { dispatcher: listener })
  ).text();
  await listener.close();
});

afterAll(async () => {
  await acme?.stop();
});

const b = setUpBrowserHarness({
  available: !skip,
  trust: () => [intermediate, acme.root],
  setup: (started) => {
    h = started.h;
    acme.portalStarted(h.portal.port);
  },
});

const newPage = async () => (await b.newPage()).page;

describe.skipIf(skip)('certificates page in Chromium (Pebble)', () => {
  it('enter domain and e-mail, request, see the certificate, evaluate green, delete', async () => {
    const admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada');
    const page = await newPage();
    await signInWithTotp(h, page, 'admin@fluxel.test', admin.secret);
    await byTest(page, 'nav-certificates').click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Zertifikate');

    const state = byTest(page, 'tls-state');
    await expect.poll(() => state.getAttribute('data-state')).toBe('development');
    await expect.poll(() => byTest(page, 'cert-port').innerText()).toMatch(/Port 80/);
    expect(await byTest(page, 'cert-details').getAttribute('data-source')).toBe('development');
    expect(await a11yViolations(page)).toEqual([]);

    // "Request/renew" is enabled only once both fields are set.
    const request = byTest(page, 'cert-request');
    expect(await request.isDisabled()).toBe(true);
    await page.locator('input[name=address]').fill(DOMAIN);
    expect(await request.isDisabled()).toBe(true);
    await page.locator('input[name=email]').fill('ops@fluxel.test');
    expect(await request.isDisabled()).toBe(false);
    const before = await servedSerial(h.portal.port, 'localhost');

    await request.click();
    const order = byTest(page, 'order-state');
    await order.waitFor();
    await expect.poll(() => order.getAttribute('data-state')).toBe('installed');

    // The certificate: issued by Pebble for the domain, files in the acme-lite layout.
    const details = byTest(page, 'cert-details');
    await expect.poll(() => details.getAttribute('data-source')).toBe('acme');
    expect(await byTest(page, 'cert-sans').innerText()).toBe(DOMAIN);
    expect(await byTest(page, 'cert-issuer').innerText()).toMatch(/Pebble/i);
    expect(await byTest(page, 'cert-location').innerText()).toMatch(
      /\/letsencrypt\/1\.0\.0\.127_\d+\/orders\/[A-Za-z0-9_-]+\/$/,
    );
    expect(await byTest(page, 'cert-files').innerText()).toMatch(/cert\.pem\s+key\.pem/);
    expect(Number(await byTest(page, 'cert-days-left').innerText())).toBeGreaterThan(30);
    await expect.poll(() => state.getAttribute('data-state')).toBe('active');
    // Hot reload: a fresh TLS connection to the running portal is shown the new certificate.
    const serial = await byTest(page, 'cert-serial').innerText();
    expect(await servedSerial(h.portal.port, DOMAIN)).toBe(serial);
    expect(serial).not.toBe(before);
    await shot(page, '23-certificates');

    // Evaluate: green, with a clear message.
    await byTest(page, 'cert-evaluate').click();
    const result = byTest(page, 'evaluate-result');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await result.innerText()).toMatch(/Alles in Ordnung/);
    expect(await a11yViolations(page)).toEqual([]);

    // A reload runs over new connections that now see Pebble's certificate.
    await page.reload();
    await expect.poll(() => byTest(page, 'tls-state').getAttribute('data-state')).toBe('active');

    // Delete, with confirmation.
    await byTest(page, 'cert-delete').click();
    await byTest(page, 'cert-delete-confirm').waitFor();
    await byTest(page, 'cert-delete-yes').click();
    await expect
      .poll(() => byTest(page, 'tls-state').getAttribute('data-state'))
      .toBe('development');
    expect(await byTest(page, 'cert-details').getAttribute('data-source')).toBe('development');
    expect(await servedSerial(h.portal.port, 'localhost')).toBe(before);
    await byTest(page, 'cert-evaluate').click();
    await expect.poll(() => byTest(page, 'evaluate-result').getAttribute('data-ok')).toBe('false');
    await page.context().close();
  });
});
