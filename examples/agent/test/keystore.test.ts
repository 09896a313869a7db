import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateDeviceKey } from '@fluxel/license';
import { describe, expect, it } from 'vitest';
import { agentPaths } from '../src/config.ts';
import { openKeyStore, PASSPHRASE_ENV } from '../src/keystore.ts';
import { tempDir } from './helpers.ts';

describe('file key store passphrase', () => {
  it('comes from the environment or from a file (systemd credentials), and must be long enough', async () => {
    const paths = agentPaths(tempDir());
    const secretFile = join(paths.root, 'passphrase');
    writeFileSync(secretFile, 'a passphrase from a file\n');
    const fromFile = await openKeyStore('file', paths, { [`${PASSPHRASE_ENV}_FILE`]: secretFile });
    const { privateJwk } = await loadOrCreateDeviceKey(fromFile, 'agent-x');
    const fromEnv = await openKeyStore('file', paths, {
      [PASSPHRASE_ENV]: 'a passphrase from a file',
    });
    expect(await fromEnv.load('agent-x')).toEqual(privateJwk);
    await expect(openKeyStore('file', paths, {})).rejects.toMatchObject({
      code: 'ERR_AGENT_PASSPHRASE',
    });
    await expect(openKeyStore('file', paths, { [PASSPHRASE_ENV]: 'short' })).rejects.toMatchObject({
      code: 'ERR_AGENT_PASSPHRASE',
    });
    await expect(
      openKeyStore('file', paths, { [`${PASSPHRASE_ENV}_FILE`]: join(paths.root, 'missing') }),
    ).rejects.toMatchObject({ code: 'ERR_AGENT_PASSPHRASE' });
  });
});
