// What the relay's own callers open and trust it with (the relay composes the kit's).
export {
  type Database,
  type DatabaseOptions,
  openDatabase,
} from '@fluxel-example/kit/database';
export { type DevTls, ensureDevTls } from '@fluxel-example/kit/tls';
export {
  type AcmeLog,
  certificateStatus,
  prepareAcme,
  type RelayAcme,
  type RelayAcmeEvents,
  type RelayAcmeOptions,
  type RelayRenewalOptions,
  type TlsStatus,
} from './acme.ts';
export {
  type AdminApiOptions,
  type AdminServer,
  bearerMatches,
  startAdminServer,
} from './admin.ts';
export { type ConnectTracking, trackConnectFailures } from './connect-failures.ts';
export {
  type Connector,
  type ConnectorCall,
  type ConnectorResult,
  type CounterpartConnectorOptions,
  counterpartConnector,
} from './connector.ts';
export { migrateRelay, RELAY_MIGRATIONS } from './db.ts';
export {
  type DropNotice,
  EventFeed,
  FEED_EXCHANGE,
  FEED_STREAM,
  FEED_SUBJECT_PREFIX,
  type FeedEvent,
  type FeedEventInput,
  type FeedOptions,
  type FeedSink,
  type FeedSinkStats,
  feedType,
} from './feed.ts';
export {
  Forwarder,
  type ForwarderDeps,
  type ForwardOutcome,
  type ForwardRequest,
} from './forward.ts';
export { createHttpServer, type HttpServerOptions, type RelayHttpServer } from './http.ts';
export { CachedLicenseStore } from './license-cache.ts';
export { type ArrivingEvent, MAILBOX_TTL_MS, Mailbox, type MailboxOptions } from './mailbox.ts';
export { PORTAL_PREFIX, type PortalApiOptions, registerPortalRoutes } from './portal.ts';
export { HttpProblem, type ProblemExtra } from './problem.ts';
export { Recorder, type RecorderOptions } from './recorder.ts';
export {
  createRelay,
  type EventFeedOptions,
  type RateLimitOptions,
  RELAY_VERSION,
  type Relay,
  type RelayOptions,
  relayFileKek,
} from './relay.ts';
export {
  type AgentApiDeps,
  type AgentHandlers,
  agentHandlers,
  type DeviceContext,
  type ProofContext,
  type RouteContext,
  registerAgentApi,
} from './routes/agent-api.ts';
export { registerWebhookRoutes, type WebhookRouteDeps } from './routes/webhooks.ts';
export {
  groupCommit,
  PENDING_LEASE_MS,
  type SendClaim,
  type SendCompletion,
  SendLedger,
  type SendRecord,
} from './send-ledger.ts';
