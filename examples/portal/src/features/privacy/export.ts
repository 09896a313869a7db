/**
 * Data export (GDPR Art. 15 and 20): everything the portal holds about one person, as
 * machine-readable JSON plus a readable summary (German and English), zipped.
 *
 * What is left out on purpose: secrets (password hash, TOTP seed, passkey public keys, code and
 * token hashes, session cookie hashes and CSRF tokens) and other people's data (the addresses
 * of people this person invited — Art. 15(4)).
 */
import type { AuditEvent } from '@fluxel/audit';
import { strToU8, zipSync } from 'fflate';
import type { Context } from '../../server/context.ts';
import { acceptancesDeclaredBy } from '../adv/store.ts';
import { allTenantIds, tenantById } from '../tenants/store.ts';
import { recoveryCodeCounts, type UserRecord } from '../users/store.ts';
import { readableEvent } from './audit-privacy.ts';
import { tryOpenPersonal } from './person-keys.ts';
import {
  type AuditQueryable,
  auditEventsByActor,
  consentsOf,
  erasureOf,
  personRows,
} from './store.ts';

const iso = (v: unknown): string | null => (v == null ? null : new Date(Number(v)).toISOString());

export interface PersonExport {
  readonly format: 'fluxel-portal-export/1';
  readonly exportedAt: string;
  readonly user: Record<string, unknown>;
  readonly factors: unknown[];
  readonly recoveryCodes: { readonly total: number; readonly unused: number };
  readonly sessions: unknown[];
  readonly consents: unknown[];
  readonly invitations: { readonly received: unknown[]; readonly sent: unknown[] };
  readonly erasure: unknown;
  readonly loginThrottle: unknown[];
  readonly codeSends: unknown[];
  /** "Request more rights": the person's own requests. */
  readonly rightsRequests: unknown[];
  /** Partner registrations the person filed as the contact. */
  readonly partnerApplications: unknown[];
  /** ADV/DPA acceptances the person declared for their tenant (kept as contract evidence). */
  readonly advAcceptances: unknown[];
  readonly auditEvents: unknown[];
}

/** Every audit event whose actor is the person, in every tenant (administrators act in many). */
async function auditEventsOf(ctx: Context, store: AuditQueryable, userId: string) {
  const events: unknown[] = [];
  for (const e of await auditEventsByActor(store, await allTenantIds(ctx.db), userId)) {
    // The user agent is sealed under the person's key in the log: opened for the export.
    const readable = await readableEvent(ctx, e as AuditEvent);
    const { hash: _hash, ...event } = readable as unknown as { hash?: string } & Record<
      string,
      unknown
    >;
    events.push(event);
  }
  return events.sort(
    (a, b) => Number((a as { seq: number }).seq) - Number((b as { seq: number }).seq),
  );
}

