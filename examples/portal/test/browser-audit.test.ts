/**
 * The audit page in Chromium (issue 19): the Fluxel administrator chooses "all tenants" and sees
 * an event of a customer tenant, filters by a user's e-mail and sees that user's events with
 * name, e-mail and the count, actions by their label and details as key: value lines, and
 * verifies the audit chain.
 * Screenshot `28-audit.png`.
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
let gustav: SignedUp;

/** Two customer tenants; the administrator creates and locks a license in Globex. */
async function setup({ h }: { h: PortalHarness }): Promise<void> {
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await h.portal.createTenant('globex', 'Globex AG', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  gustav = await h.signUp('gustav@globex.test', 'key-user', 'globex', 'Gustav Globus');
  // Events in Globex: the administrator creates and locks a license there.
  const created = await admin.client.post<{ license: { id: string } }>('/api/licenses', {
    tenantId: 'globex',
    product: 'wawi-sync',
    entitlements: ['orders'],
  });
  if (created.status !== 200) throw new Error(created.text);
  const locked = await admin.client.post(`/api/licenses/${created.body.license.id}/lock`, {
    reason: 'Zahlung offen',
  });
  if (locked.status !== 200) throw new Error(locked.text);
}

const b = setUpBrowserHarness({ setup });

describe.skipIf(!b.available)('audit page in Chromium', () => {
  it('all tenants shows other tenants; the e-mail filter finds the events and counts them', async () => {
    const { context, page } = await b.newPage();
    await signInWithTotp(b.h, page, 'admin@fluxel.test', admin.secret);
    await page.goto(`${b.h.portal.url}/audit`);
    await byTest(page, 'audit-table').waitFor();
    const form = byTest(page, 'audit-filters');
    // "All tenants", explicitly chosen: an event of the customer Globex appears, by its label.
    await expect
      .poll(() => form.locator('select[name=tenantId] option').count())
      .toBeGreaterThan(2);
    await form.locator('select[name=tenantId]').selectOption('');
    await byTest(page, 'audit-search').click();
    const lockRow = page.locator('tr[data-action="license.locked"]');
    await expect.poll(() => lockRow.count()).toBe(1);
    expect(await lockRow.locator('[data-tenant]').getAttribute('data-tenant')).toBe('globex');
    expect(await lockRow.textContent()).toContain('Globex AG');
    expect(await lockRow.locator('th').textContent()).toContain('Lizenz gesperrt');
    expect(await lockRow.getByTestId('audit-actor').textContent()).toContain('Ada Admin');
    // Details as key: value lines, not JSON.
    const details = lockRow.getByTestId('audit-details');
    expect(await details.locator('[data-key=reason]').textContent()).toBe('reason: Zahlung offen');
    expect(await details.locator('pre').count()).toBe(0);
    expect(await byTest(page, 'audit-count').textContent()).toMatch(/^\d+ Ereignisse$/);

    // The actor filter takes the e-mail the hint offers.
    await form.locator('input[name=actor]').fill('gustav@globex.test');
    await byTest(page, 'audit-search').click();
    const rows = byTest(page, 'audit-table').locator('tbody tr');
    await expect
      .poll(
        async () =>
          new Set(
            await rows
              .locator('[data-actor-id]')
              .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-actor-id'))),
          ),
      )
      .toEqual(new Set([gustav.userId]));
    const shown = await rows.count();
    expect(shown).toBeGreaterThan(0);
    const count = byTest(page, 'audit-count');
    expect(await count.getAttribute('data-total')).toBe(String(shown));
    expect(await count.textContent()).toBe(shown === 1 ? '1 Ereignis' : `${shown} Ereignisse`);
    const actor = await rows.first().getByTestId('audit-actor').textContent();
    expect(actor).toContain('Gustav Globus');
    expect(actor).toContain('gustav@globex.test');
    // The administrator verifies the chain from the page.
    await byTest(page, 'audit-verify').click();
    const verified = byTest(page, 'audit-verify-result');
    await verified.waitFor();
    expect(await verified.getAttribute('data-ok')).toBe('true');
    expect(await verified.textContent()).toMatch(
      /Die Protokollkette ist unversehrt\. Ereignisse: \d+/,
    );
    await shot(page, '28-audit');
    expect(await a11yViolations(page)).toEqual([]);
    await context.close();
  });
});
