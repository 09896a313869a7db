/**
 * The certificates page in Debian's Chromium (playwright-core) against Pebble: an administrator
 * enters the domain and the e-mail, requests the certificate, watches the progress, sees the
 * certificate (issued by Pebble, files in the letsencrypt/…/orders/<id>/ layout), evaluates it
 * green and deletes it (with confirmation).
 *
 * Trust: the harness's Chromium trusts only the dev certificate's SPKI. After the hot swap the
 * portal presents Pebble's leaf to every new connection, and Pebble makes the leaf key only
 * while ordering. So this test launches its own Chromium that also trusts the SPKIs of
 * Pebble's intermediate and root (known once Pebble runs): `--ignore-certificate-errors-spki-list`
 * accepts a chain when any certificate in it has a listed key, so the page keeps working on
 * new connections before, during and after the swap, and again after the delete.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { missingDependency } from '@fluxel/internal/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Pebble,
  pebbleAvailable,
  startPebble,
} from '../../../packages/acme-lite/test/pebble-harness.ts';
import {
  a11yViolations,
  type BrowserHarness,
  byTest,
  CHROMIUM,
  chromiumAvailable,
  shot,
  signInWithTotp,
  startBrowserHarness,
} from './browser-helpers.ts';
import type { PortalHarness } from './helpers.ts';

const available = chromiumAvailable();
const skip =
  !available ||
  (pebbleAvailable()
    ? false
    : !!missingDependency(
        'pebble, pebble-challtestsrv and openssl',
        'apt-get install pebble openssl',
      ));

const DOMAIN = 'portal.localhost';

const spki = (pem: string) =>
  createHash('sha256')
    .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');

/** The serial a fresh TLS connection to the portal is shown (lower-case hex). */
/** The CAs this test trusts: the dev CA and Pebble's root (set once Pebble runs). */
let trusted: string[] = [];

function servedSerial(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Verified against the test CAs explicitly (never with verification off).
    const socket = connect({ host: '127.0.0.1', port, servername, ca: trusted });
    socket.once('secureConnect', () => {
      resolve(
        socket
          .getPeerCertificate()
          .serialNumber.toLowerCase()
          .replace(/^0+(?=.)/, ''),
      );
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

let pebble: Pebble;
let b: BrowserHarness;
let h: PortalHarness;
let browser: Browser;
const env = { ...process.env };

beforeAll(async () => {
  if (skip) return;
  pebble = await startPebble();
  const root = await pebble.root();
  const listener = new Agent({ connect: { ca: pebble.listenerCa } });
  const intermediate = await (
    await undiciFetch(`${pebble.managementUrl}/intermediates/0`, { dispatcher: listener })
  ).text();
  await listener.close();
  process.env.PORTAL_ACME_DIRECTORY = pebble.directoryUrl;
  process.env.PORTAL_ACME_CA = pebble.listenerCa;
  process.env.PORTAL_HTTP01_PORT = String(pebble.httpPort);
  process.env.PORTAL_HTTP01_HOST = '127.0.0.1';
  process.env.PORTAL_EVALUATE_HOST = '127.0.0.1';
  process.env.PORTAL_EVALUATE_CA = root;
  b = await startBrowserHarness();
  h = b.h;
  trusted = [h.portal.tls.ca, root];
  process.env.PORTAL_EVALUATE_PORT = String(h.portal.port);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${[h.portal.tls.cert, intermediate, root].map(spki).join(',')}`,
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await b?.close();
  await pebble?.stop();
  process.env = env;
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({
    locale: 'de-DE',
    viewport: { width: 1280, height: 860 },
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  return page;
}

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
    await expect
      .poll(() => order.getAttribute('data-state'), { timeout: 30_000 })
      .toBe('installed');

    // The certificate: issued by Pebble for the domain, files in the acme-lite layout.
    const details = byTest(page, 'cert-details');
    await expect.poll(() => details.getAttribute('data-source'), { timeout: 10_000 }).toBe('acme');
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
    await result.waitFor({ timeout: 15_000 });
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
