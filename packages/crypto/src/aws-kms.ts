/**
 * A KEK in AWS KMS (`@aws-sdk/client-kms`, an optional peer dependency): data keys are wrapped
 * with `Encrypt` and unwrapped with `Decrypt`, both pinned to one key and bound to a fixed
 * encryption context (visible in CloudTrail). One round trip per wrap or unwrap: combine with a
 * `DataKeyCache` to pay it once per cached key rather than per record.
 */
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CryptoError, decryptionFailed } from './errors.js';
import { checkKekId, type KekProvider } from './kek.js';

export type { KekProvider, MaybePromise } from './kek.js';

/**
 * Options of {@link awsKmsKek}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey } from '@fluxel/crypto';
 * import { type AwsKmsKekOptions, awsKmsKek } from '@fluxel/crypto/aws-kms';
 *
 * // A stand-in for `new KMSClient({ region: 'eu-central-1' })` so that this example makes no network
 * // call: the adapter only calls `client.send(command)` with an EncryptCommand or a DecryptCommand.
 * const pad = generateKey();
 * const xor = (bytes: Uint8Array) => bytes.map((byte, i) => byte ^ (pad[i % pad.length] as number));
 * const client = {
 *   async send(command: { input: { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array } }) {
 *     const { Plaintext, CiphertextBlob } = command.input;
 *     return Plaintext ? { CiphertextBlob: xor(Plaintext) } : { Plaintext: xor(CiphertextBlob ?? new Uint8Array()) };
 *   },
 * } as unknown as AwsKmsKekOptions['client'];
 *
 * const options: AwsKmsKekOptions = {
 *   client,
 *   keyId: 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
 *   id: 'aws-kms:eu-main',
 *   encryptionContext: { service: 'billing' }, // visible in CloudTrail
 * };
 * assert.equal(awsKmsKek(options).id, 'aws-kms:eu-main');
 * ```
 */
export interface AwsKmsKekOptions {
  /** A configured KMS client (region, credentials, endpoint). */
  readonly client: Pick<KMSClient, 'send'>;
  /** Key ARN (recommended) or alias ARN. */
  readonly keyId: string;
  /** KEK id written in headers. Default `"aws-kms:" + keyId`. */
  readonly id?: string;
  /** Encryption context sent with every call. Default `{ "fluxel": "dek-v1" }`. */
  readonly encryptionContext?: Readonly<Record<string, string>>;
}

const DECRYPTION_FAILURES = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);
const GONE = new Set(['NotFoundException']);

function mapError(error: unknown, keyId: string, unwrapping: boolean): CryptoError {
  const name = (error as { name?: string } | null)?.name ?? '';
  if (unwrapping && DECRYPTION_FAILURES.has(name)) return decryptionFailed();
  if (GONE.has(name)) {
    return new CryptoError('ERR_CRYPTO_KEY_DESTROYED', `KMS key ${keyId} does not exist`, {
      cause: error,
    });
  }
  return new CryptoError('ERR_CRYPTO_KEK_UNAVAILABLE', `KMS key ${keyId}: ${name || 'failed'}`, {
    cause: error,
  });
}

/**
 * A {@link KekProvider} backed by an AWS KMS symmetric key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DataKeyCache, generateKey, Keyring, open, seal } from '@fluxel/crypto';
 * import { type AwsKmsKekOptions, awsKmsKek } from '@fluxel/crypto/aws-kms';
 *
 * // A stand-in for `new KMSClient({ region: 'eu-central-1' })` so that this example makes no network
 * // call: the adapter only calls `client.send(command)` with an EncryptCommand or a DecryptCommand.
 * const pad = generateKey();
 * const xor = (bytes: Uint8Array) => bytes.map((byte, i) => byte ^ (pad[i % pad.length] as number));
 * const client = {
 *   async send(command: { input: { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array } }) {
 *     const { Plaintext, CiphertextBlob } = command.input;
 *     return Plaintext ? { CiphertextBlob: xor(Plaintext) } : { Plaintext: xor(CiphertextBlob ?? new Uint8Array()) };
 *   },
 * } as unknown as AwsKmsKekOptions['client'];
 *
 * const keyId = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
 * const keyring = new Keyring([awsKmsKek({ client, keyId })]);
 * const cache = new DataKeyCache({ maxAge: 5 * 60_000 }); // one KMS call per cached key, not per record
 * const sealed = await seal(new TextEncoder().encode('card token'), { keyring, cache, context: { tenant: 'acme' } });
 * assert.equal(keyring.primary.id, `aws-kms:${keyId}`);
 * assert.equal(new TextDecoder().decode(await open(sealed, { keyring, context: { tenant: 'acme' } })), 'card token');
 * ```
 */
export function awsKmsKek(options: AwsKmsKekOptions): KekProvider {
  const { client, keyId } = options;
  if (typeof keyId !== 'string' || keyId.length === 0) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'keyId is required');
  }
  const id = checkKekId(options.id ?? `aws-kms:${keyId}`);
  const context = { ...(options.encryptionContext ?? { fluxel: 'dek-v1' }) };
  return {
    id,
    async wrap(dek) {
      let blob: Uint8Array | undefined;
      try {
        const out = await client.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: dek, EncryptionContext: context }),
        );
        blob = out.CiphertextBlob;
      } catch (error) {
        throw mapError(error, keyId, false);
      }
      if (!(blob instanceof Uint8Array) || blob.length === 0) {
        throw new CryptoError('ERR_CRYPTO_KEK_UNAVAILABLE', `KMS key ${keyId}: empty response`);
      }
      return blob;
    },
    async unwrap(wrapped) {
      let plaintext: Uint8Array | undefined;
      try {
        const out = await client.send(
          new DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: context }),
        );
        plaintext = out.Plaintext;
      } catch (error) {
        throw mapError(error, keyId, true);
      }
      if (!(plaintext instanceof Uint8Array)) throw decryptionFailed();
      return plaintext;
    },
  };
}
