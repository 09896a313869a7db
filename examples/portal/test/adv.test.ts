/**
 * ADV / DPA and the processing register through the real server: acceptance (recorded and
 * audited, idempotent), the PDF (tenant-scoped, its text read back with poppler's pdftotext,
 * its tags — the structure tree a screen reader follows — with poppler's pdfinfo), re-acceptance after a new version, and the register (validated, permission-bound).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingDependency } from '@fluxel/internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgreementFiles } from '../src/features/adv/agreements.ts';
import {
  type AdvAcceptance,
  type AdvState,
  type AdvTenantRow,
  type ProcessingRegister,
  registerSchema,
} from '../src/features/adv/contract.ts';
import { agreementBlocks, agreementTitle } from '../src/features/adv/markdown.ts';
import { acceptancePdf, sanitizeForFont } from '../src/features/adv/pdf.ts';
import { loadRegister, parseRegister, REGISTER_FILE } from '../src/features/adv/register.ts';
import { advMessages } from '../web/src/features/adv/messages.ts';
import {
  type PortalHarness,
  reauthenticate,
  type SignedUp,
  startPortalHarness,
} from './helpers.ts';

const PDFTOTEXT = '/usr/bin/pdftotext';
const hasPdftotext = existsSync(PDFTOTEXT);
const pdftotextSkip = hasPdftotext
  ? undefined
  : missingDependency('pdftotext', 'apt-get install poppler-utils');

const PDFINFO = '/usr/bin/pdfinfo';
const hasPdfinfo = existsSync(PDFINFO);
const pdfinfoSkip = hasPdfinfo
  ? undefined
  : missingDependency('pdfinfo', 'apt-get install poppler-utils');

const UA = 'Mozilla/5.0 (X11; Linux x86_64) adv-test';
const SENTENCE =
  'Der Auftragnehmer verarbeitet personenbezogene Daten ausschließlich auf dokumentierte Weisung des Auftraggebers';

let h: PortalHarness;
let admin: SignedUp;
let keyUser: SignedUp;
let customer: SignedUp;
let otherKeyUser: SignedUp;
let partner: SignedUp;
let firstAcceptance: AdvAcceptance;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

const reauth = (s: SignedUp) => reauthenticate(h, s);

function pdfText(bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-adv-pdf-'));
  try {
    writeFileSync(join(dir, 'a.pdf'), bytes);
    execFileSync(PDFTOTEXT, ['-enc', 'UTF-8', join(dir, 'a.pdf'), join(dir, 'a.txt')]);
    return readFileSync(join(dir, 'a.txt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `pdfinfo <args> <pdf>` (UTF-8 output). */
