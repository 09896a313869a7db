/**
 * The key-encryption key (KEK) of an example app: a key file in the data directory (dev), or a
 * key in AWS KMS (`<APP>_KMS_KEY_ID`) with the key file kept to open what was sealed before the
 * switch. A `Keyring` seals under its first KEK and opens with whichever KEK a record's header
 * names, so adding the KMS key in front is the whole migration: old rows keep opening, new
 * rows are sealed by KMS. Region, credentials and endpoint come from the AWS SDK's usual
 * sources (`AWS_REGION`, `AWS_ACCESS_KEY_ID`/…/`AWS_PROFILE`/instance role,
 * `AWS_ENDPOINT_URL_KMS`); the region defaults to the one in the key ARN.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { type KekProvider, Keyring } from '@fluxel/crypto';
import { awsKmsKek } from '@fluxel/crypto/aws-kms';

/** A key or alias ARN: `arn:<partition>:kms:<region>:<account>:key/<id>` or `…:alias/<name>`. */
const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\/[A-Za-z0-9/_+=.@-]+$/;

/** A `<APP>_KMS_KEY_ID` that is not a KMS key ARN. */
export class KekConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KekConfigError';
  }
}

/** Where the KMS KEK is: the key ARN and its region. */
export interface KmsKekConfig {
  readonly keyId: string;
  readonly region: string;
}

/**
 * The KMS KEK named by the environment variable `name` (e.g. `RELAY_KMS_KEY_ID`), or
 * `undefined` when it is unset or empty (the key file alone, as in development). A value that
 * is not a key or alias ARN is a {@link KekConfigError} naming the variable. The region is
 * `AWS_REGION` (or `AWS_DEFAULT_REGION`), else the ARN's.
 */
export function kmsKekFromEnv(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): KmsKekConfig | undefined {
  const keyId = env[name]?.trim();
  if (!keyId) return undefined;
  const match = KMS_ARN.exec(keyId);
  if (!match)
    throw new KekConfigError(
      `${name}: "${keyId}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; an alias ARN works too)`,
    );
  return { keyId, region: env.AWS_REGION || env.AWS_DEFAULT_REGION || (match[1] as string) };
}

/** Options of {@link kmsKeyring}. */
export interface KmsKeyringOptions extends KmsKekConfig {
  /** The app's key file KEK, kept to open rows sealed before the KMS key (never seals). */
  readonly fileKek: KekProvider;
  /** Encryption context of every KMS call (visible in CloudTrail), e.g. `{ service: 'relay' }`. */
  readonly encryptionContext: Readonly<Record<string, string>>;
  /** A client to use instead of one built from the environment (tests). */
  readonly client?: KMSClient;
}

/**
 * `[KMS KEK, file KEK]`: new rows are sealed by KMS, rows sealed under the key file still open.
 * The client gives up on an unreachable KMS after 2 s to connect and 5 s to answer (3 tries,
 * the SDK's default), so a request fails with `ERR_CRYPTO_KEK_UNAVAILABLE` instead of hanging.
 */
export function kmsKeyring(options: KmsKeyringOptions): { keyring: Keyring; client: KMSClient } {
  const client =
    options.client ??
    new KMSClient({
      region: options.region,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
    });
  const kms = awsKmsKek({
    client,
    keyId: options.keyId,
    encryptionContext: options.encryptionContext,
  });
  return { keyring: new Keyring([kms, options.fileKek]), client };
}

/** For the startup log: which KEK seals and which only open (ids only, never key material). */
export function describeKeyring(keyring: Keyring): string {
  const others = keyring.ids().filter((id) => id !== keyring.primary.id);
  return `KEK: ${keyring.primary.id} seals${others.length ? `; also opens ${others.join(', ')}` : ''}`;
}
