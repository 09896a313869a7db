import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import { describe, expect, it } from 'vitest';
import { loadOrCreateDeviceKey, MemoryKeyStore } from '../src/lib/device.ts';
import { EncryptedFileKeyStore } from '../src/lib/node.ts';

const child = resolve(import.meta.dirname, 'fixtures/keychain-child.ts');
const packageDir = resolve(import.meta.dirname, '..');

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

function runChild(args: string[], env: NodeJS.ProcessEnv, underSession: boolean) {
  const node = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(child)} ${args.map((a) => JSON.stringify(a)).join(' ')}`;
  const script = underSession
    ? `printf 'test-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; ${node}; secret-tool search --all service ${JSON.stringify(args[0])} 2>/dev/null | grep -c '^secret' || true`
    : node;
  const result = spawnSync(
    underSession ? 'dbus-run-session' : 'sh',
    underSession ? ['--', 'sh', '-c', script] : ['-c', script],
    {
      cwd: packageDir,
      env,
      encoding: 'utf8',
      timeout: READY_BOUND_MS,
    },
  );
  const lines = result.stdout.trim().split('\n');
  return { report: JSON.parse(lines[0] ?? '{}'), after: lines[1], stderr: result.stderr };
}

const keychainSkip =
  has('dbus-run-session') && has('gnome-keyring-daemon') && has('secret-tool')
    ? undefined
    : missingDependency(
        'a Secret Service (dbus-run-session, gnome-keyring-daemon, secret-tool)',
        'apt-get install dbus-x11 gnome-keyring libsecret-tools',
      );

describe.skipIf(keychainSkip !== undefined)(
  `OS keychain store on a real Secret Service ${keychainSkip ?? ''}`,
  () => {
    const home = mkdtempSync(join(tmpdir(), 'fluxel-keyring-'));
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_DATA_HOME: join(home, 'data'),
      XDG_RUNTIME_DIR: home,
    };

    it('creates the device key in the keychain, finds it again, and the Secret Service holds it', () => {
      const { report, after } = runChild(['fluxel-test-a'], env, true);
      expect(report).toMatchObject({
        ok: true,
        kind: 'keychain',
        created: true,
        createdAgain: false,
        same: true,
      });
      expect(report.location).toContain('Secret Service');
      expect(after).toBe('1'); // seen independently with secret-tool
      // nothing of the key lands on disk outside the keyring's own encrypted store
      const files = readdirSync(home, { recursive: true }).map(String);
      for (const file of files) {
        const path = join(home, file);
        // The keyring daemon may still be removing its runtime sockets: skip what vanished.
        if (statSync(path, { throwIfNoEntry: false })?.isFile()) {
          expect(readFileSync(path).includes(report.d)).toBe(false);
        }
      }
    });

    it('deletes the device key', () => {
      const { report, after } = runChild(['fluxel-test-b', 'delete'], env, true);
      expect(report).toMatchObject({ ok: true, deleted: true, deletedAgain: false });
      expect(after).toBe('0');
    });

    it('without a Secret Service: a typed error that says how to choose the file store, no fallback', () => {
      const { report } = runChild(
        ['fluxel-test-c'],
        { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
        false,
      );
      expect(report).toMatchObject({ ok: false, code: 'ERR_KEYSTORE_UNAVAILABLE' });
      expect(report.message).toMatch(/EncryptedFileKeyStore/);
      // and nothing was written anywhere as a fallback
      expect(readdirSync(home).filter((f) => f.endsWith('.key.json'))).toEqual([]);
    });
  },
);

describe('encrypted file store', () => {
  it('round-trips a device key, writes mode 0600, holds no plaintext', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fluxel-keys-'));
    const store = new EncryptedFileKeyStore({ directory, passphrase: 'correct horse battery' });
    const { privateJwk, created } = await loadOrCreateDeviceKey(store, 'agent');
    expect(created).toBe(true);
    expect((await loadOrCreateDeviceKey(store, 'agent')).privateJwk).toEqual(privateJwk);
    const file = join(directory, 'agent.key.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(privateJwk.d);
    expect(await store.delete('agent')).toBe(true);
    expect(await store.load('agent')).toBeUndefined();
  });

  it('a wrong passphrase or a changed file is a typed error', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fluxel-keys-'));
    await loadOrCreateDeviceKey(
      new EncryptedFileKeyStore({ directory, passphrase: 'correct horse battery' }),
      'agent',
    );
    await expect(
      new EncryptedFileKeyStore({ directory, passphrase: 'wrong horse battery' }).load('agent'),
    ).rejects.toMatchObject({ code: 'ERR_KEYSTORE_CORRUPT' });
    const file = join(directory, 'agent.key.json');
    const box = JSON.parse(readFileSync(file, 'utf8'));
    box.data = `${box.data.slice(0, -2)}${box.data.endsWith('A') ? 'BB' : 'AA'}`;
    writeFileSync(file, JSON.stringify(box));
    await expect(
      new EncryptedFileKeyStore({ directory, passphrase: 'correct horse battery' }).load('agent'),
    ).rejects.toMatchObject({ code: 'ERR_KEYSTORE_CORRUPT' });
  });

  it('a key file moved to another name does not open (the name is authenticated)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fluxel-keys-'));
    const key = crypto.getRandomValues(new Uint8Array(32));
    const store = new EncryptedFileKeyStore({ directory, key });
    await loadOrCreateDeviceKey(store, 'a');
    execFileSync('cp', [join(directory, 'a.key.json'), join(directory, 'b.key.json')]);
    await expect(store.load('b')).rejects.toMatchObject({ code: 'ERR_KEYSTORE_CORRUPT' });
  });

  it('refuses weak secrets and path tricks', async () => {
    expect(() => new EncryptedFileKeyStore({ directory: '/tmp', passphrase: 'short' })).toThrow(
      /12 characters/,
    );
    const store = new EncryptedFileKeyStore({ directory: '/tmp', key: new Uint8Array(32) });
    await expect(store.load('../etc/passwd')).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_ARGUMENT',
    });
    await expect(store.load('.hidden')).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_ARGUMENT',
    });
  });
});

it('memory store keeps keys per name', async () => {
  const store = new MemoryKeyStore();
  const a = await loadOrCreateDeviceKey(store, 'a');
  expect((await loadOrCreateDeviceKey(store, 'a')).privateJwk).toEqual(a.privateJwk);
  expect((await loadOrCreateDeviceKey(store, 'b')).created).toBe(true);
  expect(await store.delete('a')).toBe(true);
  expect(await store.delete('a')).toBe(false);
});
