/**
 * Texts of the status page (German and English, the same keys — the type checks it). Kept next
 * to the page so the shared dictionary in `i18n.ts` stays untouched; `{name}` marks a variable.
 */
import type { Locale } from '../../../src/shared/api.ts';

export const statusDe = {
  title: 'Systemstatus',
  intro:
    'Der aktuelle Zustand der Fluxel-Dienste, angekündigte Wartungsfenster und Sicherheitshinweise.',
  checkedAt: 'Geprüft: {time}',
  refresh: 'Aktualisieren',
  monitors: 'Für Monitoring-Systeme: {path} (JSON, ohne Anmeldung).',
  toLogin: 'Zur Anmeldung',
  delete: 'Löschen',

  'overall.operational': 'Alle Systeme betriebsbereit',
  'overall.degraded': 'Eingeschränkter Betrieb',
  'overall.outage': 'Störung',
  'overall.maintenance': 'Wartung läuft',

  'state.operational': 'Betriebsbereit',
  'state.degraded': 'Eingeschränkt',
  'state.outage': 'Ausfall',
  'state.maintenance': 'Wartung',
  'state.unknown': 'Unbekannt',

  'component.portal': 'Portal',
  'component.relay': 'Relay',
  'component.acme': 'TLS-Zertifikat (ACME)',
  'component.mailbox': 'Postfach-Rückstau',

  componentsTitle: 'Komponenten',
  componentsCaption: 'Zustand der Komponenten',
  colComponent: 'Komponente',
  colState: 'Zustand',
  colDetails: 'Details',

  'note.database_unavailable': 'Die Datenbank des Portals antwortet nicht.',
  'note.relay_unreachable': 'Das Relay ist nicht erreichbar.',
  'note.relay_slow': 'Das Relay antwortet langsam.',
  'note.certificate_expiring': 'Das Zertifikat läuft bald ab.',
  'note.certificate_expired': 'Das Zertifikat ist abgelaufen.',
  'note.certificate_not_yet_valid': 'Das Zertifikat ist noch nicht gültig.',
  'note.certificate_unreadable': 'Das Zertifikat kann nicht gelesen werden.',
  'note.stats_unavailable': 'Das Relay liefert noch keine Postfach-Statistik.',
  'note.backlog_high': 'Ungewöhnlich viele Ereignisse warten im Postfach.',
  'note.backlog_old': 'Ereignisse warten ungewöhnlich lange im Postfach.',
  'note.in_maintenance': 'In einem Wartungsfenster.',

  latency: 'Antwortzeit {ms} ms',
  expires: 'Gültig bis {date} (noch {days} Tage)',
  backlog: '{n} Ereignisse, ältestes {age}',

  maintenanceTitle: 'Wartungsfenster',
  maintenanceEmpty: 'Keine Wartung angekündigt.',
  maintenanceRunning: 'Läuft gerade',
  maintenanceUpcoming: 'Geplant',
  maintenanceWhen: '{from} bis {to}',
  maintenanceAffects: 'Betrifft: {components}',
  maintenanceDelete: 'Wartungsfenster „{title}“ löschen',
  maintenanceDeleted: 'Das Wartungsfenster wurde gelöscht.',

  notesTitle: 'Sicherheitshinweise',
  notesEmpty: 'Keine Sicherheitshinweise in den letzten 180 Tagen.',
  notePublished: 'Veröffentlicht: {date}',
  noteDelete: 'Hinweis „{title}“ löschen',
  noteDeleted: 'Der Hinweis wurde gelöscht.',
  'severity.info': 'Information',
  'severity.low': 'Niedrig',
  'severity.medium': 'Mittel',
  'severity.high': 'Hoch',
  'severity.critical': 'Kritisch',
  severityLabel: 'Schweregrad',

  announceTitle: 'Wartung ankündigen',
  announceSubmit: 'Wartung ankündigen',
  announced: 'Das Wartungsfenster ist angekündigt.',
  publishTitle: 'Sicherheitshinweis veröffentlichen',
  publishSubmit: 'Veröffentlichen',
  published: 'Der Hinweis ist veröffentlicht.',
  fieldTitleDe: 'Titel (Deutsch)',
  fieldTitleEn: 'Titel (Englisch)',
  fieldBodyDe: 'Text (Deutsch)',
  fieldBodyEn: 'Text (Englisch)',
  fieldStartsAt: 'Beginn',
  fieldEndsAt: 'Ende',
  fieldStartsHint: 'In Ihrer Ortszeit.',
  fieldComponents: 'Betroffene Komponenten',
  fieldComponentsRequired: 'Bitte mindestens eine Komponente wählen.',

  systemTitle: 'Systeminformationen',
  tlsSubject: 'Zertifikat für',
  tlsSans: 'Alternative Namen',
  tlsIssuer: 'Aussteller',
  tlsValidFrom: 'Gültig ab',
  tlsValidTo: 'Gültig bis',
  tlsDaysLeft: 'Verbleibende Tage',
  tlsFingerprint: 'SHA-256-Fingerabdruck',
  tlsState: 'TLS-Zustand',
  tlsMissing: 'Das ausgelieferte Zertifikat kann nicht gelesen werden.',
  nodeVersion: 'Node.js',
  uptime: 'Laufzeit',
  database: 'Datenbank',
  'database.pglite': 'PGlite (eingebettet)',
  'database.postgres': 'PostgreSQL',
  uptimeValue: '{d} T {h} Std {m} Min',

  indicatorLabel: 'TLS-Zertifikat',
  indicatorDays: 'noch {days} Tage',
  indicatorDetails: 'Details im Systemstatus',
} as const;

