/**
 * Development secrets under the data directory, made on first start (files mode 0600): the
 * license pepper, the DPoP nonce secret, the token signing key, the audit checkpoint key,
 * and the KEK key file. Production takes these from a secret store / KMS instead.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type PrivateJwk } from '@fluxel/license';

export interface DevSecrets {
  readonly pepper: Uint8Array;
  readonly nonceSecret: Uint8Array;
  readonly tokenKey: PrivateJwk;
  readonly auditSeed: Uint8Array;
  /**
   * Key of the idempotency records' body fingerprints (HMAC). Derived from the pepper (HKDF),
   * so every instance sharing the secrets has it and no secrets file needs a new field.
   */
  readonly bodyHashKey: Uint8Array;
}

interface SecretsFile {
  pepper: string;
  nonceSecret: string;
  tokenKey: PrivateJwk;
  auditSeed: string;
}

export async function loadOrCreateSecrets(dataDir: string): Promise<DevSecrets> {
  const path = join(dataDir, 'secrets.json');
  let file: SecretsFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as SecretsFile;
  } catch {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    file = {
      pepper: randomBytes(32).toString('base64'),
      nonceSecret: randomBytes(32).toString('base64'),
      tokenKey: (await generateKeyPair('EdDSA')).privateJwk,
      auditSeed: randomBytes(32).toString('base64'),
    };
    try {
      writeFileSync(path, `${JSON.stringify(file)}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      // Another process created it first: use theirs.
      file = JSON.parse(readFileSync(path, 'utf8')) as SecretsFile;
    }
  }
  const pepper = new Uint8Array(Buffer.from(file.pepper, 'base64'));
  return {
    pepper,
    nonceSecret: new Uint8Array(Buffer.from(file.nonceSecret, 'base64')),
    tokenKey: file.tokenKey,
    auditSeed: new Uint8Array(Buffer.from(file.auditSeed, 'base64')),
    bodyHashKey: new Uint8Array(
      hkdfSync('sha256', pepper, new Uint8Array(0), 'fluxel-relay/idempotency-body-hash/v1', 32),
    ),
  };
}
