/**
 * Back-off messages count down correctly: the wait is counted from when the answer came to
 * now (so a shown message goes 3, 2, "1 Sekunde", then says a retry is possible), with the
 * singular where German and English have one.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../web/src/api.ts';
import { translate } from '../web/src/i18n.ts';
import { describeError, formatDuration } from '../web/src/ui.tsx';

const de = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) =>
  translate('de', key, vars);
const en = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) =>
  translate('en', key, vars);

describe('back-off messages', () => {
  it('durations use the singular for one: 1 Sekunde (not "1 Sekunden")', () => {
    expect(formatDuration(de, 1)).toBe('1 Sekunde');
    expect(formatDuration(de, 0.2)).toBe('1 Sekunde');
    expect(formatDuration(de, 2)).toBe('2 Sekunden');
    expect(formatDuration(de, 89)).toBe('89 Sekunden');
    expect(formatDuration(de, 3 * 3600)).toBe('3 Stunden');
    expect(formatDuration(en, 1)).toBe('1 second');
    expect(formatDuration(en, 45)).toBe('45 seconds');
    expect(formatDuration(en, 120)).toBe('2 minutes');
  });

  it('a throttled answer counts down from when it came, then says a retry is possible', () => {
    const error = new ApiError({ status: 429, code: 'throttled', title: 'x', retryAfter: 3 });
    const at = error.retryAt as number;
    expect(at).toBeGreaterThan(Date.now());
    expect(describeError(de, error, at - 3000).message).toContain('in 3 Sekunden');
    expect(describeError(de, error, at - 1500).message).toContain('in 2 Sekunden');
    expect(describeError(de, error, at - 900).message).toContain('in 1 Sekunde ');
    expect(describeError(de, error, at).message).toBe('Sie können es jetzt erneut versuchen.');
    expect(describeError(en, error, at + 5000).message).toBe('You can try again now.');
  });

  it('a lockout counts down the same way; without a wait it names none', () => {
    const locked = new ApiError({ status: 423, code: 'locked_out', title: 'x', retryAfter: 300 });
    expect(describeError(de, locked, (locked.retryAt as number) - 150_000).message).toContain(
      '3 Minuten',
    );
    expect(describeError(de, locked, locked.retryAt as number).message).toBe(
      'Sie können es jetzt erneut versuchen.',
    );
    const plain = new ApiError({ status: 429, code: 'throttled', title: 'x' });
    expect(describeError(de, plain).message).toBe(de('error.throttled'));
  });
});
