import { describe, expect, it } from 'vitest';
import { de, en, translate } from '../web/src/i18n.ts';
import { featureMessages } from './feature-messages.ts';

describe('web i18n', () => {
  it('German and English have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(de).sort());
  });

  it('no text is empty and both use the same variables', () => {
    const vars = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(de) as (keyof typeof de)[]) {
      expect(de[key].trim(), key).not.toBe('');
      expect(en[key].trim(), key).not.toBe('');
      expect(vars(en[key]), key).toEqual(vars(de[key]));
    }
  });

  it('fills in variables', () => {
    expect(translate('en', 'dashboard.hello', { name: 'Ada' })).toBe('Hello, Ada');
    expect(translate('de', 'dashboard.hello', { name: 'Ada' })).toBe('Hallo, Ada');
  });
});

describe("every feature's messages (web/src/features/*/messages.ts)", () => {
  it('German and English have the same keys and variables, and no empty text', async () => {
    const vars = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [name, { de: german, en: english }] of await featureMessages()) {
      expect(Object.keys(english).sort(), name).toEqual(Object.keys(german).sort());
      for (const [key, text] of Object.entries(german)) {
        const other = new Map(Object.entries(english)).get(key) ?? '';
        expect(text.trim(), `${name} ${key}`).not.toBe('');
        expect(other.trim(), `${name} ${key}`).not.toBe('');
        expect(vars(other), `${name} ${key}`).toEqual(vars(text));
      }
    }
  });
});
