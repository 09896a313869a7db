/**
 * The status page's HTTP contract: request bodies as strict zod schemas, response schemas and
 * their types. Zod only, so the web app imports it.
 *
 * - `GET /api/status` — public (no session), `cache-control: public, max-age=5`: the overall
 *   state, one entry per component, current and upcoming maintenance windows, recent security
 *   notes. Never hostnames, versions or error texts.
 * - `GET /api/status/system` — `status.manage`: TLS details, Node version, uptime, DB kind.
 * - `POST|PUT|DELETE /api/status/maintenance[/:id]`, `POST|PUT|DELETE /api/status/notes[/:id]`
 *   — `status.manage`, CSRF-checked, audited (`status.maintenance.*`, `status.note.*`).
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';

export const COMPONENT_IDS = ['portal', 'relay', 'acme', 'mailbox'] as const;
export type ComponentId = (typeof COMPONENT_IDS)[number];

/** What a probe observed (`unknown`: no way to tell yet). */
export const COMPONENT_STATES = [
  'operational',
  'degraded',
  'outage',
  'maintenance',
  'unknown',
] as const;
export type ComponentState = (typeof COMPONENT_STATES)[number];
export const OVERALL_STATES = ['operational', 'degraded', 'outage', 'maintenance'] as const;
export type OverallState = (typeof OVERALL_STATES)[number];

/** Stable, public reasons (the web app translates them); never raw error texts. */
export const COMPONENT_NOTES = [
  'database_unavailable',
  'relay_unreachable',
  'relay_slow',
  'certificate_expiring',
  'certificate_expired',
  'certificate_not_yet_valid',
  'certificate_unreadable',
  'stats_unavailable',
  'backlog_high',
  'backlog_old',
  'in_maintenance',
] as const;
export type ComponentNote = (typeof COMPONENT_NOTES)[number];

export const ComponentStatusSchema = z.object({
  id: z.enum(COMPONENT_IDS),
  state: z.enum(COMPONENT_STATES),
  note: z.enum(COMPONENT_NOTES).optional(),
  /** Round trip of the probe (relay, portal database). */
  latencyMs: z.number().optional(),
  /** `acme`: when the served certificate expires and how many whole days are left. */
  expiresAt: z.string().optional(),
  daysLeft: z.number().optional(),
  /** `mailbox`: held events and the age of the oldest, once the relay reports them. */
  backlog: z.number().optional(),
  oldestAgeSeconds: z.number().optional(),
  /** The maintenance window that puts this component in `maintenance`. */
  maintenanceId: z.string().optional(),
});
export type ComponentStatus = z.infer<typeof ComponentStatusSchema>;

export const LocalizedSchema = z.object({ de: z.string(), en: z.string() });
export type Localized = z.infer<typeof LocalizedSchema>;

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const MaintenanceWindowSchema = z.object({
  id: z.string(),
  title: LocalizedSchema,
  body: LocalizedSchema,
  startsAt: z.string(),
  endsAt: z.string(),
  components: z.array(z.enum(COMPONENT_IDS)),
  /** Running now. */
  active: z.boolean(),
});
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;

export const SecurityNoteSchema = z.object({
  id: z.string(),
  title: LocalizedSchema,
  body: LocalizedSchema,
  severity: z.enum(SEVERITIES),
  publishedAt: z.string(),
});
export type SecurityNote = z.infer<typeof SecurityNoteSchema>;

export const PublicStatusSchema = z.object({
  state: z.enum(OVERALL_STATES),
  checkedAt: z.string(),
  components: z.array(ComponentStatusSchema),
  /** Running and upcoming windows, soonest first. */
  maintenance: z.array(MaintenanceWindowSchema),
  /** Published notes of the last 180 days, newest first (at most 20). */
  securityNotes: z.array(SecurityNoteSchema),
});
export type PublicStatus = z.infer<typeof PublicStatusSchema>;

export const TlsInfoSchema = z.object({
  subject: z.string(),
  subjectAltNames: z.array(z.string()),
  issuer: z.string(),
  serialNumber: z.string(),
  fingerprint256: z.string(),
  validFrom: z.string(),
  validTo: z.string(),
  daysLeft: z.number(),
  state: z.enum(COMPONENT_STATES),
  note: z.enum(COMPONENT_NOTES).optional(),
});
export type TlsInfo = z.infer<typeof TlsInfoSchema>;

export const SystemInfoSchema = z.object({
  tls: TlsInfoSchema.optional(),
  node: z.string(),
  uptimeSeconds: z.number(),
  database: z.enum(['postgres', 'pglite']),
  components: z.array(ComponentStatusSchema),
});
export type SystemInfo = z.infer<typeof SystemInfoSchema>;

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

const WindowAnswer = z.object({ maintenance: MaintenanceWindowSchema });
const NoteAnswer = z.object({ note: SecurityNoteSchema });

export const statusContract = {
  /** Public, cacheable for a few seconds (monitors poll it). */
  status: route({
    method: 'GET',
    path: '/api/status',
    access: 'public',
    response: PublicStatusSchema,
  }),
  system: route({
    method: 'GET',
    path: '/api/status/system',
    access: 'status.manage',
    response: SystemInfoSchema,
  }),
  createWindow: route({
    method: 'POST',
    path: '/api/status/maintenance',
    access: 'status.manage',
    body: maintenanceBody,
    response: WindowAnswer,
  }),
  updateWindow: route({
    method: 'PUT',
    path: '/api/status/maintenance/:id',
    access: 'status.manage',
    body: maintenanceBody,
    response: WindowAnswer,
  }),
  deleteWindow: route({
    method: 'DELETE',
    path: '/api/status/maintenance/:id',
    access: 'status.manage',
    response: z.void(),
  }),
  createNote: route({
    method: 'POST',
    path: '/api/status/notes',
    access: 'status.manage',
    body: securityNoteBody,
    response: NoteAnswer,
  }),
  updateNote: route({
    method: 'PUT',
    path: '/api/status/notes/:id',
    access: 'status.manage',
    body: securityNoteBody,
    response: NoteAnswer,
  }),
  deleteNote: route({
    method: 'DELETE',
    path: '/api/status/notes/:id',
    access: 'status.manage',
    response: z.void(),
  }),
} as const;
