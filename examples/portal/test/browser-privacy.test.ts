/**
 * The privacy page in Chromium: toggle a consent, download the data export (after the
 * re-authentication dialog), request the deletion of the account and see the scheduled date.
 */

import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  a11yViolations,
  byTest,
  setUpBrowserHarness,
  shot,
  signInWithTotp,
} from './browser-helpers.ts';
import { code, PASSWORD, type PortalHarness, type SignedUp } from './helpers.ts';

let h: PortalHarness;
let user: SignedUp;
const EMAIL = 'clara@acme.test';

const b = setUpBrowserHarness({
  setup: async (started) => {
    h = started.h;
    await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
    user = await h.signUp(EMAIL, 'customer', 'acme', 'Clara Customer');
  },
});

describe.skipIf(!b.available)('privacy page in Chromium', () => {
  it('consent, export, erasure with the scheduled date', async () => {
    const { context, page } = await b.newPage();
    await signInWithTotp(h, page, EMAIL, user.secret);
    await page.goto(`${h.portal.url}/privacy`);
    const newsletter = byTest(page, 'consent-newsletter');
    await newsletter.waitFor();
    expect(await newsletter.isChecked()).toBe(false);
    // A controlled checkbox: it changes once the server has recorded the consent.
    await newsletter.click();
    await byTest(page, 'status').waitFor();
    await expect.poll(() => newsletter.isChecked()).toBe(true);
    const { rows } = await h.portal.db.query(
      'SELECT purpose, granted FROM portal_consents WHERE user_id = $1',
      [user.userId],
    );
    expect(rows).toEqual([{ purpose: 'newsletter', granted: true }]);

    // The export: the app asks for the re-authentication, then the download starts.
    const downloading = page.waitForEvent('download');
    await byTest(page, 'privacy-export').click();
    const dialog = byTest(page, 'reauth-dialog');
    await dialog.waitFor();
    await dialog.locator('input[name=password]').fill(PASSWORD);
    h.clock.offsetMs += 30_000;
    await dialog.locator('input[name=code]').fill(code(h, user.secret));
    await byTest(page, 'reauth-submit').click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^fluxel-data-.*\.zip$/);
    const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
    const data = JSON.parse(strFromU8(files['data.json'] as Uint8Array));
    expect(data.user.email).toBe(EMAIL);
    expect(data.consents).toHaveLength(1);

    // Deletion: needs the confirmation box; the date is shown before and after.
    const intro = await byTest(page, 'erasure-intro').textContent();
    expect(intro).toMatch(/30 Tagen/);
    await shot(page, '21-privacy');
    expect(await a11yViolations(page)).toEqual([]);
    await byTest(page, 'erasure-confirm').check();
    await byTest(page, 'erasure-request').click(); // the re-authentication is still fresh
    const scheduled = byTest(page, 'erasure-scheduled');
    await scheduled.waitFor();
    const { rows: erasures } = await h.portal.db.query(
      'SELECT due_at FROM portal_erasures WHERE user_id = $1',
      [user.userId],
    );
    const due = new Date(Number(erasures[0]?.due_at));
    const expected = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium' }).format(due);
    expect(await scheduled.textContent()).toContain(expected);
    const { rows: users } = await h.portal.db.query(
      'SELECT status FROM portal_users WHERE id = $1',
      [user.userId],
    );
    expect(users[0]?.status).toBe('disabled');
    await byTest(page, 'erasure-to-login').click();
    await page.waitForURL(/\/login/);
    await context.close();
  });
});
