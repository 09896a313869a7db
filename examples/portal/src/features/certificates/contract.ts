/**
 * The certificates API: the settings body, the response schemas and their types, shared by
 * the server and the web page (zod only, so the page bundles no server code).
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';

/** Which ACME directory orders go to. `custom` is the operator-configured one (Pebble in tests). */
export const ACME_DIRECTORY_CHOICES = ['production', 'staging', 'custom'] as const;
export type AcmeDirectoryChoice = (typeof ACME_DIRECTORY_CHOICES)[number];

export const ORDER_STATES = ['pending', 'validating', 'issuing', 'installed', 'failed'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** `PUT /api/certificates/settings`. */
export const settingsBody = z
  .object({
    address: z.string().max(300),
    email: z.union([z.literal(''), z.string().trim().toLowerCase().email().max(254)]),
    directory: z.enum(ACME_DIRECTORY_CHOICES),
  })
  .strict();

export const CertificateSettingsSchema = z.object({
  /** The public server address (a DNS name), or empty. */
  address: z.string(),
  /** The contact e-mail for the ACME account, or empty. */
  email: z.string(),
  directory: z.enum(ACME_DIRECTORY_CHOICES),
});
export type CertificateSettings = z.infer<typeof CertificateSettingsSchema>;

export const DirectoryOptionSchema = z.object({
  choice: z.enum(ACME_DIRECTORY_CHOICES),
  url: z.string(),
});
export type DirectoryOption = z.infer<typeof DirectoryOptionSchema>;

/**
 * Why an order failed, as a stable code the web app translates (`failure.*` in the page's
 * messages); `message` keeps the technical text for the audit log and operators.
 */
export const ORDER_FAILURES = [
  'interrupted',
  'listener_port',
  'acme_unreachable',
  'acme_rate_limited',
  'acme_timeout',
  'validation_failed',
  'acme_refused',
  'error',
] as const;
export type OrderFailure = (typeof ORDER_FAILURES)[number];

export const CertificateOrderViewSchema = z.object({
  id: z.string(),
  domain: z.string(),
  state: z.enum(ORDER_STATES),
  /** The technical reason of a failure (English, for operators); the UI shows `failure`. */
  message: z.string().optional(),
  /** Set when `state` is `failed`. */
  failure: z.enum(ORDER_FAILURES).optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
});
export type CertificateOrderView = z.infer<typeof CertificateOrderViewSchema>;

export const CertificateDetailsSchema = z.object({
  /** `acme`: a certificate from the ACME CA; `development`: the built-in dev certificate. */
  source: z.enum(['acme', 'development']),
  subject: z.string(),
  sans: z.array(z.string()).readonly(),
  issuer: z.string(),
  serial: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  daysLeft: z.number(),
  /** For `acme`: the order folder in the `letsencrypt/<directory>/orders/<id>/` layout. */
  orderId: z.string().optional(),
  directory: z.string().optional(),
  certPath: z.string().optional(),
  keyPath: z.string().optional(),
  chainPath: z.string().optional(),
});
export type CertificateDetails = z.infer<typeof CertificateDetailsSchema>;

/**
 * The TLS state for the status indicator: `development` (dev certificate), `active` (ACME
 * certificate, more than a third of its life left or more than 30 days), `expiring`, `expired`.
 */
export const TLS_STATES = ['development', 'active', 'expiring', 'expired'] as const;
export type TlsState = (typeof TLS_STATES)[number];

export const CertificatesOverviewSchema = z.object({
  settings: CertificateSettingsSchema,
  directories: z.array(DirectoryOptionSchema),
  /** The port the HTTP-01 listener opens (port 80 must reach it). */
  http01Port: z.number(),
  tls: z.enum(TLS_STATES),
  current: CertificateDetailsSchema,
  /** The newest order (running or finished). */
  order: CertificateOrderViewSchema.optional(),
  /** Whether the renewal manager is running for the installed certificate. */
  renewal: z.object({ active: z.boolean(), nextAt: z.string().optional() }),
});
export type CertificatesOverview = z.infer<typeof CertificatesOverviewSchema>;

export const EVALUATE_CODES = [
  'ok',
  'not_configured',
  'untrusted',
  'name_mismatch',
  'expired',
  'unreachable',
  'timeout',
  'not_installed',
  'mismatch',
  'error',
] as const;
export type EvaluateCode = (typeof EVALUATE_CODES)[number];

export const EvaluateViewSchema = z.object({
  ok: z.boolean(),
  code: z.enum(EVALUATE_CODES),
  /** The technical reason (from the TLS check). */
  reason: z.string(),
  url: z.string(),
  servedSerial: z.string().optional(),
  storedSerial: z.string().optional(),
  daysLeft: z.number().optional(),
  checkedAt: z.string(),
});
export type EvaluateView = z.infer<typeof EvaluateViewSchema>;

/** `POST /api/certificates/order` (202). */
export const OrderStartedSchema = z.object({
  id: z.string(),
  domain: z.string(),
  state: z.literal('pending'),
});

export const certificatesContract = {
  overview: route({
    method: 'GET',
    path: '/api/certificates',
    access: 'certificates.manage',
    response: CertificatesOverviewSchema,
  }),
  saveSettings: route({
    method: 'PUT',
    path: '/api/certificates/settings',
    access: 'certificates.manage',
    body: settingsBody,
    response: CertificatesOverviewSchema,
  }),
  /** 202: the order runs in the background. */
  order: route({
    method: 'POST',
    path: '/api/certificates/order',
    access: 'certificates.manage',
    response: OrderStartedSchema,
  }),
  orderState: route({
    method: 'GET',
    path: '/api/certificates/order/:id',
    access: 'certificates.manage',
    response: CertificateOrderViewSchema,
  }),
  current: route({
    method: 'GET',
    path: '/api/certificates/current',
    access: 'certificates.manage',
    response: CertificateDetailsSchema,
  }),
  deleteCurrent: route({
    method: 'DELETE',
    path: '/api/certificates/current',
    access: 'certificates.manage',
    response: CertificatesOverviewSchema,
  }),
  evaluate: route({
    method: 'POST',
    path: '/api/certificates/evaluate',
    access: 'certificates.manage',
    response: EvaluateViewSchema,
  }),
} as const;
