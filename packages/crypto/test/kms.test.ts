import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { type KmsStandIn, startKmsStandIn } from '@fluxel/internal/kms-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsKmsKek } from '../src/aws-kms.ts';
import { DataKeyCache, inspect, Keyring, open, rewrap, seal } from '../src/index.ts';
import { bytes, rejectsWith } from './helpers.ts';

let kms: KmsStandIn;
let client: KMSClient;

beforeAll(async () => {
  kms = await startKmsStandIn();
  client = new KMSClient({
    region: 'us-east-1',
    endpoint: kms.endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await kms?.close();
});

describe('AWS KMS KEK (@aws-sdk/client-kms against a local stand-in)', () => {
  it('seals and opens through KMS Encrypt / Decrypt with the encryption context', async () => {
    const keyId = kms.createKey();
    const keyring = new Keyring([awsKmsKek({ client, keyId })]);
    kms.calls.length = 0;
    const sealed = await seal(bytes('credential'), { keyring, context: { tenant: 't' } });
    expect(inspect(sealed).kekIds).toEqual([`aws-kms:${keyId}`]);
    expect(await open(sealed, { keyring, context: { tenant: 't' } })).toEqual(bytes('credential'));
    expect(kms.calls).toEqual(['Encrypt', 'Decrypt']);
    // The wrapped DEK is a real KMS blob bound to the KEK's encryption context.
    const info = inspect(sealed);
    const entry = sealed.subarray(info.prefixLength + 1);
    const idLength = entry[0] as number;
    const blob = entry.subarray(
      3 + idLength,
      3 + idLength + ((entry[1 + idLength] as number) << 8) + (entry[2 + idLength] as number),
    );
    const out = await client.send(
      new DecryptCommand({
        CiphertextBlob: blob,
        KeyId: keyId,
        EncryptionContext: { fluxel: 'dek-v1' },
      }),
    );
    expect(out.Plaintext?.length).toBe(32);
    await expect(
      client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: keyId })),
    ).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
    });
  });

  it('a data-key cache saves the KMS round trip per record', async () => {
    const keyId = kms.createKey();
    const keyring = new Keyring([awsKmsKek({ client, keyId })]);
    const cache = new DataKeyCache({ maxAge: 60_000, maxMessages: 100 });
    kms.calls.length = 0;
    const sealed = [];
    for (let i = 0; i < 10; i++) sealed.push(await seal(bytes(`r${i}`), { keyring, cache }));
    for (const s of sealed) await open(s, { keyring, cache });
    expect(kms.calls).toEqual(['Encrypt', 'Decrypt']);
  });

  it('maps KMS failures to codes: wrong key → decryption failed, disabled → unavailable, deleted → destroyed', async () => {
    const a = kms.createKey();
    const b = kms.createKey();
    const sealed = await seal(bytes('x'), {
      keyring: new Keyring([awsKmsKek({ client, keyId: a })]),
    });
    // Same KEK id in the header, but the provider pinned to another key: IncorrectKeyException.
    const impostor = new Keyring([awsKmsKek({ client, keyId: b, id: `aws-kms:${a}` })]);
    await rejectsWith(open(sealed, { keyring: impostor }), 'ERR_CRYPTO_DECRYPTION_FAILED');
    const ring = new Keyring([awsKmsKek({ client, keyId: a })]);
    kms.disable(a);
    await rejectsWith(open(sealed, { keyring: ring }), 'ERR_CRYPTO_KEK_UNAVAILABLE');
    kms.delete(a);
    await rejectsWith(open(sealed, { keyring: ring }), 'ERR_CRYPTO_KEY_DESTROYED');
    await rejectsWith(seal(bytes('x'), { keyring: ring }), 'ERR_CRYPTO_KEY_DESTROYED');
  });

  it('an unreachable KMS is ERR_CRYPTO_KEK_UNAVAILABLE', async () => {
    const down = new KMSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    await rejectsWith(
      seal(bytes('x'), { keyring: new Keyring([awsKmsKek({ client: down, keyId: 'k' })]) }),
      'ERR_CRYPTO_KEK_UNAVAILABLE',
    );
    down.destroy();
  });

  it('rotates from a local KEK to KMS with rewrap', async () => {
    const { localKek } = await import('../src/index.ts');
    const local = new Keyring([localKek({ id: 'local', key: new Uint8Array(32).fill(1) })]);
    const keyring = new Keyring([awsKmsKek({ client, keyId: kms.createKey() })]);
    const sealed = await seal(bytes('old'), { keyring: local });
    const rotated = await rewrap(sealed, keyring, { from: local });
    expect(await open(rotated, { keyring })).toEqual(bytes('old'));
  });
});
