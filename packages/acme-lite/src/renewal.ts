/**
 * When to renew. A fixed "renew when fewer than 30 days are left" rule renews on every check
 * for certificates shorter than 30 days (Let's Encrypt's 6-day profile). Here the time is a
 * fraction of the certificate's own lifetime, or the CA's ARI window (RFC 9773) when it
 * offers one.
 */
import { AcmeError } from './errors.js';

/** An instant: a `Date`, or an RFC 3339 string as `meta.json` and ARI responses hold it. */
export type Instant = Date | string;

/** An ARI suggested renewal window (RFC 9773 §4.2). */
export interface RenewalWindow {
  readonly start: Date;
  readonly end: Date;
}

/** Milliseconds of an instant; anything else is refused naming the field. */
function timeOf(value: unknown, name: string): number {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)
        ? Date.parse(value)
        : Number.NaN;
  if (Number.isNaN(ms))
    throw new AcmeError(
      'ERR_ACME_INVALID_ARGUMENT',
      `${name} must be a Date or an RFC 3339 time such as "2026-12-06T12:00:00Z", got ${JSON.stringify(String(value).slice(0, 60))}`,
    );
  return ms;
}

/** Options of {@link renewalTime}. */
export interface RenewalTimeOptions {
  /** The CA's suggested window; wins over the fraction when present. */
  readonly ari?: { readonly start: Instant; readonly end: Instant };
  /** Renew when this fraction of the lifetime remains. Default 1/3. */
  readonly fraction?: number;
  /** The current time (ms since the epoch). Default `Date.now()`. */
  readonly now?: number;
  /** Random number in [0, 1), for picking a time inside the ARI window. */
  readonly random?: () => number;
}

/**
 * The time to renew a certificate valid from `notBefore` to `notAfter`:
 * - with an ARI window, a uniformly random time inside it (RFC 9773 §4.2), or now when that
 *   time has passed (a window that opens only after expiry is ignored);
 * - else when `fraction` of the lifetime remains (6-day certificates at day 4, 90-day ones at
 *   day 60 with the default 1/3).
 * Never earlier than `now`: an overdue certificate renews now, once, not in a loop, because the
 * renewed certificate has its own, later time.
 */
export function renewalTime(
  cert: { readonly notBefore: Instant; readonly notAfter: Instant },
  options: RenewalTimeOptions = {},
): Date {
  const { fraction = 1 / 3, now = Date.now(), random = Math.random, ari } = options;
  if (!(fraction > 0 && fraction < 1))
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'fraction must be between 0 and 1');
  const start = timeOf(cert?.notBefore, 'notBefore');
  const end = timeOf(cert?.notAfter, 'notAfter');
  if (!(end > start))
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'notAfter must be after notBefore');
  let at: number;
  const windowStart = ari ? timeOf(ari.start, 'ari.start') : undefined;
  const windowEnd = ari ? timeOf(ari.end, 'ari.end') : undefined;
  // A window that opens only after expiry is a CA error: ignore it rather than let the
  // certificate lapse.
  if (
    windowStart !== undefined &&
    windowEnd !== undefined &&
    windowEnd >= windowStart &&
    windowStart < end
  ) {
    at = windowStart + random() * (windowEnd - windowStart);
  } else {
    at = end - fraction * (end - start);
  }
  return new Date(Math.max(at, now));
}

/** Options of {@link retryDelay}. */
export interface RetryDelayOptions {
  /** First delay. Default 1 minute. */
  readonly baseMs?: number;
  /** Longest delay. Default 6 hours. */
  readonly maxMs?: number;
  readonly random?: () => number;
}

/**
 * Delay before retry number `attempt` (0-based) after a failed renewal: exponential backoff
 * with jitter (between half and all of `base · 2^attempt`, capped), so a fleet that failed
 * together does not retry together.
 */
export function retryDelay(attempt: number, options: RetryDelayOptions = {}): number {
  const { baseMs = 60_000, maxMs = 6 * 3_600_000, random = Math.random } = options;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from `now`;
 * `undefined` when absent or unreadable. Never negative.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
