export {
  type AgentConfig,
  type AgentPaths,
  agentPaths,
  defaultConfigDir,
  FileTokenStore,
} from './config.ts';
export { checkRecord, type Envelope, MAX_RECORD_BYTES, scanDropFolder } from './drop.ts';
export { AgentError, EXIT } from './errors.ts';
export { KEYCHAIN_SERVICE, openKeyStore, PASSPHRASE_ENV } from './keystore.ts';
export { type AgentIo, DEFAULT_RELAY_URL, main, USAGE } from './main.ts';
export { agentDeliver, inboxName, openRuntime, runService } from './service.ts';
