/**
 * A feature's texts beside its page: `defineMessages({ de, en })` (the same keys in both
 * languages — a missing or extra key is a type error) and `useMessages(messages)` for a
 * `t(key, vars)` in the app's current language. `{name}` marks a variable. The app-wide
 * texts (navigation, common words, problems) stay in i18n.ts.
 */
import { useMemo } from 'react';
import type { Locale } from '../../src/shared/api.ts';
import { useApp } from './context.tsx';

export type MessageVars = Readonly<Record<string, string | number>>;

/** Both languages of a feature's texts. */
export interface Messages<K extends string> {
  readonly de: Readonly<Record<K, string>>;
  readonly en: Readonly<Record<K, string>>;
}

/** Declares a feature's texts; English must have exactly the German keys. */
export function defineMessages<const De extends Readonly<Record<string, string>>>(messages: {
  readonly de: De;
  readonly en: { readonly [K in keyof De]: string };
}): Messages<keyof De & string> {
  return messages;
}

/** Fills `{name}` variables into `text`; an unknown variable stays as written. */
export function fill(text: string, vars: MessageVars | undefined): string {
  if (!vars) return text;
  const byName = new Map(Object.entries(vars));
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = byName.get(name);
    return value === undefined ? whole : String(value);
  });
}

/** A `t(key, vars)` for `messages` in `locale` (German when a text is missing). */
export function messagesFor<K extends string>(
  messages: Messages<K>,
  locale: Locale,
): (key: K, vars?: MessageVars) => string {
  const dictionary = locale === 'en' ? messages.en : messages.de;
  return (key, vars) => fill(dictionary[key] ?? messages.de[key], vars);
}

/** A `t(key, vars)` for `messages` in the app's current language. */
export function useMessages<K extends string>(
  messages: Messages<K>,
): (key: K, vars?: MessageVars) => string {
  const { locale } = useApp();
  return useMemo(() => messagesFor(messages, locale), [messages, locale]);
}

/**
 * The text of a key made at run time (`status.<s>`, `cert.state.<s>`, …): `t(prefix.value)`
 * when `messages` has that key, else the raw value (a state this build does not know yet).
 */
export function labelOf<K extends string>(
  messages: Messages<K>,
  t: (key: K, vars?: MessageVars) => string,
  prefix: string,
  value: string,
): string {
  const key = `${prefix}.${value}`;
  return Object.hasOwn(messages.de, key) ? t(key as K) : value;
}
