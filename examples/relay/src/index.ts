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
  licenseAdminService,
  startAdminServer,
} from './admin.ts';
export {
  type Connector,
  type ConnectorCall,
  type ConnectorResult,
  type CounterpartConnectorOptions,
  counterpartConnector,
} from './connector.ts';
export {
  type Database,
  type DatabaseOptions,
  migrateRelay,
  openDatabase,
  RELAY_MIGRATIONS,
} from './db.ts';
export {
  amqpSink,
  type BrokerAddress,
  type BrokerSink,
  type BrokerSinkOptions,
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
  natsSink,
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
export { HttpProblem, PROBLEM_BASE, type ProblemExtra } from './problem.ts';
export {
  memoryRateLimiter,
  type RateLimitDecision,
  type RateLimiter,
  type RedisCounter,
  redisRateLimiter,
} from './ratelimit.ts';
export { Recorder, type RecorderOptions } from './recorder.ts';
export {
  createRelay,
  type EventFeedOptions,
  type RateLimitOptions,
  RELAY_VERSION,
  type Relay,
  type RelayOptions,
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
export {
  type DevTls,
  ensureDevTls,
  keepTlsPolicy,
  TLS_SERVER_POLICY,
  TLS12_AEAD_CIPHERS,
  TLS13_CIPHER_SUITES,
} from './tls.ts';
export { checkWebhookHeaders, WEBHOOK_TOLERANCE_SECONDS, webhookSignedWith } from './webhooks.ts';