export type StatusKey = keyof typeof statusDe;

export const statusEn: Record<StatusKey, string> = {
  title: 'System status',
  intro: 'The current state of the Fluxel services, announced maintenance and security notes.',
  checkedAt: 'Checked: {time}',
  refresh: 'Refresh',
  monitors: 'For monitoring systems: {path} (JSON, no sign-in).',
  toLogin: 'To sign-in',
  delete: 'Delete',

  'overall.operational': 'All systems operational',
  'overall.degraded': 'Degraded performance',
  'overall.outage': 'Outage',
  'overall.maintenance': 'Maintenance in progress',

  'state.operational': 'Operational',
  'state.degraded': 'Degraded',
  'state.outage': 'Outage',
  'state.maintenance': 'Maintenance',
  'state.unknown': 'Unknown',

  'component.portal': 'Portal',
  'component.relay': 'Relay',
  'component.acme': 'TLS certificate (ACME)',
  'component.mailbox': 'Mailbox backlog',

  componentsTitle: 'Components',
  componentsCaption: 'State of the components',
  colComponent: 'Component',
  colState: 'State',
  colDetails: 'Details',

  'note.database_unavailable': 'The portal’s database does not answer.',
  'note.relay_unreachable': 'The relay cannot be reached.',
  'note.relay_slow': 'The relay answers slowly.',
  'note.certificate_expiring': 'The certificate expires soon.',
  'note.certificate_expired': 'The certificate has expired.',
  'note.certificate_not_yet_valid': 'The certificate is not valid yet.',
  'note.certificate_unreadable': 'The certificate cannot be read.',
  'note.stats_unavailable': 'The relay does not report mailbox statistics yet.',
  'note.backlog_high': 'Unusually many events are waiting in the mailbox.',
  'note.backlog_old': 'Events have been waiting in the mailbox unusually long.',
  'note.in_maintenance': 'In a maintenance window.',

  latency: 'Response time {ms} ms',
  expires: 'Valid until {date} ({days} days left)',
  backlog: '{n} events, oldest {age}',

  maintenanceTitle: 'Maintenance windows',
  maintenanceEmpty: 'No maintenance announced.',
  maintenanceRunning: 'In progress',
  maintenanceUpcoming: 'Scheduled',
  maintenanceWhen: '{from} to {to}',
  maintenanceAffects: 'Affects: {components}',
  maintenanceDelete: 'Delete maintenance window “{title}”',
  maintenanceDeleted: 'The maintenance window was deleted.',

  notesTitle: 'Security notes',
  notesEmpty: 'No security notes in the last 180 days.',
  notePublished: 'Published: {date}',
  noteDelete: 'Delete note “{title}”',
  noteDeleted: 'The note was deleted.',
  'severity.info': 'Information',
  'severity.low': 'Low',
  'severity.medium': 'Medium',
  'severity.high': 'High',
  'severity.critical': 'Critical',
  severityLabel: 'Severity',

  announceTitle: 'Announce maintenance',
  announceSubmit: 'Announce maintenance',
  announced: 'The maintenance window is announced.',
  publishTitle: 'Publish a security note',
  publishSubmit: 'Publish',
  published: 'The note is published.',
  fieldTitleDe: 'Title (German)',
  fieldTitleEn: 'Title (English)',
  fieldBodyDe: 'Text (German)',
  fieldBodyEn: 'Text (English)',
  fieldStartsAt: 'Start',
  fieldEndsAt: 'End',
  fieldStartsHint: 'In your local time.',
  fieldComponents: 'Affected components',
  fieldComponentsRequired: 'Please choose at least one component.',

  systemTitle: 'System information',
  tlsSubject: 'Certificate for',
  tlsSans: 'Alternative names',
  tlsIssuer: 'Issuer',
  tlsValidFrom: 'Valid from',
  tlsValidTo: 'Valid until',
  tlsDaysLeft: 'Days left',
  tlsFingerprint: 'SHA-256 fingerprint',
  tlsState: 'TLS state',
  tlsMissing: 'The served certificate cannot be read.',
  nodeVersion: 'Node.js',
  uptime: 'Uptime',
  database: 'Database',
  'database.pglite': 'PGlite (embedded)',
  'database.postgres': 'PostgreSQL',
  uptimeValue: '{d} d {h} h {m} min',

  indicatorLabel: 'TLS certificate',
  indicatorDays: '{days} days left',
  indicatorDetails: 'Details in system status',
};

export const statusDictionaries: Readonly<Record<Locale, Readonly<Record<StatusKey, string>>>> = {
  de: statusDe,
  en: statusEn,
};

export type StatusTranslate = (
  key: StatusKey,
  vars?: Readonly<Record<string, string | number>>,
) => string;

/** A `t(key, vars)` for the status page's texts in `locale`. */
export function statusTranslate(locale: Locale): StatusTranslate {
  return (key, vars) => {
    const text = statusDictionaries[locale][key] ?? statusDe[key];
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = vars[name];
      return value === undefined ? whole : String(value);
    });
  };
}
