import { generateKey, Keyring, localKek } from '@fluxel/crypto';
import { describe, expect, it } from 'vitest';
import { describeKeyring, KekConfigError, kmsKekFromEnv } from '../src/kek.ts';

const ARN = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('kmsKekFromEnv', () => {
  it('is undefined when the variable is unset or empty (the key file alone)', () => {
    expect(kmsKekFromEnv('RELAY_KMS_KEY_ID', {})).toBeUndefined();
    expect(kmsKekFromEnv('RELAY_KMS_KEY_ID', { RELAY_KMS_KEY_ID: ' ' })).toBeUndefined();
  });

  it('takes a key or alias ARN; the region is AWS_REGION, else AWS_DEFAULT_REGION, else the ARN’s', () => {
    expect(kmsKekFromEnv('K', { K: ARN })).toEqual({ keyId: ARN, region: 'eu-central-1' });
    expect(kmsKekFromEnv('K', { K: ARN, AWS_DEFAULT_REGION: 'eu-west-1' })?.region).toBe(
      'eu-west-1',
    );
    expect(kmsKekFromEnv('K', { K: ARN, AWS_REGION: 'us-east-1' })?.region).toBe('us-east-1');
    const alias = 'arn:aws-cn:kms:cn-north-1:111122223333:alias/fluxel-relay';
    expect(kmsKekFromEnv('K', { K: alias })?.keyId).toBe(alias);
  });

  it('refuses anything else, naming the variable', () => {
    for (const value of ['alias/fluxel', '1234abcd-12ab', 'arn:aws:s3:::bucket/key', `${ARN} x`])
      expect(() => kmsKekFromEnv('PORTAL_KMS_KEY_ID', { PORTAL_KMS_KEY_ID: value })).toThrow(
        new KekConfigError(
          `PORTAL_KMS_KEY_ID: "${value}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; an alias ARN works too)`,
        ),
      );
  });
});

describe('describeKeyring', () => {
  it('names the sealing KEK and the ones that only open, by id', () => {
    const a = localKek({ id: 'aws-kms:x', key: generateKey() });
    const b = localKek({ id: 'dev-file-kek', key: generateKey() });
    expect(describeKeyring(new Keyring([a, b]))).toBe(
      'KEK: aws-kms:x seals; also opens dev-file-kek',
    );
    expect(describeKeyring(new Keyring([b]))).toBe('KEK: dev-file-kek seals');
  });
});
