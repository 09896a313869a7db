/**
 * Texts of the single sign-on part of the login page (German and English, the same keys — the
 * type checks it). Kept next to the page so the shared dictionary in `i18n.ts` stays untouched;
 * `{name}` marks a variable.
 */
import type { Locale } from '../../../src/shared/api.ts';

export const ssoDe = {
  title: 'Single Sign-on',
  hint: 'Mit dem Konto Ihres Unternehmens anmelden. Der zweite Faktor des Portals bleibt nötig, sofern Ihr Identitätsanbieter keine Mehr-Faktor-Anmeldung bestätigt.',
  signInWith: 'Anmelden mit {name}',
  failed:
    'Die Anmeldung über den Identitätsanbieter ist fehlgeschlagen oder wurde abgelehnt. Bitte versuchen Sie es erneut oder wenden Sie sich an Ihre Administration.',
};

export type SsoKey = keyof typeof ssoDe;

export const ssoEn: Record<SsoKey, string> = {
  title: 'Single sign-on',
  hint: "Sign in with your organisation's account. The portal's second factor is still needed unless your identity provider confirms a multi-factor sign-in.",
  signInWith: 'Sign in with {name}',
  failed:
    'The sign-in through the identity provider failed or was refused. Please try again or contact your administrator.',
};

export const ssoDictionaries: Readonly<Record<Locale, Readonly<Record<SsoKey, string>>>> = {
  de: ssoDe,
  en: ssoEn,
};

export type SsoTranslate = (
  key: SsoKey,
  vars?: Readonly<Record<string, string | number>>,
) => string;

/** A `t(key, vars)` for the SSO texts in `locale`. */
export function ssoTranslate(locale: Locale): SsoTranslate {
  return (key, vars) => {
    const text = ssoDictionaries[locale][key] ?? ssoDe[key];
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = vars[name];
      return value === undefined ? whole : String(value);
    });
  };
}
