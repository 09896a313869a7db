/**
 * The alerts inbox: what the server sends and accepts. Shared by the server and the web app
 * (imports only zod and src/shared).
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';

export const ALERT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export const ALERT_SOURCES = ['portal', 'relay'] as const;

export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export type AlertState = (typeof ALERT_STATES)[number];

/**
 * Who or what an alert is about, in words. `user`: a portal user (name and e-mail);
 * `unknown-account`: sign-ins to an address that has no account; `ip`: a source address, only
 * as the audit log's keyed pseudonym (see `IP_POLICY`); `license`: the product, its tenant and
 * the end of its id (licenses of one product look alike).
 */
export const AlertSubjectSchema = z.object({
  kind: z.enum(['user', 'unknown-account', 'ip', 'license', 'other']),
  name: z.string().optional(),
  email: z.string().optional(),
  pseudonym: z.string().optional(),
  product: z.string().optional(),
  licenseRef: z.string().optional(),
});
export type AlertSubject = z.infer<typeof AlertSubjectSchema>;

export const AlertPersonSchema = z.object({
  name: z.string(),
  email: z.string(),
});

export const AlertTransitionSchema = z.object({
  at: z.string(),
  /** Absent when the user no longer exists. */
  by: AlertPersonSchema.optional(),
});

export const AlertRowSchema = z.object({
  id: z.string(),
  source: z.enum(ALERT_SOURCES),
  /** The rule: `brute-force-account`, `brute-force-ip`, `password-spraying`, `second-activation`, … */
  kind: z.string(),
  severity: z.enum(ALERT_SEVERITIES),
  state: z.enum(ALERT_STATES),
  tenantId: z.string(),
  tenantName: z.string(),
  subject: AlertSubjectSchema,
  /** How often the rule fired for this subject while the alert was not resolved. */
  count: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  /** What the rule counted (failed sign-ins, accounts, the window). */
  details: z.object({
    failures: z.number().optional(),
    accounts: z.number().optional(),
    windowMs: z.number().optional(),
  }),
  acknowledged: AlertTransitionSchema.optional(),
  resolved: AlertTransitionSchema.optional(),
});
export type AlertRow = z.infer<typeof AlertRowSchema>;

/** `GET /api/alerts`: `active` (default) = open and acknowledged. */
export const alertsQuery = z.strictObject({
  state: z.enum(['active', 'resolved', 'all']).optional(),
});

export const AlertListSchema = z.object({ alerts: z.array(AlertRowSchema) });
/** `GET /api/alerts/summary`: for the navigation and the dashboard. */
export const AlertSummarySchema = z.object({ open: z.number().int(), critical: z.number().int() });
export const AlertReplySchema = z.object({ alert: AlertRowSchema });

/**
 * What the privacy design allows to show of a source address: the audit log stores IPs only as
 * a keyed pseudonym (HMAC-SHA-256, `src/server/privacy/audit-privacy.ts`), computed before the
 * event is hashed, and keeps no table from pseudonym to address; the alert rules see only the
 * pseudonym. So nobody — administrators included — can see the real IP of an alert: the same
 * pseudonym means the same address, across tenants.
 */
export const IP_POLICY = 'pseudonymised' as const;

export const alertsContract = {
  list: route({
    method: 'GET',
    path: '/api/alerts',
    access: 'alerts.read',
    query: alertsQuery,
    response: AlertListSchema,
  }),
  summary: route({
    method: 'GET',
    path: '/api/alerts/summary',
    access: 'alerts.read',
    response: AlertSummarySchema,
  }),
  /** open → acknowledged; 409 when it is not open (any more). */
  acknowledge: route({
    method: 'POST',
    path: '/api/alerts/:id/acknowledge',
    access: 'alerts.manage',
    response: AlertReplySchema,
  }),
  /** open or acknowledged → resolved; 409 when it is resolved already. */
  resolve: route({
    method: 'POST',
    path: '/api/alerts/:id/resolve',
    access: 'alerts.manage',
    response: AlertReplySchema,
  }),
} as const;

/**
 * Where the relay posts its alerts (`@fluxel/audit`'s `webhookHook`): outside `/api`, a machine
 * call authenticated by the HMAC signature (no session, no CSRF token); the body is read as
 * the string that was signed.
 */
export const relayAlertsContract = {
  receive: route({
    method: 'POST',
    path: '/internal/relay/v1/alerts',
    access: 'public',
    response: z.void(),
  }),
} as const;
