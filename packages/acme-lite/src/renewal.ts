/**
 * When to renew. A fixed "renew when fewer than 30 days are left" rule renews on every check
 * for certificates shorter than 30 days (Let's Encrypt's 6-day profile). Here the time is a
 * fraction of the certificate's own lifetime, or the CA's ARI window (RFC 9773) when it
 * offers one.
 */
import { AcmeError } from './errors.js';

/**
 * An instant: a `Date`, or an RFC 3339 string as `meta.json` and ARI responses hold it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Instant, renewalTime } from '@fluxel/acme-lite';
 *
 * // meta.json and ARI hold RFC 3339 strings; Dates work the same.
 * const notBefore: Instant = '2026-01-01T00:00:00Z';
 * const notAfter: Instant = new Date('2026-01-07T00:00:00Z');
 * const at = renewalTime({ notBefore, notAfter }, { now: 0 });
 * assert.equal(at.toISOString(), '2026-01-05T00:00:00.000Z');
 * ```
 */
export type Instant = Date | string;

/**
 * An ARI suggested renewal window (RFC 9773 §4.2).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RenewalWindow, renewalTime } from '@fluxel/acme-lite';
 *
 * const window: RenewalWindow = {
 *   start: new Date('2026-02-20T00:00:00Z'),
 *   end: new Date('2026-02-21T00:00:00Z'),
 * };
 * const cert = { notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' };
 * const at = renewalTime(cert, { ari: window, now: 0 });
 * assert.ok(at >= window.start && at <= window.end);
 * ```
 */
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

/**
 * Options of {@link renewalTime}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RenewalTimeOptions, renewalTime } from '@fluxel/acme-lite';
 *
 * const day = 86_400_000;
 * const issued = Date.UTC(2026, 0, 1);
 * const options: RenewalTimeOptions = { fraction: 0.5, now: issued };
 * const at = renewalTime({ notBefore: new Date(issued), notAfter: new Date(issued + 90 * day) }, options);
 * assert.equal(at.getTime(), issued + 45 * day);
 * ```
 */
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { renewalTime } from '@fluxel/acme-lite';
 *
 * const day = 86_400_000;
 * const issued = Date.UTC(2026, 0, 1);
 * const sixDay = { notBefore: new Date(issued), notAfter: new Date(issued + 6 * day) };
 * assert.equal(renewalTime(sixDay, { now: issued }).getTime(), issued + 4 * day);
 * // Overdue: now, not in the past.
 * assert.equal(renewalTime(sixDay, { now: issued + 5 * day }).getTime(), issued + 5 * day);
 * ```
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

/**
 * Options of {@link retryDelay}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RetryDelayOptions, retryDelay } from '@fluxel/acme-lite';
 *
 * const options: RetryDelayOptions = { baseMs: 1_000, maxMs: 60_000, random: () => 1 };
 * assert.equal(retryDelay(10, options), 60_000); // capped
 * ```
 */
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { retryDelay } from '@fluxel/acme-lite';
 *
 * // Between half and all of 1 min · 2^attempt.
 * const delay = retryDelay(2);
 * assert.ok(delay >= 120_000 && delay <= 240_000);
 * assert.equal(retryDelay(0, { random: () => 0 }), 30_000);
 * ```
 */
export function retryDelay(attempt: number, options: RetryDelayOptions = {}): number {
  const { baseMs = 60_000, maxMs = 6 * 3_600_000, random = Math.random } = options;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from `now`;
 * `undefined` when absent or unreadable. Never negative.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { parseRetryAfter } from '@fluxel/acme-lite';
 *
 * assert.equal(parseRetryAfter('120'), 120_000);
 * const now = Date.parse('2026-01-01T00:00:00Z');
 * assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
 * assert.equal(parseRetryAfter(null), undefined);
 * ```
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
