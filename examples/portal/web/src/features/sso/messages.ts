/** The single sign-on part of the login page. `{name}` is the identity provider's name. */
import { defineMessages } from '../../messages.ts';

export const ssoMessages = defineMessages({
  de: {
    title: 'Single Sign-on',
    hint: 'Mit dem Konto Ihres Unternehmens anmelden. Der zweite Faktor des Portals bleibt nötig, sofern Ihr Identitätsanbieter keine Mehr-Faktor-Anmeldung bestätigt.',
    signInWith: 'Anmelden mit {name}',
    failed:
      'Die Anmeldung über den Identitätsanbieter ist fehlgeschlagen oder wurde abgelehnt. Bitte versuchen Sie es erneut oder wenden Sie sich an Ihre Administration.',
  },
  en: {
    title: 'Single sign-on',
    hint: "Sign in with your organisation's account. The portal's second factor is still needed unless your identity provider confirms a multi-factor sign-in.",
    signInWith: 'Sign in with {name}',
    failed:
      'The sign-in through the identity provider failed or was refused. Please try again or contact your administrator.',
  },
});
