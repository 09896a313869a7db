/**
 * The status page's HTTP contract: request bodies as strict zod schemas, response shapes as
 * types. Free of Node imports, so the web app may `import type` from here.
 *
 * - `GET /api/status` — public (no session), `cache-control: public, max-age=5`: the overall
 *   state, one entry per component, current and upcoming maintenance windows, recent security
 *   notes. Never hostnames, versions or error texts.
 * - `GET /api/status/system` — `status.manage`: TLS details, Node version, uptime, DB kind.
 * - `POST|PUT|DELETE /api/status/maintenance[/:id]`, `POST|PUT|DELETE /api/status/notes[/:id]`
 *   — `status.manage`, CSRF-checked, audited (`status.maintenance.*`, `status.note.*`).
 */
import { z } from 'zod';

export const COMPONENT_IDS = ['portal', 'relay', 'acme', 'mailbox'] as const;
export type ComponentId = (typeof COMPONENT_IDS)[number];

/** What a probe observed (`unknown`: no way to tell yet). */
export type ComponentState = 'operational' | 'degraded' | 'outage' | 'maintenance' | 'unknown';
export type OverallState = 'operational' | 'degraded' | 'outage' | 'maintenance';

/** Stable, public reasons (the web app translates them); never raw error texts. */
export type ComponentNote =
  | 'database_unavailable'
  | 'relay_unreachable'
  | 'relay_slow'
  | 'certificate_expiring'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'certificate_unreadable'
  | 'stats_unavailable'
  | 'backlog_high'
  | 'backlog_old'
  | 'in_maintenance';

export interface ComponentStatus {
  readonly id: ComponentId;
  readonly state: ComponentState;
  readonly note?: ComponentNote;
  /** Round trip of the probe (relay, portal database). */
  readonly latencyMs?: number;
  /** `acme`: when the served certificate expires and how many whole days are left. */
  readonly expiresAt?: string;
  readonly daysLeft?: number;
  /** `mailbox`: held events and the age of the oldest, once the relay reports them. */
  readonly backlog?: number;
  readonly oldestAgeSeconds?: number;
  /** The maintenance window that puts this component in `maintenance`. */
  readonly maintenanceId?: string;
}

export interface Localized {
  readonly de: string;
  readonly en: string;
}

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface MaintenanceWindow {
  readonly id: string;
  readonly title: Localized;
  readonly body: Localized;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly components: readonly ComponentId[];
  /** Running now. */
  readonly active: boolean;
}

export interface SecurityNote {
  readonly id: string;
  readonly title: Localized;
  readonly body: Localized;
  readonly severity: Severity;
  readonly publishedAt: string;
}

export interface PublicStatus {
  readonly state: OverallState;
  readonly checkedAt: string;
  readonly components: readonly ComponentStatus[];
  /** Running and upcoming windows, soonest first. */
  readonly maintenance: readonly MaintenanceWindow[];
  /** Published notes of the last 180 days, newest first (at most 20). */
  readonly securityNotes: readonly SecurityNote[];
}

export interface TlsInfo {
  readonly subject: string;
  readonly subjectAltNames: readonly string[];
  readonly issuer: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly daysLeft: number;
  readonly state: ComponentState;
  readonly note?: ComponentNote;
}

export interface SystemInfo {
  readonly tls: TlsInfo | undefined;
  readonly node: string;
  readonly uptimeSeconds: number;
  readonly database: 'postgres' | 'pglite';
  readonly components: readonly ComponentStatus[];
}

const MAX_WINDOW_MS = 31 * 86_400_000;
const isoTime = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) => z.string().trim().max(max).default('');

const localized = (max: number) => z.strictObject({ de: text(max), en: text(max) });
const localizedOptional = (max: number) =>
  z.strictObject({ de: optionalText(max), en: optionalText(max) }).default({ de: '', en: '' });

/** `POST /api/status/maintenance`, `PUT /api/status/maintenance/:id`. */
export const maintenanceBody = z
  .strictObject({
    title: localized(200),
    body: localizedOptional(4000),
    startsAt: isoTime,
    endsAt: isoTime,
    components: z.array(z.enum(COMPONENT_IDS)).min(1).max(COMPONENT_IDS.length),
  })
  .refine((b) => Date.parse(b.endsAt) > Date.parse(b.startsAt), {
    path: ['endsAt'],
    message: 'must be after startsAt',
    // The stable reason the web app translates (FIELD_REASONS in src/shared/api.ts).
    params: { reason: 'not_after_start' },
  })
  .refine((b) => Date.parse(b.endsAt) - Date.parse(b.startsAt) <= MAX_WINDOW_MS, {
    path: ['endsAt'],
    message: 'a window lasts at most 31 days',
    params: { reason: 'window_too_long' },
  });
export type MaintenanceBody = z.input<typeof maintenanceBody>;

/** `POST /api/status/notes`, `PUT /api/status/notes/:id`; `publishedAt` defaults to now. */
export const securityNoteBody = z.strictObject({
  title: localized(200),
  body: localized(8000),
  severity: z.enum(SEVERITIES),
  publishedAt: isoTime.optional(),
});
export type SecurityNoteBody = z.input<typeof securityNoteBody>;
