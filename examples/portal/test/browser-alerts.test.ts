/**
 * The alerts inbox in Chromium (issue 19, last mile 5): brute force on a customer's account and
 * the relay's second-activation alert appear with their severity, who or what in words (name
 * and e-mail, the license's product — no ids, no "Erfolg"), and how the IP is shown (the
 * privacy policy's pseudonym); the administrator sees the open count in the navigation and on
 * the dashboard, acknowledges and resolves; the audit page shows an alert's severity instead of
 * an outcome.
 * Screenshot `32-alerts.png`.
 */
import { describe, expect, it } from 'vitest';
import {
  a11yViolations,
  byTest,
  setUpBrowserHarness,
  shot,
  signInWithTotp,
} from './browser-helpers.ts';
import type { PortalHarness, SignedUp } from './helpers.ts';

let admin: SignedUp;

/** Acme's administrator and customer; brute force on hers, a license activated twice. */
async function setup({ h }: { h: PortalHarness }): Promise<void> {
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  await h.signUp('erika@acme.test', 'customer', 'acme', 'Erika Mustermann');
  // Brute force on Erika's account.
  const attacker = h.client();
  await attacker.session();
  for (let i = 0; i < 5; i++)
    await attacker.post('/api/auth/login', { email: 'erika@acme.test', password: 'falsch' });
  await h.portal.audit.alerts.settled();
  await h.portal.db.query('DELETE FROM portal_throttle');
  // A license of Acme activated twice: the relay raises its critical alert.
  const created = await admin.client.post<{ licenseKey: string }>('/api/licenses', {
    tenantId: 'acme',
    product: 'wawi-sync',
  });
  if (created.status !== 200) throw new Error(created.text);
  await h.activate(created.body.licenseKey);
  await h.activate(created.body.licenseKey).catch(() => undefined);
  await h.relay.alerts?.settled();
}

const b = setUpBrowserHarness({ setup });

describe.skipIf(!b.available)('alerts inbox in Chromium', () => {
  it('shows severity and who/what in words, counts open alerts, acknowledges and resolves', async () => {
    const { context, page } = await b.newPage();
    await signInWithTotp(b.h, page, 'admin@fluxel.test', admin.secret);
    // The open count on the dashboard and in the navigation.
    await page.goto(`${b.h.portal.url}/`);
    await expect.poll(() => byTest(page, 'dashboard-alerts-count').textContent()).toMatch(/2/);
    await expect.poll(() => byTest(page, 'nav-alerts-count').getAttribute('data-count')).toBe('2');
    await byTest(page, 'dashboard-alerts-count').click();
    await page.waitForURL(/\/alerts$/);

    const table = byTest(page, 'alerts-table');
    await table.waitFor();
    const brute = table.locator('tr[data-kind="brute-force-account"]');
    await expect.poll(() => brute.count()).toBe(1);
    const bruteText = (await brute.textContent()) ?? '';
    expect(bruteText).toContain('Erika Mustermann');
    expect(bruteText).toContain('erika@acme.test');
    expect(bruteText).toContain('Hoch');
    expect(bruteText).toContain('Acme GmbH');
    expect(bruteText).not.toContain('Erfolg');
    expect(bruteText).not.toMatch(/usr_/);
    expect(await brute.getAttribute('data-severity')).toBe('high');

    const second = table.locator('tr[data-kind="second-activation"]');
    await expect.poll(() => second.count()).toBe(1);
    const secondText = (await second.textContent()) ?? '';
    expect(secondText).toContain('Kritisch');
    expect(secondText).toContain('wawi-sync');
    expect(secondText).toContain('Relay');
    // Critical first.
    expect(await table.locator('tbody tr').first().getAttribute('data-kind')).toBe(
      'second-activation',
    );
    // Which privacy rule decides what is shown of an IP address.
    expect(await byTest(page, 'alerts-ip-policy').textContent()).toMatch(
      /Pseudonym.*Art\. 6 Abs\. 1 lit\. f/s,
    );
    await shot(page, '32-alerts');
    expect(await a11yViolations(page)).toEqual([]);

    await brute.getByTestId('alert-acknowledge').click();
    await expect.poll(() => brute.getAttribute('data-state')).toBe('acknowledged');
    expect(await brute.textContent()).toContain('Ada Admin');
    await expect.poll(() => byTest(page, 'nav-alerts-count').getAttribute('data-count')).toBe('1');
    await brute.getByTestId('alert-resolve').click();
    await expect.poll(() => brute.count()).toBe(0);
    await page.locator('select[name=state]').selectOption('resolved');
    const resolved = table.locator('tr[data-kind="brute-force-account"]');
    await expect.poll(() => resolved.getAttribute('data-state')).toBe('resolved');
    expect(await resolved.textContent()).toContain('Ada Admin');

    // The audit page shows the alert's severity, not the outcome "Erfolg".
    await page.goto(`${b.h.portal.url}/audit`);
    const alertRow = page.locator('tr[data-action="alert.brute-force-account"]');
    await expect.poll(() => alertRow.count()).toBe(1);
    const cells = (await alertRow.textContent()) ?? '';
    expect(cells).toContain('Hoch');
    expect(cells).not.toContain('Erfolg');
    await context.close();
  });
});
