export {
  type AgentConfig,
  type AgentPaths,
  agentPaths,
  defaultConfigDir,
  FileTokenStore,
} from './config.ts';
export {
  checkRecord,
  fileOf,
  MAX_RECORD_BYTES,
  type OnRejected,
  type RecordMetadata,
  scanDropFolder,
} from './drop.ts';
export { AgentError, EXIT } from './errors.ts';
export { KEYCHAIN_SERVICE, openKeyStore, PASSPHRASE_ENV } from './keystore.ts';
export { type AgentIo, DEFAULT_RELAY_URL, main, USAGE } from './main.ts';
export { inboxName, logOutboxEvent, openRuntime, runService } from './service.ts';