export async function collectPersonData(
  ctx: Context,
  audit: AuditQueryable,
  user: UserRecord,
): Promise<PersonExport> {
  const tenant = await tenantById(ctx.db, user.tenantId);
  const rows = await personRows(ctx.db, user);
  const recovery = await recoveryCodeCounts(ctx.db, user.id);
  const consents = await consentsOf(ctx.db, user.id);
  const erasure = await erasureOf(ctx.db, user.id);
  return {
    format: 'fluxel-portal-export/1',
    exportedAt: new Date(ctx.now()).toISOString(),
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      phone: user.phone ?? null,
      role: user.role,
      status: user.status,
      locale: user.locale,
      tenant: { id: user.tenantId, name: tenant?.name ?? user.tenantId },
      createdAt: iso(user.createdAt),
      lastSignInAt: iso(user.lastSignInAt),
    },
    factors: rows.factors.map((r) => ({
      id: String(r.id),
      type: String(r.type),
      label: String(r.label),
      confirmed: Boolean(r.confirmed),
      ...(r.transports ? { transports: String(r.transports) } : {}),
      createdAt: iso(r.created_at),
      lastUsedAt: iso(r.last_used_at),
    })),
    recoveryCodes: recovery,
    sessions: rows.sessions.map((r) => ({
      id: String(r.public_id),
      stage: String(r.stage),
      createdAt: iso(r.created_at),
      lastSeenAt: iso(r.last_seen_at),
      expiresAt: iso(r.expires_at),
      ip: String(r.ip),
      userAgent: String(r.user_agent),
    })),
    consents: await Promise.all(
      consents.map(async (r) => {
        const evidence = await tryOpenPersonal(ctx, user.id, 'consent-evidence', r.evidence);
        return {
          purpose: r.purpose,
          version: r.version,
          granted: r.granted,
          at: iso(r.at),
          source: r.source,
          ...(evidence ? { evidence: JSON.parse(evidence) as unknown } : {}),
        };
      }),
    ),
    invitations: {
      received: rows.invitationsReceived.map((r) => ({
        id: String(r.id),
        tenantId: String(r.tenant_id),
        email: String(r.email),
        role: String(r.role),
        expiresAt: iso(r.expires_at),
        usedAt: iso(r.used_at),
      })),
      // The invitee's address is someone else's personal data: left out (Art. 15(4) GDPR).
      sent: rows.invitationsSent.map((r) => ({
        id: String(r.id),
        tenantId: String(r.tenant_id),
        role: String(r.role),
        expiresAt: iso(r.expires_at),
        usedAt: iso(r.used_at),
      })),
    },
    erasure: erasure
      ? {
          state: erasure.state,
          requestedAt: iso(erasure.requestedAt),
          dueAt: iso(erasure.dueAt),
          cancelledAt: iso(erasure.cancelledAt),
        }
      : null,
    loginThrottle: rows.throttle.map((r) => ({
      kind: String(r.key).split(':')[0],
      failures: Number(r.failures),
      lastFailureAt: iso(r.last_failure_at),
      lockedUntil: iso(r.locked_until),
    })),
    codeSends: rows.codeSends.map((r) => ({ channel: String(r.channel), sentAt: iso(r.sent_at) })),
    rightsRequests: rows.rightsRequests.map((r) => ({
      id: String(r.id),
      tenantId: String(r.tenant_id),
      fromRole: String(r.from_role),
      requestedRole: String(r.requested_role),
      reason: String(r.reason),
      status: String(r.status),
      createdAt: iso(r.created_at),
      decidedAt: iso(r.decided_at),
      ...(r.decision_note == null ? {} : { decisionNote: String(r.decision_note) }),
    })),
    partnerApplications: rows.partnerApplications.map((r) => ({
      id: String(r.id),
      companyName: String(r.company_name),
      contactName: String(r.contact_name),
      contactEmail: String(r.contact_email),
      status: String(r.status),
      termsVersion: String(r.terms_version),
      advVersion: String(r.adv_version),
      ip: String(r.ip),
      createdAt: iso(r.created_at),
      verifiedAt: iso(r.verified_at),
      reviewedAt: iso(r.reviewed_at),
      ...(r.reject_reason == null ? {} : { rejectReason: String(r.reject_reason) }),
      ...(r.tenant_id == null ? {} : { tenantId: String(r.tenant_id) }),
    })),
    advAcceptances: (await acceptancesDeclaredBy(ctx.db, user.id)).map((r) => ({
      id: String(r.id),
      tenantId: String(r.tenant_id),
      version: String(r.version),
      locale: String(r.locale),
      textSha256: String(r.text_sha256),
      acceptedAs: String(r.user_name),
      acceptedAt: iso(r.accepted_at),
      ip: String(r.ip),
      userAgent: String(r.user_agent),
    })),
    auditEvents: await auditEventsOf(ctx, audit, user.id),
  };
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const esc = (s: unknown) => String(s ?? '–').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

interface Section {
  readonly title: { de: string; en: string };
  readonly rows: readonly [string, string][];
}

