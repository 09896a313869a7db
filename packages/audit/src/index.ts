/**
 * `@fluxel/audit`: tamper-evident audit log — hash-chained records with Ed25519-signed
 * checkpoints, an offline verifier, redaction, pseudonymisation and crypto-shredding, SIEM
 * sinks with at-least-once delivery, and alert rules. This entry is Web-platform code; the
 * file store, file/syslog sinks and `verifyPath` are in `@fluxel/audit/node`, the HTTP sinks
 * in `@fluxel/audit/sinks`.
 *
 * @packageDocumentation
 */
export {
  type Alert,
  AlertEngine,
  type AlertEngineOptions,
  type AlertHook,
  type AlertRule,
  type AlertSeverity,
  adminRoleChange,
  alertEvent,
  bruteForce,
  defaultRules,
  type EmailMessage,
  type EmailTransport,
  emailHook,
  impossibleTravel,
  type LoginRuleOptions,
  newCountry,
  passwordSpraying,
  secondActivation,
  successAfterFailures,
  type WebhookHookOptions,
  webhookHook,
} from './alerts.js';
export {
  type AttachSinkOptions,
  attachSink,
  backoffDelay,
  type CursorStore,
  MemoryCursorStore,
  type RetryOptions,
  type Sink,
  SinkRunner,
} from './delivery.js';
export { canonicalJson } from './encoding.js';
export {
  AUDIT_ERROR_CODES,
  AuditError,
  type AuditErrorCode,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from './errors.js';
export {
  ACTION_PATTERN,
  type Actor,
  type AuditEvent,
  type AuditEventInput,
  type EcsDocument,
  type Geo,
  newEventId,
  type Outcome,
  type Target,
  toEcs,
} from './event.js';
export { type EventWithChain, type RecordFormat, renderRecord, renderValue } from './format.js';
export {
  cidrGeoResolver,
  distanceKm,
  type GeoRange,
  type GeoResolver,
  offlineGeoResolver,
  parseIp,
} from './geo.js';
export {
  type Ed25519Jwk,
  generateSigningKey,
  keyId,
  parseVerifyingKey,
  privateJwk,
  publicJwk,
  type SigningKey,
  signingKeyFromJwk,
  signingKeyFromSeed,
  type VerifyingKey,
  verifyingKeyFromJwk,
  verifyingKeyFromRaw,
} from './keys.js';
export {
  type AppendReceipt,
  AuditLog,
  type AuditLogOptions,
  type LogStore,
  type LogStoreState,
  MemoryStore,
  type RecordListener,
} from './log.js';
export {
  consistencyPath,
  EMPTY_TREE_ROOT,
  inclusionPath,
  leafHash,
  MerkleFrontier,
  merkleRoot,
  nodeHash,
  verifyConsistencyPath,
  verifyInclusionPath,
} from './merkle.js';
export {
  createPrivacy,
  decryptEvent,
  decryptEventWith,
  type EncryptedField,
  ERASED,
  type ExternalEncryptedField,
  type FieldCipher,
  type FieldPath,
  MemorySubjectKeyStore,
  type PrivacyOptions,
  type PrivacyTransform,
  pseudonymize,
  REDACTED,
  type SubjectKeySnapshot,
  type SubjectKeyStore,
} from './privacy.js';
export {
  type ConsistencyProof,
  type InclusionProof,
  proveConsistency,
  proveInclusion,
  type SignedCheckpoint,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './proofs.js';
export {
  type Checkpoint,
  type CheckpointReason,
  checkpointMessage,
  GENESIS_HASH,
  parseRecordLine,
  type StoredRecord,
  verifyCheckpointSignature,
} from './record.js';
export {
  type AuditQuery,
  type AuditQueryResult,
  auditSchemaSql,
  type SqlClient,
  SqlStore,
  type SqlTableOptions,
} from './sql.js';
export {
  ACTOR_TYPES,
  type AuditEventIssue,
  normalizeEvent,
  OUTCOMES,
  parseAuditEvent,
  parseAuditEventInput,
  validateAuditEvent,
  validateAuditEventInput,
} from './validate.js';
export {
  assertVerified,
  type Finding,
  type FindingCode,
  type FirstUseKey,
  Verifier,
  type VerifyOptions,
  type VerifyReport,
  verifyChunks,
  verifyLines,
} from './verify.js';
