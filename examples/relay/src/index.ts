export {
  type Connector,
  type ConnectorCall,
  type ConnectorResult,
  type CounterpartConnectorOptions,
  counterpartConnector,
} from './connector.ts';
export { type Database, type DatabaseOptions, openDatabase, RELAY_MIGRATIONS } from './db.ts';
export {
  createRelay,
  MAILBOX_TTL_MS,
  RELAY_VERSION,
  type Relay,
  type RelayOptions,
} from './relay.ts';
export { type DevTls, ensureDevTls } from './tls.ts';
export { checkWebhookHeaders, WEBHOOK_TOLERANCE_SECONDS, webhookSignedWith } from './webhooks.ts';
