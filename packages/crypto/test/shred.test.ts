import { describe, expect, it } from 'vitest';
import { Keyring, localKek, MemorySubjectKeyStore, open, SubjectKeys, seal } from '../src/index.ts';
import { bytes, rejectsWith } from './helpers.ts';

describe('crypto-shredding', () => {
  it('destroying a tenant key makes all its records unopenable, others unaffected', async () => {
    const store = new MemorySubjectKeyStore();
    const keys = new SubjectKeys({ store });
    const a = await keys.keyring('tenant-a', { create: true });
    const b = await keys.keyring('tenant-b', { create: true });
    const recordA = await seal(bytes('a'), { keyring: a, context: { tenant: 'tenant-a' } });
    const recordB = await seal(bytes('b'), { keyring: b, context: { tenant: 'tenant-b' } });
    // A backup of the record, taken before the erasure.
    const backupA = recordA.slice();

    await keys.destroy('tenant-a');

    await rejectsWith(keys.keyring('tenant-a'), 'ERR_CRYPTO_KEY_DESTROYED');
    // The keyring obtained before destruction no longer works either.
    await rejectsWith(
      open(backupA, { keyring: a, context: { tenant: 'tenant-a' } }),
      'ERR_CRYPTO_KEY_DESTROYED',
    );
    // A fresh helper over the same store (another process) cannot bring it back.
    const again = new SubjectKeys({ store });
    await rejectsWith(again.keyring('tenant-a', { create: true }), 'ERR_CRYPTO_KEY_DESTROYED');
    expect(
      await open(recordB, {
        keyring: await again.keyring('tenant-b'),
        context: { tenant: 'tenant-b' },
      }),
    ).toEqual(bytes('b'));
  });

  it('subject keys can be protected at rest by a master keyring (e.g. a KMS KEK)', async () => {
    const store = new MemorySubjectKeyStore();
    const master = new Keyring([localKek({ id: 'master', key: new Uint8Array(32).fill(1) })]);
    const keys = new SubjectKeys({ store, protect: master });
    const ring = await keys.keyring('user-1', { create: true });
    const record = await seal(bytes('pii'), { keyring: ring });
    const stored = store.get('user-1');
    expect(stored?.state).toBe('active');
    // Stored material is a sealed envelope, not the raw 32-byte key.
    expect(stored?.state === 'active' && stored.material.length).toBeGreaterThan(100);
    const other = new SubjectKeys({ store, protect: master });
    expect(await open(record, { keyring: await other.keyring('user-1') })).toEqual(bytes('pii'));
    const wrongMaster = new Keyring([localKek({ id: 'master', key: new Uint8Array(32).fill(2) })]);
    await rejectsWith(
      new SubjectKeys({ store, protect: wrongMaster }).keyring('user-1'),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('an unknown subject is ERR_CRYPTO_UNKNOWN_KEK without create', async () => {
    const keys = new SubjectKeys({ store: new MemorySubjectKeyStore() });
    await rejectsWith(keys.keyring('nobody'), 'ERR_CRYPTO_UNKNOWN_KEK');
    expect(keys.kekId('nobody')).toBe('subject:nobody');
  });
});