function sections(d: PersonExport): Section[] {
  const u = d.user as Record<string, unknown>;
  const tenant = u.tenant as { name: string };
  const events = d.auditEvents as { action: string; time: string; outcome: string }[];
  const actions = new Map<string, number>();
  for (const e of events) actions.set(e.action, (actions.get(e.action) ?? 0) + 1);
  return [
    {
      title: { de: 'Konto', en: 'Account' },
      rows: [
        ['Name', String(u.name)],
        ['E-Mail', String(u.email)],
        ['Telefon / phone', String(u.phone ?? '–')],
        ['Rolle / role', String(u.role)],
        ['Mandant / tenant', tenant.name],
        ['Sprache / language', String(u.locale)],
        ['Angelegt / created', String(u.createdAt)],
        ['Letzte Anmeldung / last sign-in', String(u.lastSignInAt ?? '–')],
      ],
    },
    {
      title: { de: 'Zweite Faktoren', en: 'Second factors' },
      rows: (d.factors as { type: string; label: string; createdAt: string }[]).map((f) => [
        `${f.type}: ${f.label}`,
        f.createdAt,
      ]),
    },
    {
      title: { de: 'Sitzungen', en: 'Sessions' },
      rows: (d.sessions as { ip: string; userAgent: string; lastSeenAt: string }[]).map((s) => [
        `${s.ip} ${s.userAgent}`,
        s.lastSeenAt,
      ]),
    },
    {
      title: { de: 'Einwilligungen', en: 'Consents' },
      rows: (
        d.consents as { purpose: string; version: string; granted: boolean; at: string }[]
      ).map((c) => [`${c.purpose} (${c.version})`, `${c.granted ? '✓' : '✗'} ${c.at}`]),
    },
    {
      title: { de: 'Akzeptierte AV-Verträge (ADV)', en: 'Accepted data-processing agreements' },
      rows: (d.advAcceptances as { version: string; acceptedAt: string; ip: string }[]).map((a) => [
        `ADV ${a.version}`,
        `${a.acceptedAt} (${a.ip})`,
      ]),
    },
    {
      title: { de: 'Protokolleinträge (Ihre Aktionen)', en: 'Audit log entries (your actions)' },
      rows: [...actions].map(([action, n]) => [action, String(n)]),
    },
  ];
}

const INTRO = {
  de: 'Diese Datei fasst zusammen, was das Fluxel-Portal über Sie gespeichert hat. Die vollständigen, maschinenlesbaren Daten stehen in data.json.',
  en: 'This file summarises what the Fluxel portal holds about you. The complete, machine-readable data is in data.json.',
};

export function summaryText(d: PersonExport): string {
  const out: string[] = [];
  for (const lang of ['de', 'en'] as const) {
    out.push(
      lang === 'de' ? 'DATENAUSKUNFT' : 'DATA EXPORT',
      `${d.exportedAt}`,
      '',
      INTRO[lang],
      '',
    );
    for (const s of sections(d)) {
      out.push(`== ${s.title[lang]} ==`);
      if (s.rows.length === 0) out.push(lang === 'de' ? '(keine)' : '(none)');
      for (const [k, v] of s.rows) out.push(`  ${k}: ${v}`);
      out.push('');
    }
    out.push('');
  }
  return out.join('\n');
}

export function summaryHtml(d: PersonExport): string {
  const parts: string[] = [
    '<!doctype html><html><head><meta charset="utf-8"><title>Fluxel – Datenauskunft / data export</title></head><body>',
  ];
  for (const lang of ['de', 'en'] as const) {
    parts.push(
      `<section lang="${lang}"><h1>${lang === 'de' ? 'Datenauskunft' : 'Data export'}</h1><p>${esc(INTRO[lang])}</p><p>${esc(d.exportedAt)}</p>`,
    );
    for (const s of sections(d)) {
      parts.push(`<h2>${esc(s.title[lang])}</h2>`);
      if (s.rows.length === 0) parts.push(`<p>${lang === 'de' ? '(keine)' : '(none)'}</p>`);
      else
        parts.push(
          `<table>${s.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`,
        );
    }
    parts.push('</section>');
  }
  parts.push('</body></html>');
  return parts.join('\n');
}

/** The export as a zip: `data.json`, `summary.txt`, `summary.html`. */
export function exportZip(d: PersonExport): Uint8Array {
  const mtime = new Date(d.exportedAt);
  return zipSync(
    {
      'data.json': strToU8(`${JSON.stringify(d, null, 2)}\n`),
      'summary.txt': strToU8(summaryText(d)),
      'summary.html': strToU8(summaryHtml(d)),
    },
    { level: 6, mtime },
  );
}
