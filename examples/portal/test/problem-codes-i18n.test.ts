/**
 * Every problem code the portal API can answer with reaches people through the web UI
 * (`describeError` shows `error.<code>`): each one needs a German and an English text.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/shared/api.ts';
import { de, en } from '../web/src/i18n.ts';

describe('problem codes in the web UI', () => {
  it('every problem code has a German and an English message', () => {
    const missing = ERROR_CODES.flatMap((code) =>
      [
        [de, 'de'],
        [en, 'en'],
      ].flatMap(([dict, locale]) =>
        (dict as Record<string, string>)[`error.${code}`]?.trim() ? [] : [`${locale}: ${code}`],
      ),
    );
    expect(missing).toEqual([]);
  });
});