function pdfInfo(bytes: Uint8Array, ...args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-adv-pdf-'));
  try {
    writeFileSync(join(dir, 'a.pdf'), bytes);
    return execFileSync(PDFINFO, ['-enc', 'UTF-8', ...args, join(dir, 'a.pdf')], {
      encoding: 'utf8',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The text of every element of type `type` in `pdfinfo -struct-text` output (wrapped lines joined). */
function structTexts(tree: string, type: string): string[] {
  const texts: string[] = [];
  let current: string[] | undefined;
  for (const line of tree.split('\n')) {
    const quoted = /^\s+"(.*)"$/.exec(line);
    if (quoted) {
      current?.push(quoted[1] ?? '');
      continue;
    }
    if (/^\s+\//.test(line)) continue; // an attribute line (`/Scope /Row`) of the element
    if (current) texts.push(current.join(' '));
    current = new RegExp(`^\\s*${type}\\b`).test(line) ? [] : undefined;
  }
  if (current) texts.push(current.join(' '));
  return texts;
}

async function getPdf(s: SignedUp, id: string) {
  const { request } = await import('undici');
  const res = await request(`${h.portal.url}/api/adv/acceptances/${id}/pdf`, {
    dispatcher: s.client.dispatcher,
    headers: { cookie: s.client.cookieHeader() },
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('mueller', 'Müller & Söhne GmbH', 'customer');
  await h.portal.createTenant('globex', 'Globex AG', 'customer');
  await h.portal.createTenant('partnerco', 'Partner Co', 'partner');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  keyUser = await h.signUp('key@mueller.test', 'key-user', 'mueller', 'Jürgen Käßler');
  customer = await h.signUp('user@mueller.test', 'customer', 'mueller', 'Uwe User');
  otherKeyUser = await h.signUp('key@globex.test', 'key-user', 'globex', 'Greta Globex');
  partner = await h.signUp('p@partner.test', 'partner', 'partnerco', 'Paul Partner');
});
afterAll(async () => h?.close());

describe('agreement versions', () => {
  it('the shipped versions load; both languages parse into title, headings and items', () => {
    const files = loadAgreementFiles();
    expect(files.versions.map((v) => v.id)).toContain('1.0');
    for (const v of files.versions)
      for (const text of [v.text.de, v.text.en]) {
        const blocks = agreementBlocks(text);
        expect(blocks[0]?.kind).toBe('title');
        expect(blocks.filter((b) => b.kind === 'heading').length).toBeGreaterThan(5);
        expect(blocks.some((b) => b.kind === 'item')).toBe(true);
      }
    expect(files.operator.name).toBe('Fluxel UG');
  });

  it('GET /api/adv: the current version in the user’s language, and that it needs acceptance', async () => {
    const res = await keyUser.client.get<AdvState>('/api/adv');
    expect(res.status).toBe(200);
    expect(res.body.current?.id).toBe('1.0');
    expect(res.body.current?.locale).toBe('de');
    expect(res.body.current?.text).toContain(SENTENCE);
    expect(res.body.current?.sha256).toBe(sha256(res.body.current?.text ?? ''));
    expect(res.body.tenant).toEqual({
      id: 'mueller',
      name: 'Müller & Söhne GmbH',
      kind: 'customer',
    });
    expect(res.body.needsAcceptance).toBe(true);
    expect(res.body.acceptance).toBeUndefined();
    const en = await keyUser.client.get<AdvState>('/api/adv?locale=en');
    expect(en.body.current?.text).toMatch(/^# Data Processing Agreement/);
    // The operator does not accept its own agreement.
    expect((await admin.client.get<AdvState>('/api/adv')).body.needsAcceptance).toBe(false);
    expect((await h.client().get('/api/adv')).status).toBe(401);
  });
});

describe('acceptance', () => {
  it('only adv.accept may accept, and only the current version', async () => {
    const denied = await customer.client.post('/api/adv/accept', { version: '1.0' });
    expect(denied.status).toBe(403);
    const wrong = await keyUser.client.post('/api/adv/accept', { version: '0.9' });
    expect(wrong.status).toBe(409);
    const changed = await keyUser.client.post('/api/adv/accept', {
      version: '1.0',
      textSha256: '0'.repeat(64),
    });
    expect(changed.status).toBe(409);
    const bad = await keyUser.client.post('/api/adv/accept', { version: '1.0', extra: 1 });
    expect(bad.status).toBe(400);
  });

  it('records who, when, which version, the text’s hash and from where — and audits it', async () => {
    const state = (await keyUser.client.get<AdvState>('/api/adv')).body;
    const before = Date.now() + h.clock.offsetMs;
    const res = await keyUser.client.call<{ acceptance: AdvAcceptance; created: boolean }>(
      'POST',
      '/api/adv/accept',
      { version: '1.0', textSha256: state.current?.sha256 },
      { headers: { 'user-agent': UA } },
    );
    expect(res.status).toBe(201);
    const a = res.body.acceptance;
    firstAcceptance = a;
    expect(res.body.created).toBe(true);
    expect(a).toMatchObject({
      tenantId: 'mueller',
      tenantName: 'Müller & Söhne GmbH',
      version: '1.0',
      locale: 'de',
      textSha256: sha256(state.current?.text ?? ''),
      acceptedBy: { id: keyUser.userId, name: 'Jürgen Käßler' },
      ip: '127.0.0.1',
      userAgent: UA,
    });
    expect(Date.parse(a.acceptedAt)).toBeGreaterThanOrEqual(before - 1000);

    const after = (await keyUser.client.get<AdvState>('/api/adv')).body;
    expect(after.needsAcceptance).toBe(false);
    expect(after.acceptance).toEqual(a);
    // Every user of the tenant sees the state.
    expect((await customer.client.get<AdvState>('/api/adv')).body.acceptance?.id).toBe(a.id);

    const { events } = await h.portal.audit.query({ tenant: 'mueller', action: 'adv.accepted' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'adv.accepted',
      outcome: 'success',
      // The IP is in the event too (the audit log may pseudonymise it); the record keeps it plain.
      actor: { type: 'user', id: keyUser.userId, ip: expect.any(String) },
      target: { type: 'adv', id: '1.0' },
      details: { acceptanceId: a.id, textSha256: a.textSha256, locale: 'de' },
    });
  });

  it('accepting again is idempotent: 200 with the existing record, no second event', async () => {
    const again = await keyUser.client.post<{ acceptance: AdvAcceptance; created: boolean }>(
      '/api/adv/accept',
      { version: '1.0' },
    );
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    expect(again.body.acceptance).toEqual(firstAcceptance);
    const { events } = await h.portal.audit.query({ tenant: 'mueller', action: 'adv.accepted' });
    expect(events).toHaveLength(1);
  });

  it('a partner accepts for its own tenant', async () => {
    const res = await partner.client.post<{ acceptance: AdvAcceptance }>('/api/adv/accept', {
      version: '1.0',
    });
    expect(res.status).toBe(201);
    expect(res.body.acceptance.tenantId).toBe('partnerco');
  });
});

describe('PDF', () => {
  it('users of the tenant and administrators download it; another tenant gets 404 (audited)', async () => {
    const own = await getPdf(keyUser, firstAcceptance.id);
    expect(own.status).toBe(200);
    expect(own.headers['content-type']).toBe('application/pdf');
    expect(String(own.headers['content-disposition'])).toContain('ADV-mueller-1.0.pdf');
    expect(own.body.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await getPdf(customer, firstAcceptance.id)).status).toBe(200);
    expect((await getPdf(admin, firstAcceptance.id)).status).toBe(200);

    const other = await getPdf(otherKeyUser, firstAcceptance.id);
    expect(other.status).toBe(404);
    expect(other.headers['content-type']).toMatch(/problem\+json/);
    // A partner is not a user of the customer's tenant either.
    expect((await getPdf(partner, firstAcceptance.id)).status).toBe(404);
    expect((await getPdf(otherKeyUser, 'adv_doesnotexist')).status).toBe(404);
    const { events } = await h.portal.audit.query({ tenant: 'globex', action: 'access.denied' });
    expect(events.some((e) => e.target?.id === firstAcceptance.id)).toBe(true);
    const anonymous = await h.client().get(`/api/adv/acceptances/${firstAcceptance.id}/pdf`);
    expect(anonymous.status).toBe(401);
  });

  it.skipIf(!hasPdftotext)(
    `its text has the parties, the acceptor, the version, the hash and the agreement ${pdftotextSkip ?? ''}`,
    async () => {
      const { body } = await getPdf(keyUser, firstAcceptance.id);
      const text = pdfText(body).replace(/\s+/g, ' ');
      expect(text).toContain('Vertrag zur Auftragsverarbeitung gemäß Art. 28 DSGVO');
      expect(text).toContain('Müller & Söhne GmbH');
      expect(text).toContain('Fluxel UG');
      expect(text).toContain('Hückelhoven');
      expect(text).toContain('Jürgen Käßler');
      expect(text).toContain('Fassung 1.0');
      expect(text).toContain(SENTENCE);
      expect(text).toContain('Maßnahmen');
      expect(text).toContain(firstAcceptance.textSha256);
      expect(text).toContain('127.0.0.1');
      expect(text).toContain(UA);
      expect(text).toMatch(/Seite 1 von [2-9]/); // long enough for page breaks
      // Deterministic: the same acceptance gives the same bytes.
      expect((await getPdf(admin, firstAcceptance.id)).body.equals(body)).toBe(true);
    },
  );

  it.skipIf(!hasPdfinfo)(
    `is a tagged PDF: headings, paragraphs, lists and tables in a structure tree, language, title ${pdfinfoSkip ?? ''}`,
    async () => {
      const { body } = await getPdf(keyUser, firstAcceptance.id);
      const info = pdfInfo(body);
      expect(info).toMatch(/^Tagged:\s+yes$/m);
      expect(info).toMatch(
        /^Title:\s+Vertrag zur Auftragsverarbeitung gemäß Art\. 28 DSGVO – Müller & Söhne GmbH$/m,
      );
      expect(info).toMatch(/^Metadata Stream:\s+yes$/m);
      const raw = body.toString('latin1'); // no object streams: the catalog is plain text
      expect(raw).toContain('/Lang (de-DE)');
      expect(raw).toContain('/DisplayDocTitle true');
      expect(raw).toMatch(/\/StructParents 0\b/);
      const xmp = pdfInfo(body, '-meta');
      expect(xmp).toContain(
        'Vertrag zur Auftragsverarbeitung gemäß Art. 28 DSGVO – Müller &amp; Söhne GmbH',
      );
      expect(xmp).toContain('<rdf:li>de-DE</rdf:li>');

      const tree = pdfInfo(body, '-struct-text');
      expect(tree.split('\n')[0]).toBe('Document');
      expect(structTexts(tree, 'H1')).toEqual([
        'Vertrag zur Auftragsverarbeitung gemäß Art. 28 DSGVO',
      ]);
      // Every heading of the agreement, in order, between the page's own headings.
      const version = loadAgreementFiles().versions.find((v) => v.id === '1.0');
      const headings = agreementBlocks(version?.text.de ?? '')
        .filter((b) => b.kind === 'heading')
        .map((b) => b.text);
      expect(headings.length).toBeGreaterThan(5);
      expect(structTexts(tree, 'H2')).toEqual([
        'Vertragsparteien',
        ...headings,
        'Digitale Annahme',
      ]);
      expect(structTexts(tree, 'P').join(' ')).toContain(SENTENCE);
      expect(structTexts(tree, 'LBody').length).toBeGreaterThan(2);
      expect(structTexts(tree, 'TH')).toContain('SHA-256 des Vertragstexts');
      expect(structTexts(tree, 'TD')).toContain(firstAcceptance.textSha256);
      expect(structTexts(tree, 'TD')).toContain(`Jürgen Käßler (${keyUser.userId})`);
      // The running footer is an artifact: not read out as part of the text.
      expect(tree).not.toContain('Seite 1 von');
    },
  );

  it.skipIf(!hasPdfinfo)(
    `an English acceptance is tagged as English ${pdfinfoSkip ?? ''}`,
    async () => {
      const files = loadAgreementFiles();
      const version = files.versions.find((v) => v.id === '1.0');
      if (!version) throw new Error('no version 1.0');
      const body = Buffer.from(
        await acceptancePdf({
          locale: 'en',
          text: version.text.en,
          operator: files.operator,
          tenant: { id: 'globex', name: 'Globex AG' },
          acceptance: {
            ...firstAcceptance,
            publishedAt: version.publishedAt,
            textSha256: sha256(version.text.en),
          },
        }),
      );
      expect(pdfInfo(body)).toMatch(/^Tagged:\s+yes$/m);
      expect(body.toString('latin1')).toContain('/Lang (en-GB)');
      const tree = pdfInfo(body, '-struct-text');
      expect(structTexts(tree, 'H1')).toEqual([agreementTitle(version.text.en, '')]);
      expect(structTexts(tree, 'H2')).toContain('Digital acceptance');
    },
  );

  it('characters the standard font cannot encode are transliterated or replaced', () => {
    const winAnsi = new Set(
      [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-?äöüÄÖÜß„“–…'].map(
        (c) => c.codePointAt(0) as number,
      ),
    );
    expect(sanitizeForFont('Grüße „ok“ – …', winAnsi)).toBe('Grüße „ok“ – …');
    expect(sanitizeForFont('Łódź ☃ a→b\u00a0c', winAnsi)).toBe('?odz ? a->b c');
  });
});

describe('new versions', () => {
  const textDe = `# Vertrag zur Auftragsverarbeitung (Fassung 2.0)\n\n## 1. Gegenstand\n\nNeu: Unterauftragsverarbeiter für den Versand von SMS-Codes werden im Verzeichnis geführt. Änderungen gelten ab Veröffentlichung.\n`;
  const textEn = `# Data Processing Agreement (version 2.0)\n\n## 1. Subject matter\n\nNew: sub-processors sending SMS codes are listed in the register. Changes apply from publication on.\n`;

  it('only administrators publish, after re-authentication', async () => {
    const body = { id: '2.0', textDe, textEn };
    expect((await keyUser.client.post('/api/adv/versions', body)).status).toBe(403);
    const noReauth = await admin.client.post<{ code: string }>('/api/adv/versions', body);
    expect(noReauth.status).toBe(403);
    expect(noReauth.body.code).toBe('reauth_required');
    expect((await admin.client.post('/api/adv/versions', { ...body, id: 'bad id' })).status).toBe(
      400,
    );
  });

  it('publishing flips needsAcceptance for every tenant; key users are mailed; they accept again', async () => {
    await reauth(admin);
    const mails = h.smtp.messages.length;
    const res = await admin.client.post<{ version: { id: string }; notified: number }>(
      '/api/adv/versions',
      { id: '2.0', textDe, textEn },
    );
    expect(res.status).toBe(201);
    expect(res.body.notified).toBe(3); // two key users and the partner
    expect(
      (await admin.client.post('/api/adv/versions', { id: '2.0', textDe, textEn })).status,
    ).toBe(409);
    expect(
      (await admin.client.post('/api/adv/versions', { id: '1.0', textDe, textEn })).status,
    ).toBe(409);
    const mail = await h.smtp.waitFor(
      (m) => m.to.includes('key@mueller.test') && /2\.0/.test(m.subject),
    );
    expect(mail.text).toContain('/adv');
    expect(h.smtp.messages.length).toBeGreaterThanOrEqual(mails + 3);
    const published = await h.portal.audit.query({
      tenant: 'fluxel-operator',
      action: 'adv.published',
    });
    expect(published.events[0]?.target).toEqual({ type: 'adv', id: '2.0' });

    const state = (await keyUser.client.get<AdvState>('/api/adv')).body;
    expect(state.current?.id).toBe('2.0');
    expect(state.current?.source).toBe('published');
    expect(state.needsAcceptance).toBe(true);
    expect(state.acceptance?.version).toBe('1.0');
    expect(state.versions.map((v) => v.id)).toEqual(['2.0', '1.0']);
    expect((await customer.client.get('/api/adv/status')).body).toEqual({
      needsAcceptance: true,
      currentVersion: '2.0',
      acceptedVersion: '1.0',
    });

    const tenants = await admin.client.get<{ tenants: AdvTenantRow[] }>('/api/adv/tenants');
    expect(tenants.status).toBe(200);
    expect(tenants.body.tenants.map((t) => [t.tenantId, t.needsAcceptance])).toEqual([
      ['globex', true],
      ['mueller', true],
      ['partnerco', true],
    ]);
    expect((await keyUser.client.get('/api/adv/tenants')).status).toBe(403);

    // The old version can no longer be accepted; the new one can, in English too.
    expect((await otherKeyUser.client.post('/api/adv/accept', { version: '1.0' })).status).toBe(
      409,
    );
    const again = await keyUser.client.post<{ acceptance: AdvAcceptance }>('/api/adv/accept', {
      version: '2.0',
      locale: 'en',
    });
    expect(again.status).toBe(201);
    expect(again.body.acceptance.textSha256).toBe(sha256(`${textEn.trim()}\n`));
    const now = (await keyUser.client.get<AdvState>('/api/adv')).body;
    expect(now.needsAcceptance).toBe(false);
    expect(now.history.map((a) => a.version)).toEqual(['2.0', '1.0']);
    // The old acceptance's PDF still has the old text.
    if (hasPdftotext) {
      const old = pdfText((await getPdf(keyUser, firstAcceptance.id)).body).replace(/\s+/g, ' ');
      expect(old).toContain(SENTENCE);
      const fresh = pdfText((await getPdf(keyUser, again.body.acceptance.id)).body).replace(
        /\s+/g,
        ' ',
      );
      expect(fresh).toContain('Data Processing Agreement (version 2.0)');
      expect(fresh).toContain('Accepted by');
    }
  });
});

describe('processing register', () => {
  it('the shipped file is valid', () => {
    const register = loadRegister();
    expect(register.activities.length).toBeGreaterThan(3);
    const kinds = register.recipients.map((r) => r.id);
    expect(kinds).toEqual(
      expect.arrayContaining(['hosting', 'email', 'sms', 'marketplaces', 'payment']),
    );
  });

  it('a broken register is refused with the bad paths named', () => {
    const json = JSON.parse(readFileSync(REGISTER_FILE, 'utf8')) as {
      activities: { recipients: string[] }[];
      recipients: { id: string; thirdCountry: boolean; safeguards?: unknown }[];
    };
    (json.activities[0] as { recipients: string[] }).recipients.push('nobody');
    const market = json.recipients.find((r) => r.id === 'marketplaces');
    if (market) delete market.safeguards;
    expect(() => parseRegister(json)).toThrow(
      /activities\.0\.recipients: unknown recipient nobody/,
    );
    expect(() => parseRegister(json)).toThrow(/third-country recipient needs safeguards/);
    expect(() => parseRegister({ ...json, extra: true })).toThrow(/not valid/);
  });

  it('is served only with register.read', async () => {
    const res = await keyUser.client.get<ProcessingRegister>('/api/register');
    expect(res.status).toBe(200);
    expect(registerSchema.safeParse(res.body).success).toBe(true);
    expect((await admin.client.get('/api/register')).status).toBe(200);
    expect((await customer.client.get('/api/register')).status).toBe(403);
    expect((await partner.client.get('/api/register')).status).toBe(403);
    expect((await h.client().get('/api/register')).status).toBe(401);
  });
});

describe('page texts', () => {
  it('German and English have the same keys and variables, none empty', () => {
    const { de: advDe, en: advEn } = advMessages;
    expect(Object.keys(advEn).sort()).toEqual(Object.keys(advDe).sort());
    const vars = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(advDe) as (keyof typeof advDe)[]) {
      expect(advDe[key].trim(), key).not.toBe('');
      expect(advEn[key].trim(), key).not.toBe('');
      expect(vars(advEn[key]), key).toEqual(vars(advDe[key]));
    }
  });
});
