/**
 * `@fluxel/audit`: Tamper-evident audit log: hash-chained records with signed checkpoints, an offline verifier, redaction and pseudonymisation, SIEM sinks and alert rules.
 *
 * @packageDocumentation
 */
export {
  AUDIT_ERROR_CODES,
  AuditError,
  type AuditErrorCode,
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
} from './errors.js';
