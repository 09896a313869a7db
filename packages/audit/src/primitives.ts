/**
 * SHA-256, HMAC-SHA-256, Ed25519 and AES-256-GCM, synchronous. On Node the built-in
 * `node:crypto` is found at run time through `process.getBuiltinModule` (Node ≥ 20.16), so the
 * module has no static `node:` import and runs unchanged on other Web-platform runtimes, where
 * the audited pure-JS `@noble` implementations are used.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { AuditError } from './errors.js';

interface NodeKeyObject {
  readonly type: string;
}
interface NodeCipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  setAAD(aad: Uint8Array): unknown;
  getAuthTag(): Uint8Array;
  setAuthTag(tag: Uint8Array): unknown;
}
interface NodeCrypto {
  hash?: {
    (algorithm: string, data: Uint8Array, encoding: 'buffer'): Uint8Array;
    (algorithm: string, data: string, encoding: 'hex'): string;
    (algorithm: string, data: Uint8Array, encoding: 'latin1'): string;
  };
  createHash(algorithm: string): {
    update(data: Uint8Array): { digest(): Uint8Array };
  };
  createHmac(
    algorithm: string,
    key: Uint8Array,
  ): {
    update(data: Uint8Array): { digest(): Uint8Array };
  };
  createPrivateKey(input: { key: Record<string, string>; format: 'jwk' }): NodeKeyObject;
  createPublicKey(input: { key: Record<string, string>; format: 'jwk' }): NodeKeyObject;
  sign(algorithm: null, data: Uint8Array, key: NodeKeyObject): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: NodeKeyObject, signature: Uint8Array): boolean;
  createCipheriv(alg: string, key: Uint8Array, iv: Uint8Array): NodeCipher;
  createDecipheriv(alg: string, key: Uint8Array, iv: Uint8Array): NodeCipher;
  randomFillSync(buffer: Uint8Array): Uint8Array;
}

function findNodeCrypto(): NodeCrypto | undefined {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    return proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  } catch {
    return undefined;
  }
}

const node = findNodeCrypto();

/** Whether the fast `node:crypto` path is in use (false on non-Node runtimes). */
export const usesNodeCrypto: boolean = node !== undefined;

const nodeHash = node?.hash;

/** SHA-256 of bytes. */
export const sha256: (data: Uint8Array) => Uint8Array = nodeHash
  ? (data) => nodeHash('sha256', data, 'buffer')
  : node
    ? (data) => node.createHash('sha256').update(data).digest()
    : (data) => nobleSha256(data);

/**
 * SHA-256 of bytes as a latin1 string (one character per byte) where node:crypto has the
 * one-shot `hash`: about half the cost of a `Buffer` result, which matters to the verifier's
 * one hash per record. `undefined` elsewhere (use {@link sha256}). @internal
 */
export const sha256Latin1: ((data: Uint8Array) => string) | undefined = nodeHash
  ? (data) => nodeHash('sha256', data, 'latin1')
  : undefined;

const encoder = new TextEncoder();
const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Lower-case hex SHA-256 of a string's UTF-8 bytes. */
export const sha256Hex: (text: string) => string = nodeHash
  ? (text) => nodeHash('sha256', text, 'hex')
  : (text) => {
      const digest = sha256(encoder.encode(text));
      let out = '';
      for (let i = 0; i < digest.length; i++) out += HEX[digest[i] as number];
      return out;
    };

/** HMAC-SHA-256 of bytes under a key. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (node) return node.createHmac('sha256', key).update(data).digest();
  return hmac(nobleSha256, key, data);
}

/** Cryptographically secure random bytes. */
export function randomBytes(length: number): Uint8Array {
  if (node) return node.randomFillSync(new Uint8Array(length));
  return nobleRandomBytes(length);
}

function b64u(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const privateCache = new WeakMap<Uint8Array, NodeKeyObject>();
const publicCache = new WeakMap<Uint8Array, NodeKeyObject>();

/** The Ed25519 public key (32 bytes) of a 32-byte private seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/** Ed25519 signature (64 bytes) of a message under a 32-byte seed and its public key. */
export function ed25519Sign(
  message: Uint8Array,
  seed: Uint8Array,
  publicKey: Uint8Array,
): Uint8Array {
  if (node) {
    let key = privateCache.get(seed);
    if (!key) {
      key = node.createPrivateKey({
        key: { kty: 'OKP', crv: 'Ed25519', d: b64u(seed), x: b64u(publicKey) },
        format: 'jwk',
      });
      privateCache.set(seed, key);
    }
    return new Uint8Array(node.sign(null, message, key));
  }
  return ed25519.sign(message, seed);
}

/** Whether `signature` is a valid Ed25519 signature of `message` under `publicKey`. */
export function ed25519Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (node) {
    try {
      let key = publicCache.get(publicKey);
      if (!key) {
        key = node.createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: b64u(publicKey) },
          format: 'jwk',
        });
        publicCache.set(publicKey, key);
      }
      return node.verify(null, message, key, signature);
    } catch {
      return false;
    }
  }
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

/** AES-256-GCM encryption; returns ciphertext with the 16-byte tag appended. */
export function aesGcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (node) {
    const cipher = node.createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    const a = cipher.update(plaintext);
    const b = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(a.length + b.length + tag.length);
    out.set(a, 0);
    out.set(b, a.length);
    out.set(tag, a.length + b.length);
    return out;
  }
  return gcm(key, nonce, aad).encrypt(plaintext);
}

/** AES-256-GCM decryption; throws `ERR_AUDIT_DECRYPTION_FAILED` when authentication fails. */
export function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  try {
    if (node) {
      if (sealed.length < 16) throw new Error('short');
      const decipher = node.createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const a = decipher.update(sealed.subarray(0, sealed.length - 16));
      const b = decipher.final();
      const out = new Uint8Array(a.length + b.length);
      out.set(a, 0);
      out.set(b, a.length);
      return out;
    }
    return gcm(key, nonce, aad).decrypt(sealed);
  } catch {
    throw new AuditError('ERR_AUDIT_DECRYPTION_FAILED', 'decryption failed');
  }
}
