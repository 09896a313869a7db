import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, renewalTime, retryDelay } from '../src/index.ts';

const DAY = 86_400_000;
const t0 = Date.UTC(2026, 0, 1);
const cert = (days: number) => ({ notBefore: new Date(t0), notAfter: new Date(t0 + days * DAY) });

describe('renewalTime', () => {
  it('regression: the ISO strings meta.json stores threw a raw TypeError; they are taken as times', () => {
    const meta = { notBefore: '2026-12-01T00:00:00Z', notAfter: '2026-12-07T00:00:00Z' };
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(renewalTime(meta, { now }).toISOString()).toBe('2026-12-05T00:00:00.000Z');
    const ari = { start: '2026-12-04T00:00:00Z', end: '2026-12-04T00:00:00Z' };
    expect(renewalTime(meta, { now, ari }).toISOString()).toBe('2026-12-04T00:00:00.000Z');
    for (const [cert, field] of [
      [{ notBefore: 'yesterday', notAfter: meta.notAfter }, 'notBefore'],
      [{ notBefore: meta.notBefore, notAfter: 1_800_000_000_000 }, 'notAfter'],
    ] as const)
      expect(() => renewalTime(cert as never, { now })).toThrow(
        expect.objectContaining({
          code: 'ERR_ACME_INVALID_ARGUMENT',
          message: expect.stringMatching(
            new RegExp(`^${field} must be a Date or an RFC 3339 time`),
          ),
        }),
      );
  });

  it('renews 6-day certificates at day 4 and 90-day ones at day 60 (one third left)', () => {
    expect(renewalTime(cert(6), { now: t0 }).getTime()).toBe(t0 + 4 * DAY);
    expect(renewalTime(cert(90), { now: t0 }).getTime()).toBe(t0 + 60 * DAY);
    expect(renewalTime(cert(90), { now: t0, fraction: 0.5 }).getTime()).toBe(t0 + 45 * DAY);
  });

  it('regression: a "30 days left" rule renews 6-day certificates in a loop; ours renews once per lifetime', () => {
    // Simulate a week of hourly checks with re-issuance whenever due.
    let current = cert(6);
    let renewals = 0;
    for (let now = t0; now < t0 + 7 * DAY; now += 3_600_000) {
      if (renewalTime(current, { now }).getTime() <= now) {
        renewals++;
        current = { notBefore: new Date(now), notAfter: new Date(now + 6 * DAY) };
      }
    }
    expect(renewals).toBe(1);
  });

  it('picks a uniformly random time inside the ARI window', () => {
    const ari = { start: new Date(t0 + 50 * DAY), end: new Date(t0 + 52 * DAY) };
    expect(renewalTime(cert(90), { ari, now: t0, random: () => 0 }).getTime()).toBe(t0 + 50 * DAY);
    expect(renewalTime(cert(90), { ari, now: t0, random: () => 0.5 }).getTime()).toBe(
      t0 + 51 * DAY,
    );
    const picks = new Set(
      Array.from({ length: 50 }, () => renewalTime(cert(90), { ari, now: t0 }).getTime()),
    );
    expect(picks.size).toBeGreaterThan(40);
    for (const p of picks) {
      expect(p).toBeGreaterThanOrEqual(ari.start.getTime());
      expect(p).toBeLessThanOrEqual(ari.end.getTime());
    }
  });

  it('ignores an ARI window that opens only after expiry (a CA error) and uses the fraction', () => {
    const late = { start: new Date(t0 + 91 * DAY), end: new Date(t0 + 92 * DAY) };
    expect(renewalTime(cert(90), { ari: late, now: t0 }).getTime()).toBe(t0 + 60 * DAY);
  });

  it('is never in the past: an overdue certificate or a past ARI window means now', () => {
    const now = t0 + 89 * DAY;
    expect(renewalTime(cert(90), { now }).getTime()).toBe(now);
    const past = { start: new Date(t0), end: new Date(t0 + DAY) };
    expect(renewalTime(cert(90), { ari: past, now }).getTime()).toBe(now);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 0, max: 500 }),
        (days, fraction, nowDays) => {
          const at = renewalTime(cert(days), { fraction, now: t0 + nowDays * DAY });
          return (
            at.getTime() >= t0 + nowDays * DAY &&
            (at.getTime() <= t0 + days * DAY || nowDays >= days * (1 - fraction))
          );
        },
      ),
    );
  });

  it('rejects nonsense', () => {
    expect(() => renewalTime(cert(90), { fraction: 1 })).toThrow(/fraction/);
    expect(() => renewalTime({ notBefore: new Date(t0), notAfter: new Date(t0) })).toThrow();
  });
});

describe('retryDelay', () => {
  it('grows exponentially with jitter and a cap', () => {
    expect(retryDelay(0, { random: () => 0 })).toBe(30_000);
    expect(retryDelay(0, { random: () => 1 })).toBe(60_000);
    expect(retryDelay(3, { random: () => 1 })).toBe(480_000);
    expect(retryDelay(40, { random: () => 1, maxMs: 3_600_000 })).toBe(3_600_000);
    const spread = new Set(Array.from({ length: 20 }, () => retryDelay(2)));
    expect(spread.size).toBeGreaterThan(10);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, never negative', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
