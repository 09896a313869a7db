/**
 * The status page in Chromium: anonymous visitors see every component with a text badge; an
 * administrator announces a maintenance window through the form, it shows at once (and puts
 * the relay in maintenance), and visitors see it too. Screenshot `22-status.png`.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  a11yViolations,
  acceptInvitation,
  byTest,
  setUpBrowserHarness,
  shot,
} from './browser-helpers.ts';

const b = setUpBrowserHarness();

/** `datetime-local` value `minutes` from now, in the browser's time zone. */
const localTime = (page: Page, minutes: number) =>
  page.evaluate(`(() => {
    const d = new Date(Date.now() + ${minutes} * 60000);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  })()`) as Promise<string>;

describe.skipIf(!b.available)('status page in Chromium', () => {
  it('anonymous visitors see every component, with text next to the colour', async () => {
    const { context, page } = await b.newPage();
    await page.goto(`${b.h.portal.url}/status`);
    await byTest(page, 'status-components').waitFor();
    for (const id of ['portal', 'relay', 'acme', 'mailbox'])
      await expect.poll(() => byTest(page, `component-${id}`).count()).toBe(1);
    expect(await byTest(page, 'component-relay').getAttribute('data-state')).toBe('operational');
    expect(await byTest(page, 'component-relay').textContent()).toMatch(/Betriebsbereit/);
    // The relay reports its mailbox backlog (counts only): empty here.
    expect(await byTest(page, 'component-mailbox').getAttribute('data-state')).toBe('operational');
    expect(await byTest(page, 'component-mailbox').textContent()).toMatch(/0 Ereignisse/);
    expect(await byTest(page, 'status-overall').textContent()).toMatch(/betriebsbereit/);
    expect(await byTest(page, 'maintenance-form').count()).toBe(0);
    expect(await byTest(page, 'system-info').count()).toBe(0);
    expect(page.url()).toMatch(/\/status$/);
    expect(await a11yViolations(page)).toEqual([]);
    await context.close();
  });

  it('an administrator announces a maintenance window and it appears', async () => {
    const token = await b.h.portal.invite('admin@fluxel.test', 'administrator', 'fluxel-operator');
    const { context, page } = await b.newPage();
    await acceptInvitation(b.h, page, token, 'Ada Admin');
    await byTest(page, 'recovery-saved').click();
    await byTest(page, 'logout').waitFor();
    await page.goto(`${b.h.portal.url}/status`);
    await byTest(page, 'system-info').waitFor();
    expect(await byTest(page, 'system-tls-sans').textContent()).toContain('DNS:localhost');
    expect(await byTest(page, 'system-node').textContent()).toBe(process.version);

    const form = byTest(page, 'maintenance-form');
    await form.locator('input[name=titleDe]').fill('Relay-Update');
    await form.locator('input[name=titleEn]').fill('Relay update');
    await form.locator('textarea[name=bodyDe]').fill('Verbindungen werden kurz unterbrochen.');
    await form.locator('textarea[name=bodyEn]').fill('Connections drop briefly.');
    await form.locator('input[name=startsAt]').fill(await localTime(page, -5));
    await form.locator('input[name=endsAt]').fill(await localTime(page, 60));
    await byTest(page, 'maintenance-component-relay').check();
    await byTest(page, 'maintenance-submit').click();
    await expect.poll(() => byTest(page, 'maintenance-item').count()).toBe(1);
    const item = byTest(page, 'maintenance-item');
    expect(await item.getAttribute('data-active')).toBe('true');
    expect(await item.textContent()).toMatch(/Relay-Update[\s\S]*Läuft gerade/);
    await expect
      .poll(() => byTest(page, 'component-relay').getAttribute('data-state'))
      .toBe('maintenance');
    expect(await byTest(page, 'status-overall').getAttribute('data-state')).toBe('maintenance');

    const note = byTest(page, 'note-form');
    await note.locator('input[name=titleDe]').fill('TLS-Bibliothek aktualisiert');
    await note.locator('input[name=titleEn]').fill('TLS library updated');
    await note.locator('textarea[name=bodyDe]').fill('Eine Schwachstelle wurde behoben.');
    await note.locator('textarea[name=bodyEn]').fill('A vulnerability was fixed.');
    await note.locator('select[name=severity]').selectOption('high');
    await byTest(page, 'note-submit').click();
    await expect.poll(() => byTest(page, 'note-item').count()).toBe(1);

    await shot(page, '22-status');
    expect(await a11yViolations(page)).toEqual([]);
    const { events } = await b.h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'status.*',
    });
    expect(events.map((e) => e.action).sort()).toEqual([
      'status.maintenance.created',
      'status.note.created',
    ]);
    await context.close();
  });

  it('visitors see the window in English too', async () => {
    const { context, page } = await b.newPage();
    await page.goto(`${b.h.portal.url}/status`);
    await byTest(page, 'maintenance-item').waitFor();
    await byTest(page, 'lang-en').click();
    expect(await byTest(page, 'maintenance-item').textContent()).toMatch(
      /Relay update[\s\S]*In progress/,
    );
    expect(await byTest(page, 'component-relay').textContent()).toMatch(/Maintenance/);
    expect(await byTest(page, 'note-item').textContent()).toMatch(/TLS library updated/);
    expect(await byTest(page, 'maintenance-delete').count()).toBe(0);
    await context.close();
  });
});
