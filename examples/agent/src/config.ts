/**
 * The agent's configuration folder: non-secret settings, tokens (useless without the device
 * key), the outbox, the mailbox dedupe log and the drop/inbox/rejected folders.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { StoredTokens, TokenStore } from '@fluxel/relay-client/node';
import { AgentError } from './errors.ts';

export type KeyStoreKind = 'keychain' | 'file';

/** `config.json`: nothing in it is secret. */
export interface AgentConfig {
  readonly version: 1;
  readonly relayUrl: string;
  /** Absolute path of the PEM CA the relay's certificate must chain to (else system roots). */
  readonly caPath?: string;
  /** SPKI SHA-256 pins (base64); one must match the relay's chain. */
  readonly pins: readonly string[];
  readonly licenseId: string;
  readonly keyStore: KeyStoreKind;
  /** Name of the device key in the store. */
  readonly keyName: string;
  /** RFC 7638 thumbprint of the device's public key. */
  readonly jkt: string;
  readonly activatedAt: string;
}

export interface AgentPaths {
  readonly root: string;
  readonly config: string;
  readonly tokens: string;
  readonly keys: string;
  readonly outbox: string;
  readonly mailbox: string;
  readonly outgoing: string;
  readonly claimed: string;
  readonly inbox: string;
  readonly rejected: string;
  readonly state: string;
  /** An activation whose answer never arrived: which device key to retry with. */
  readonly pending: string;
}

/** The default folder: `FLUXEL_AGENT_CONFIG`, else the OS's per-user application folder. */
export function defaultConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.FLUXEL_AGENT_CONFIG) return resolve(env.FLUXEL_AGENT_CONFIG);
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'fluxel-agent');
  if (process.platform === 'darwin')
    return join(homedir(), 'Library', 'Application Support', 'fluxel-agent');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'fluxel-agent');
}

export function agentPaths(root: string): AgentPaths {
  const abs = resolve(root);
  return {
    root: abs,
    config: join(abs, 'config.json'),
    tokens: join(abs, 'tokens.json'),
    keys: join(abs, 'keys'),
    outbox: join(abs, 'outbox'),
    mailbox: join(abs, 'mailbox'),
    outgoing: join(abs, 'outgoing'),
    claimed: join(abs, 'outgoing', '.claimed'),
    inbox: join(abs, 'inbox'),
    rejected: join(abs, 'rejected'),
    state: join(abs, 'state.json'),
    pending: join(abs, 'activation-pending.json'),
  };
}

/** Creates the folder tree (mode 0700). */
export function ensureFolders(paths: AgentPaths): void {
  for (const dir of [paths.root, paths.outgoing, paths.claimed, paths.inbox, paths.rejected])
    mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not supported everywhere (Windows); the rename is still atomic.
  }
}

/** Writes `data` to `path` atomically (temp file, fsync, rename, fsync folder), mode 0600. */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dir);
}

export function loadConfig(paths: AgentPaths): AgentConfig | undefined {
  if (!existsSync(paths.config)) return undefined;
  let parsed: AgentConfig;
  try {
    parsed = JSON.parse(readFileSync(paths.config, 'utf8')) as AgentConfig;
  } catch (error) {
    throw new AgentError('ERR_AGENT_CONFIG', `${paths.config} is not valid JSON`, 1, {
      cause: error,
    });
  }
  if (parsed.version !== 1 || !parsed.licenseId || !parsed.relayUrl || !parsed.keyName)
    throw new AgentError('ERR_AGENT_CONFIG', `${paths.config} is incomplete`, 1);
  return parsed;
}

/** The config, or exit code 3 when this folder was never activated. */
export function requireConfig(paths: AgentPaths): AgentConfig {
  const config = loadConfig(paths);
  if (!config)
    throw new AgentError(
      'ERR_AGENT_NOT_ACTIVATED',
      `not activated (no ${paths.config}); run: fluxel-agent activate <license-key>`,
      3,
    );
  return config;
}

export function saveConfig(paths: AgentPaths, config: AgentConfig): void {
  writeFileAtomic(paths.config, `${JSON.stringify(config, null, 2)}\n`);
}

/** Tokens in `tokens.json` (0600), written atomically. */
export class FileTokenStore implements TokenStore {
  constructor(readonly path: string) {}

  load(): StoredTokens | undefined {
    if (!existsSync(this.path)) return undefined;
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as StoredTokens;
    } catch {
      return undefined; // a broken file only costs a refresh
    }
  }

  save(tokens: StoredTokens): void {
    writeFileAtomic(this.path, JSON.stringify(tokens));
  }
}
