/**
 * Texts of the partner page (German and English, the same keys — the type checks it).
 * `{name}` marks a variable.
 */
import { defineMessages, type MessageVars } from '../../messages.ts';

export const partnerMessages = defineMessages({
  de: {
    title: 'Partner-Schnittstellen',
    intro:
      'API-Zugänge (OAuth2 Client Credentials) für die Partner-API, Webhook-Abonnements für Ereignisse und das Zustellprotokoll.',
    tenant: 'Mandant',
    choose: 'Bitte wählen',
    actions: 'Aktionen',
    done: 'Fertig',
    shownOnce: 'Wird nur jetzt angezeigt. Bitte sicher ablegen.',

    clientsTitle: 'API-Zugänge',
    clientsEmpty: 'Noch keine API-Zugänge.',
    clientsCaption: 'API-Zugänge',
    clientName: 'Name',
    clientId: 'Client-ID',
    clientSecret: 'Client-Secret',
    clientScopes: 'Berechtigungen (Scopes)',
    clientLastUsed: 'Zuletzt genutzt',
    clientRevoked: 'Widerrufen',
    clientActive: 'Aktiv',
    clientCreate: 'API-Zugang anlegen',
    clientCreatedTitle: 'API-Zugang „{name}“ angelegt',
    clientRevoke: 'Widerrufen',
    clientRevokeLabel: 'API-Zugang „{name}“ widerrufen',
    clientRevokeQuestion:
      'API-Zugang „{name}“ widerrufen? Anwendungen mit diesem Zugang werden sofort abgewiesen.',
    clientRevokeConfirm: 'Ja, widerrufen',
    tokenHint: 'Token: POST {url} mit grant_type=client_credentials (HTTP Basic). API: {api}',
    scopesRequired: 'Bitte mindestens eine Berechtigung wählen.',
    'scope.licenses:read': 'Lizenzen lesen',
    'scope.events:read': 'Ereignisse lesen',
    'scope.webhooks:manage': 'Webhooks verwalten',
    'scope.sandbox': 'Sandbox (Zertifizierung)',

    subsTitle: 'Webhook-Abonnements',
    subsEmpty: 'Noch keine Webhooks.',
    subsCaption: 'Webhook-Abonnements',
    subUrl: 'Ziel-URL (https)',
    subUrlHint: 'Nur https und öffentliche Adressen.',
    subEvents: 'Ereignisse',
    subState: 'Zustand',
    subActive: 'Aktiv',
    subPaused: 'Pausiert',
    subCreate: 'Webhook anlegen',
    subCreatedTitle: 'Webhook angelegt',
    subSecret: 'Signatur-Schlüssel (Standard Webhooks)',
    subPause: 'Pausieren',
    subResume: 'Fortsetzen',
    subPing: 'Test senden',
    subPinged: 'Test-Ereignis wird zugestellt.',
    subDelete: 'Löschen',
    subDeleteLabel: 'Webhook {url} löschen',
    subDeleteQuestion: 'Webhook {url} löschen? Es werden keine Ereignisse mehr dorthin gesendet.',
    subDeleteConfirm: 'Ja, löschen',
    eventsRequired: 'Bitte mindestens ein Ereignis wählen.',
    'event.license.activated': 'Lizenz aktiviert',
    'event.license.locked': 'Lizenz gesperrt',
    'event.license.unlocked': 'Lizenz entsperrt',
    'event.order.status.forwarded': 'Bestellstatus weitergeleitet',
    'event.mailbox.event.received': 'Postfach-Ereignis empfangen',
    'event.test.ping': 'Test',

    logTitle: 'Zustellprotokoll',
    logEmpty: 'Noch keine Zustellungen.',
    logCaption: 'Webhook-Zustellungen',
    logEvent: 'Ereignis',
    logStatus: 'Status',
    logAttempts: 'Versuche',
    logLast: 'Letzter Versuch',
    logNext: 'Nächster Versuch',
    logResult: 'Ergebnis',
    logRedeliver: 'Erneut zustellen',
    logRedelivered: 'Wird erneut zugestellt.',
    logRefresh: 'Aktualisieren',
    'status.pending': 'Ausstehend',
    'status.delivering': 'Wird zugestellt',
    'status.delivered': 'Zugestellt',
    'status.failed': 'Fehlgeschlagen',
    // Why the last delivery attempt failed (`lastErrorReason`, DELIVERY_ERRORS in the partner contract).
    'deliveryError.gone': 'Das Abonnement oder das Ereignis gibt es nicht mehr.',
    'deliveryError.inactive': 'Das Abonnement ist deaktiviert. Aktivieren Sie es, um zuzustellen.',
    'deliveryError.internal_address':
      'Die Ziel-URL zeigt auf eine interne Adresse. Verwenden Sie eine öffentlich erreichbare HTTPS-Adresse.',
    'deliveryError.target_refused':
      'Die Ziel-URL ist nicht zulässig. Verwenden Sie eine vollständige HTTPS-Adresse ohne Zugangsdaten.',
    'deliveryError.http_status':
      'Ihr Empfänger hat mit einem Fehlerstatus geantwortet. Prüfen Sie den Empfänger.',
    'deliveryError.connection_refused':
      'Ihr Empfänger hat die Verbindung abgelehnt. Prüfen Sie, ob er läuft.',
    'deliveryError.timeout': 'Ihr Empfänger hat nicht rechtzeitig geantwortet.',
    'deliveryError.unreachable':
      'Ihr Empfänger ist nicht erreichbar. Prüfen Sie Host-Namen und DNS.',
    'deliveryError.failed': 'Die Zustellung ist fehlgeschlagen. Sie wird erneut versucht.',
  },
  en: {
    title: 'Partner integration',
    intro:
      'API clients (OAuth2 client credentials) for the partner API, webhook subscriptions for events, and the delivery log.',
    tenant: 'Tenant',
    choose: 'Please choose',
    actions: 'Actions',
    done: 'Done',
    shownOnce: 'Shown only now. Please store it safely.',

    clientsTitle: 'API clients',
    clientsEmpty: 'No API clients yet.',
    clientsCaption: 'API clients',
    clientName: 'Name',
    clientId: 'Client ID',
    clientSecret: 'Client secret',
    clientScopes: 'Permissions (scopes)',
    clientLastUsed: 'Last used',
    clientRevoked: 'Revoked',
    clientActive: 'Active',
    clientCreate: 'Create API client',
    clientCreatedTitle: 'API client “{name}” created',
    clientRevoke: 'Revoke',
    clientRevokeLabel: 'Revoke API client “{name}”',
    clientRevokeQuestion: 'Revoke API client “{name}”? Applications using it are refused at once.',
    clientRevokeConfirm: 'Yes, revoke',
    tokenHint: 'Token: POST {url} with grant_type=client_credentials (HTTP Basic). API: {api}',
    scopesRequired: 'Please choose at least one permission.',
    'scope.licenses:read': 'Read licenses',
    'scope.events:read': 'Read events',
    'scope.webhooks:manage': 'Manage webhooks',
    'scope.sandbox': 'Sandbox (certification)',

    subsTitle: 'Webhook subscriptions',
    subsEmpty: 'No webhooks yet.',
    subsCaption: 'Webhook subscriptions',
    subUrl: 'Target URL (https)',
    subUrlHint: 'https and public addresses only.',
    subEvents: 'Events',
    subState: 'State',
    subActive: 'Active',
    subPaused: 'Paused',
    subCreate: 'Create webhook',
    subCreatedTitle: 'Webhook created',
    subSecret: 'Signing secret (Standard Webhooks)',
    subPause: 'Pause',
    subResume: 'Resume',
    subPing: 'Send test',
    subPinged: 'The test event is being delivered.',
    subDelete: 'Delete',
    subDeleteLabel: 'Delete webhook {url}',
    subDeleteQuestion: 'Delete webhook {url}? No more events are sent there.',
    subDeleteConfirm: 'Yes, delete',
    eventsRequired: 'Please choose at least one event.',
    'event.license.activated': 'License activated',
    'event.license.locked': 'License locked',
    'event.license.unlocked': 'License unlocked',
    'event.order.status.forwarded': 'Order status forwarded',
    'event.mailbox.event.received': 'Mailbox event received',
    'event.test.ping': 'Test',

    logTitle: 'Delivery log',
    logEmpty: 'No deliveries yet.',
    logCaption: 'Webhook deliveries',
    logEvent: 'Event',
    logStatus: 'Status',
    logAttempts: 'Attempts',
    logLast: 'Last attempt',
    logNext: 'Next attempt',
    logResult: 'Result',
    logRedeliver: 'Redeliver',
    logRedelivered: 'Redelivery queued.',
    logRefresh: 'Refresh',
    'status.pending': 'Pending',
    'status.delivering': 'Delivering',
    'status.delivered': 'Delivered',
    'status.failed': 'Failed',
    // Why the last delivery attempt failed (`lastErrorReason`, DELIVERY_ERRORS in the partner contract).
    'deliveryError.gone': 'The subscription or the event no longer exists.',
    'deliveryError.inactive': 'The subscription is deactivated. Activate it to deliver.',
    'deliveryError.internal_address':
      'The target URL points to an internal address. Use a publicly reachable HTTPS address.',
    'deliveryError.target_refused':
      'The target URL is not allowed. Use a complete HTTPS address without credentials.',
    'deliveryError.http_status': 'Your receiver answered with an error status. Check the receiver.',
    'deliveryError.connection_refused':
      'Your receiver refused the connection. Check that it is running.',
    'deliveryError.timeout': 'Your receiver did not answer in time.',
    'deliveryError.unreachable': 'Your receiver cannot be reached. Check the host name and DNS.',
    'deliveryError.failed': 'The delivery failed. It will be retried.',
  },
});

export type PartnerKey = keyof typeof partnerMessages.de;
export type PartnerT = (key: PartnerKey, vars?: MessageVars) => string;

const isPartnerKey = (key: string): key is PartnerKey => Object.hasOwn(partnerMessages.de, key);

/** A dynamic key's text (`event.<type>`, `status.<s>`, `scope.<s>`, …), else the raw value. */
export function partnerLabel(t: PartnerT, prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  return isPartnerKey(key) ? t(key) : value;
}
