/**
 * Every problem code the portal API can answer with reaches people through the web UI
 * (`describeError` shows `error.<code>`): each one needs a German and an English text. So does
 * every reason a refused field can carry (`fields[].reason`, FIELD_REASONS): the app says what
 * to do in the reader's language (`problem-text.ts`) and never shows the server's message.
 */
import { describe, expect, it } from 'vitest';
import { ORDER_FAILURES } from '../src/features/certificates/contract.ts';
import { DELIVERY_ERRORS } from '../src/features/partner/contract.ts';
import { ERROR_CODES, FIELD_REASONS } from '../src/shared/api.ts';
import { certificatesMessages } from '../web/src/features/certificates/messages.ts';
import { partnerMessages } from '../web/src/features/partner/messages.ts';
import { de, en, makeTranslate } from '../web/src/i18n.ts';
import { fieldSentence } from '../web/src/problem-text.ts';

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

  it('every field reason has a German and an English sentence', () => {
    const missing = FIELD_REASONS.flatMap((reason) =>
      [
        [de, 'de'],
        [en, 'en'],
      ].flatMap(([dict, locale]) =>
        (dict as Record<string, string>)[`problem.reason.${reason}`]?.trim()
          ? []
          : [`${locale}: ${reason}`],
      ),
    );
    expect(missing).toEqual([]);
  });

  it('sentences made for one field name a reason from the list', () => {
    const stray = Object.keys(de)
      .filter((key) => key.startsWith('problem.reason.') || key.startsWith('problem.field.'))
      .filter((key) => !(FIELD_REASONS as readonly string[]).includes(key.split('.').at(-1) ?? ''));
    expect(stray).toEqual([]);
  });

  it('what the app says for each reason is a sentence, not a code or a pattern', () => {
    const paths = ['code', 'password', 'endsAt', 'url', 'title.de', 'entitlements.0', '(body)'];
    const leaks: string[] = [];
    for (const locale of ['de', 'en'] as const) {
      const t = makeTranslate(locale);
      for (const reason of FIELD_REASONS)
        for (const path of paths) {
          const text = fieldSentence(t, { path, reason });
          // No reason code, no placeholder left, no regular expression, no raw path.
          if (
            /[a-z]+_[a-z_]+|\{\w+\}|\/\^|\(body\)|entitlements\.0/.test(text) ||
            !/[.!]$/.test(text)
          )
            leaks.push(`${locale} ${path} ${reason}: ${text}`);
        }
    }
    expect(leaks).toEqual([]);
  });

  it('every reason a certificate order fails for has a German and an English sentence', () => {
    const missing = ORDER_FAILURES.flatMap((failure) =>
      [
        [certificatesMessages.de, 'de'],
        [certificatesMessages.en, 'en'],
      ].flatMap(([dict, locale]) =>
        (dict as Record<string, string>)[`failure.${failure}`]?.trim()
          ? []
          : [`${locale}: ${failure}`],
      ),
    );
    expect(missing).toEqual([]);
  });

  it('every reason a webhook delivery fails for has a German and an English sentence', () => {
    const missing = DELIVERY_ERRORS.flatMap((reason) =>
      [
        [partnerMessages.de, 'de'],
        [partnerMessages.en, 'en'],
      ].flatMap(([dict, locale]) =>
        (dict as Record<string, string>)[`deliveryError.${reason}`]?.trim()
          ? []
          : [`${locale}: ${reason}`],
      ),
    );
    expect(missing).toEqual([]);
  });
});
