import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Keyring, open, seal } from '../src/index.ts';
import { createKeyFile, keyFileKek, readKeyFile } from '../src/node.ts';
import { bytes, rejectsWith } from './helpers.ts';

const dir = await mkdtemp(join(tmpdir(), 'fluxel-crypto-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(process.platform === 'win32')('key-file KEK (./node)', () => {
  it('creates a 0600 key file once and seals/opens with it across loads', async () => {
    const path = join(dir, 'dev.kek');
    const kek = await keyFileKek(path, { create: true });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(kek.id).toBe('file:dev.kek');
    expect(await readFile(path, 'utf8')).toMatch(/^fluxel-kek-v1:[A-Za-z0-9_-]{43}\n$/);
    const sealed = await seal(bytes('x'), { keyring: new Keyring([kek]) });
    const again = await keyFileKek(path);
    expect(await open(sealed, { keyring: new Keyring([again]) })).toEqual(bytes('x'));
    await rejectsWith(createKeyFile(path), 'ERR_CRYPTO_INVALID_ARGUMENT');
  });

  it('refuses group/other-readable and malformed files; a missing file is unavailable', async () => {
    const open644 = join(dir, 'open.kek');
    await createKeyFile(open644);
    await chmod(open644, 0o644);
    await rejectsWith(readKeyFile(open644), 'ERR_CRYPTO_INVALID_ARGUMENT');
    const bad = join(dir, 'bad.kek');
    await writeFile(bad, 'not a key\n', { mode: 0o600 });
    await rejectsWith(readKeyFile(bad), 'ERR_CRYPTO_INVALID_ARGUMENT');
    await rejectsWith(readKeyFile(join(dir, 'missing.kek')), 'ERR_CRYPTO_KEK_UNAVAILABLE');
  });
});
