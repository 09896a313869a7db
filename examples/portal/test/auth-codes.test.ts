/** One-time e-mail/SMS codes (peppered HMAC, expiry, attempts) and the send rate limit. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkOneTimeCode, newOneTimeCode, sendAllowed } from '../src/features/auth/codes.ts';

const pepper = 'test-pepper-0123456789abcdef0123456789';
const now = 1_700_000_000_000;
const MIN = 60_000;

describe('newOneTimeCode', () => {
  it('makes a 6-digit code valid for 10 minutes, hashed with HMAC-SHA-256(pepper)', () => {
    const { code, hash, expiresAt } = newOneTimeCode({ now, pepper });
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(expiresAt).toBe(now + 10 * MIN);
    expect(hash).toBe(createHmac('sha256', pepper).update(`\0${code}`).digest('hex'));
    expect(hash).not.toContain(code);
  });

  it('honours digits, ttl and context; refuses a short pepper', () => {
    const made = newOneTimeCode({ now, pepper, digits: 8, ttlMs: MIN, context: 'login:42' });
    expect(made.code).toMatch(/^[0-9]{8}$/);
    expect(made.expiresAt).toBe(now + MIN);
    expect(() => newOneTimeCode({ now, pepper: 'short' })).toThrow(RangeError);
    expect(() => newOneTimeCode({ now, pepper, digits: 3 })).toThrow(RangeError);
  });

  it('draws codes uniformly, including leading zeros', () => {
    const firstDigits = new Set<string>();
    for (let i = 0; i < 300; i++) firstDigits.add(newOneTimeCode({ now, pepper }).code[0] ?? '');
    expect(firstDigits.size).toBe(10);
  });
});

describe('checkOneTimeCode', () => {
  const made = newOneTimeCode({ now, pepper, context: 'login:42' });
  const stored = { hash: made.hash, expiresAt: made.expiresAt, attempts: 0 };
  const options = { now: now + MIN, pepper, context: 'login:42' };
  const wrong = String((Number(made.code) + 1) % 1_000_000).padStart(6, '0');

  it('accepts the right code, also with spaces', () => {
    expect(checkOneTimeCode(stored, made.code, options)).toEqual({ ok: true });
    expect(
      checkOneTimeCode(stored, `${made.code.slice(0, 3)} ${made.code.slice(3)}`, options),
    ).toEqual({ ok: true });
  });

  it('refuses a wrong code, a wrong context and a wrong pepper', () => {
    expect(checkOneTimeCode(stored, wrong, options)).toEqual({ ok: false, reason: 'invalid' });
    expect(checkOneTimeCode(stored, '', options)).toEqual({ ok: false, reason: 'invalid' });
    expect(checkOneTimeCode(stored, made.code, { ...options, context: 'login:43' }).ok).toBe(false);
    expect(checkOneTimeCode(stored, made.code, { ...options, pepper: `${pepper}x` }).ok).toBe(
      false,
    );
    expect(checkOneTimeCode({ ...stored, hash: 'zz' }, made.code, options).ok).toBe(false);
  });

  it('expires exactly at expiresAt', () => {
    expect(checkOneTimeCode(stored, made.code, { ...options, now: made.expiresAt - 1 }).ok).toBe(
      true,
    );
    expect(checkOneTimeCode(stored, made.code, { ...options, now: made.expiresAt })).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses even the right code once maxAttempts failures are recorded', () => {
    expect(checkOneTimeCode({ ...stored, attempts: 4 }, made.code, options)).toEqual({ ok: true });
    expect(checkOneTimeCode({ ...stored, attempts: 5 }, made.code, options)).toEqual({
      ok: false,
      reason: 'too_many_attempts',
    });
    expect(
      checkOneTimeCode({ ...stored, attempts: 1 }, made.code, { ...options, maxAttempts: 1 }).ok,
    ).toBe(false);
    // Attempts are reported before expiry.
    expect(
      checkOneTimeCode({ ...stored, attempts: 9 }, made.code, { ...options, now: now + 99 * MIN }),
    ).toEqual({
      ok: false,
      reason: 'too_many_attempts',
    });
  });
});

describe('sendAllowed', () => {
  it('allows the first send', () => {
    expect(sendAllowed([], now)).toEqual({ ok: true });
  });

  it('enforces the 30 s minimum interval', () => {
    expect(sendAllowed([now - 10_000], now)).toEqual({ ok: false, retryAfterMs: 20_000 });
    expect(sendAllowed([now - 29_999], now)).toEqual({ ok: false, retryAfterMs: 1 });
    expect(sendAllowed([now - 30_000], now)).toEqual({ ok: true });
  });

  it('allows 3 per 15 minutes and says when the oldest leaves the window', () => {
    const history = [now - 14 * MIN, now - 5 * MIN, now - MIN];
    expect(sendAllowed(history.slice(1), now)).toEqual({ ok: true });
    expect(sendAllowed(history, now)).toEqual({ ok: false, retryAfterMs: MIN });
    expect(sendAllowed(history, now + MIN)).toEqual({ ok: true });
    // Order of the history does not matter; old entries are ignored.
    expect(sendAllowed([now - MIN, now - 40 * MIN, now - 14 * MIN, now - 5 * MIN], now)).toEqual({
      ok: false,
      retryAfterMs: MIN,
    });
  });

  it('takes the later of both limits and honours a custom policy', () => {
    const history = [now - 14 * MIN - 50_000, now - 10_000];
    expect(sendAllowed(history, now, { perWindow: 2 })).toEqual({
      ok: false,
      retryAfterMs: 20_000,
    });
    const h2 = [now - 10 * MIN, now - 20_000];
    expect(sendAllowed(h2, now, { perWindow: 2 })).toEqual({ ok: false, retryAfterMs: 5 * MIN });
    expect(sendAllowed(h2, now, { perWindow: 2, windowMs: 11 * MIN, minIntervalMs: 0 })).toEqual({
      ok: false,
      retryAfterMs: MIN,
    });
    // A send exactly windowMs ago has left the window.
    expect(sendAllowed(h2, now, { perWindow: 2, windowMs: 10 * MIN, minIntervalMs: 0 })).toEqual({
      ok: true,
    });
  });
});
