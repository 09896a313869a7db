/**
 * The dev start's mail viewer (`src/features/dev-mail/`): `GET /api/dev/mails` lists what
 * the SMTP sink received, newest first, without a sign-in, and `GET /api/session` flags it for
 * the demo banner — on a portal given the viewer. A portal built without it (production) has
 * neither: the route is a 404 and the session has no flag. Also the link splitting the web page
 * and the dev console share (`src/shared/dev-mail.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevMailList } from '../src/features/dev-mail/contract.ts';
import { listDevMails } from '../src/features/dev-mail/service.ts';
import { OPERATOR_TENANT } from '../src/server/context.ts';
import type { ReceivedMail } from '../src/server/mail.ts';
import { firstLink, mailTextParts } from '../src/shared/dev-mail.ts';
import { type PortalHarness, type SignedUp, startPortalHarness } from './helpers.ts';

describe('mail viewer in the dev start', () => {
  let h: PortalHarness;
  let admin: SignedUp;

  beforeAll(async () => {
    h = await startPortalHarness({}, { devMailViewer: true });
    await h.portal.createTenant('acme', 'Acme <GmbH>', 'customer');
    admin = await h.signUp(
      'admin@fluxel.test',
      'administrator',
      OPERATOR_TENANT,
      'Ada <b>Admin</b>',
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists the sink’s mails newest first, with recipient, subject, time and text, to anyone', async () => {
    const invited = await admin.client.post('/api/invitations', {
      email: 'neu@acme.test',
      role: 'key-user',
      tenantId: 'acme',
    });
    expect(invited.status).toBe(200);
    await h.smtp.waitFor((m) => m.to.includes('neu@acme.test'));
    const anonymous = h.client();
    await anonymous.session();
    const reset = await anonymous.post('/api/auth/reset/request', { email: 'admin@fluxel.test' });
    expect(reset.status).toBeLessThan(300);
    await h.smtp.waitFor((m) => m.to.includes('admin@fluxel.test'));

    // No session at all: the people reading invitations and resets are not signed in.
    const res = await h.client().get<DevMailList>('/api/dev/mails');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { mails, truncated } = res.body;
    expect(truncated).toBe(false);
    expect(mails.map((m) => m.to)).toEqual([['admin@fluxel.test'], ['neu@acme.test']]);
    expect(mails.map((m) => m.id)).toEqual([1, 0]);
    const [newest, older] = mails as [DevMailList['mails'][0], DevMailList['mails'][0]];
    expect(newest.subject).toBe('Fluxel: Passwort zurücksetzen');
    expect(firstLink(newest.text)).toMatch(
      new RegExp(`^${h.portal.origin.replaceAll('.', '\\.')}/reset/[\\w-]{40,}$`),
    );
    expect(older.subject).toContain('Acme <GmbH>'); // as sent; the page escapes it
    expect(older.text).toContain('Ada <b>Admin</b> lädt Sie in das Fluxel-Portal ein');
    expect(firstLink(older.text)).toMatch(/\/invite\/[\w-]{40,}$/);
    expect(Date.parse(newest.receivedAt)).toBeGreaterThanOrEqual(Date.parse(older.receivedAt));
    expect(Math.abs(Date.parse(newest.receivedAt) - Date.now())).toBeLessThan(60_000);
  });

  it('flags the viewer in GET /api/session (anonymous and signed in) for the demo banner', async () => {
    const anonymous = h.client();
    expect(await anonymous.session()).toMatchObject({ stage: 'anonymous', devMail: true });
    expect(await admin.client.session()).toMatchObject({ stage: 'full', devMail: true });
  });
});

describe('a portal without the dev sink (production)', () => {
  let h: PortalHarness;

  beforeAll(async () => {
    h = await startPortalHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('has no mail viewer: the route is a 404 and the session carries no flag', async () => {
    const admin = await h.signUp('admin@fluxel.test', 'administrator', OPERATOR_TENANT);
    const anonymous = h.client();
    await anonymous.session();
    await anonymous.post('/api/auth/reset/request', { email: 'admin@fluxel.test' });
    await h.smtp.waitFor((m) => m.to.includes('admin@fluxel.test'));

    for (const client of [anonymous, admin.client]) {
      const res = await client.get('/api/dev/mails');
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('reset');
      expect(await client.session()).not.toHaveProperty('devMail');
    }
  });
});

describe('listDevMails and the link splitting', () => {
  const mail = (i: number): ReceivedMail => ({
    from: 'portal@fluxel.test',
    to: [`u${i}@fluxel.test`],
    headers: {},
    subject: `Mail ${i}`,
    text: `Text ${i}`,
    raw: Buffer.alloc(0),
    receivedAt: Date.UTC(2026, 11, 6, 12, 0, i),
  });

  it('keeps the newest mails up to the limit and says when older ones were left out', () => {
    const source = { messages: Array.from({ length: 5 }, (_, i) => mail(i)) };
    const few = listDevMails(source, 3);
    expect(few.mails.map((m) => m.subject)).toEqual(['Mail 4', 'Mail 3', 'Mail 2']);
    expect(few.truncated).toBe(true);
    expect(few.mails[0]?.receivedAt).toBe('2026-12-06T12:00:04.000Z');
    expect(listDevMails(source).truncated).toBe(false);
    expect(listDevMails({ messages: [] })).toEqual({ mails: [], truncated: false });
  });

  it('makes links of http(s) URLs only, leaving sentence punctuation and other schemes as text', () => {
    expect(
      mailTextParts(
        'Open https://localhost:8445/reset/abc-_1. Or http://x.test/a?b=c (old),\njavascript:alert(1) data:text/html,<b> ftp://x',
      ),
    ).toEqual([
      { text: 'Open ' },
      { link: 'https://localhost:8445/reset/abc-_1' },
      { text: '. Or ' },
      { link: 'http://x.test/a?b=c' },
      { text: ' (old),\njavascript:alert(1) data:text/html,<b> ftp://x' },
    ]);
    expect(mailTextParts('no link')).toEqual([{ text: 'no link' }]);
    expect(firstLink('Code: 123456')).toBeUndefined();
    expect(firstLink('a https://a.test/1 b https://b.test/2')).toBe('https://a.test/1');
  });
});
