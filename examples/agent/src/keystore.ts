/** Where the device key lives: the OS keychain (default) or an explicitly chosen encrypted file. */
import { readFileSync } from 'node:fs';
import type { DeviceKeyStore } from '@fluxel/license';
import { EncryptedFileKeyStore, KeychainKeyStore } from '@fluxel/license/node';
import type { AgentPaths, KeyStoreKind } from './config.ts';
import { AgentError, errorCode } from './errors.ts';

/** Service name the keychain entries are filed under. */
export const KEYCHAIN_SERVICE = 'fluxel-agent';
/** Environment variable with the passphrase of the encrypted file store. */
export const PASSPHRASE_ENV = 'FLUXEL_AGENT_KEY_PASSPHRASE';

/** The passphrase from the environment, or from the file `${PASSPHRASE_ENV}_FILE` names. */
export function readPassphrase(
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (env[PASSPHRASE_ENV]) return env[PASSPHRASE_ENV];
  const file = env[`${PASSPHRASE_ENV}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new AgentError(
      'ERR_AGENT_PASSPHRASE',
      `cannot read ${PASSPHRASE_ENV}_FILE (${file})`,
      1,
      {
        cause: error,
      },
    );
  }
}

export async function openKeyStore(
  kind: KeyStoreKind,
  paths: AgentPaths,
  env: Readonly<Record<string, string | undefined>>,
): Promise<DeviceKeyStore> {
  if (kind === 'file') {
    const passphrase = readPassphrase(env);
    if (!passphrase || passphrase.length < 12)
      throw new AgentError(
        'ERR_AGENT_PASSPHRASE',
        `the file key store needs a passphrase of at least 12 characters in ${PASSPHRASE_ENV} ` +
          `(or in the file named by ${PASSPHRASE_ENV}_FILE, e.g. a systemd credential)`,
        1,
      );
    return new EncryptedFileKeyStore({ directory: paths.keys, passphrase });
  }
  try {
    return await KeychainKeyStore.open({ service: KEYCHAIN_SERVICE });
  } catch (error) {
    if (errorCode(error) === 'ERR_KEYSTORE_UNAVAILABLE')
      throw new AgentError(
        'ERR_KEYSTORE_UNAVAILABLE',
        `${(error as Error).message}\nNo OS keychain is available, and the agent never falls back silently. ` +
          `To keep the device key in an encrypted file instead, run again with --key-store file ` +
          `and the passphrase in ${PASSPHRASE_ENV}.`,
        1,
        { cause: error },
      );
    throw error;
  }
}
