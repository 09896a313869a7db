/**
 * The certificates API: response shapes shared by the server and the web page (types only, so
 * the page bundles no server code).
 */

/** Which ACME directory orders go to. `custom` is the operator-configured one (Pebble in tests). */
export type AcmeDirectoryChoice = 'production' | 'staging' | 'custom';

export type OrderState = 'pending' | 'validating' | 'issuing' | 'installed' | 'failed';

export interface CertificateSettings {
  /** The public server address (a DNS name), or empty. */
  readonly address: string;
  /** The contact e-mail for the ACME account, or empty. */
  readonly email: string;
  readonly directory: AcmeDirectoryChoice;
}

export interface DirectoryOption {
  readonly choice: AcmeDirectoryChoice;
  readonly url: string;
}

/**
 * Why an order failed, as a stable code the web app translates (`failure.*` in
 * certificates.i18n.ts); `message` keeps the technical text for the audit log and operators.
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

export interface CertificateOrderView {
  readonly id: string;
  readonly domain: string;
  readonly state: OrderState;
  /** The technical reason of a failure (English, for operators); the UI shows `failure`. */
  readonly message?: string;
  /** Set when `state` is `failed`. */
  readonly failure?: OrderFailure;
  readonly startedAt: string;
  readonly finishedAt?: string;
}

export interface CertificateDetails {
  /** `acme`: a certificate from the ACME CA; `development`: the built-in dev certificate. */
  readonly source: 'acme' | 'development';
  readonly subject: string;
  readonly sans: readonly string[];
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  /** For `acme`: the order folder in the `letsencrypt/<directory>/orders/<id>/` layout. */
  readonly orderId?: string;
  readonly directory?: string;
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly chainPath?: string;
}

/**
 * The TLS state for the status indicator: `development` (dev certificate), `active` (ACME
 * certificate, more than a third of its life left or more than 30 days), `expiring`, `expired`.
 */
export type TlsState = 'development' | 'active' | 'expiring' | 'expired';

export interface CertificatesOverview {
  readonly settings: CertificateSettings;
  readonly directories: readonly DirectoryOption[];
  /** The port the HTTP-01 listener opens (port 80 must reach it). */
  readonly http01Port: number;
  readonly tls: TlsState;
  readonly current: CertificateDetails;
  /** The newest order (running or finished). */
  readonly order?: CertificateOrderView;
  /** Whether the renewal manager is running for the installed certificate. */
  readonly renewal: { readonly active: boolean; readonly nextAt?: string };
}

export type EvaluateCode =
  | 'ok'
  | 'not_configured'
  | 'untrusted'
  | 'name_mismatch'
  | 'expired'
  | 'unreachable'
  | 'timeout'
  | 'not_installed'
  | 'mismatch'
  | 'error';

export interface EvaluateView {
  readonly ok: boolean;
  readonly code: EvaluateCode;
  /** The technical reason (from the TLS check). */
  readonly reason: string;
  readonly url: string;
  readonly servedSerial?: string;
  readonly storedSerial?: string;
  readonly daysLeft?: number;
  readonly checkedAt: string;
}
