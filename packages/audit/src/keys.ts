/**
 * Ed25519 checkpoint keys: generation, raw and JWK import/export, key ids.
 */
import { fromBase64url, toBase64url } from './encoding.js';
import { AuditError } from './errors.js';
import { ed25519PublicKey, randomBytes, sha256 } from './primitives.js';

/** A public key that verifies checkpoints. */
export interface VerifyingKey {
  /** Key id: base64url of the first 12 bytes of SHA-256 over the raw public key. */
  readonly kid: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/** A private key that signs checkpoints. Keep `seed` secret. */
export interface SigningKey extends VerifyingKey {
  /** Raw 32-byte Ed25519 private key (the seed). */
  readonly seed: Uint8Array;
}

/** An Ed25519 key in JSON Web Key form (RFC 8037, `kty: OKP`, `crv: Ed25519`). */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid?: string;
}

/** The key id of a raw public key. */
export function keyId(publicKey: Uint8Array): string {
  return toBase64url(sha256(publicKey).subarray(0, 12));
}

/** A signing key from a raw 32-byte seed. */
export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'an Ed25519 private key is 32 bytes');
  const copy = new Uint8Array(seed);
  const publicKey = ed25519PublicKey(copy);
  return { kid: keyId(publicKey), publicKey, seed: copy };
}

/** A new random signing key. */
export function generateSigningKey(): SigningKey {
  return signingKeyFromSeed(randomBytes(32));
}

/** A verifying key from a raw 32-byte public key. */
export function verifyingKeyFromRaw(publicKey: Uint8Array): VerifyingKey {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'an Ed25519 public key is 32 bytes');
  const copy = new Uint8Array(publicKey);
  return { kid: keyId(copy), publicKey: copy };
}

function checkJwk(jwk: unknown): Ed25519Jwk {
  const k = jwk as Partial<Ed25519Jwk> | null;
  if (
    !k ||
    typeof k !== 'object' ||
    k.kty !== 'OKP' ||
    k.crv !== 'Ed25519' ||
    typeof k.x !== 'string'
  )
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'not an Ed25519 JWK');
  return k as Ed25519Jwk;
}

/** A signing key from a private JWK (`d` present); the public part must match. */
export function signingKeyFromJwk(jwk: unknown): SigningKey {
  const k = checkJwk(jwk);
  if (typeof k.d !== 'string')
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'JWK has no private part');
  const key = signingKeyFromSeed(fromBase64url(k.d));
  if (toBase64url(key.publicKey) !== k.x)
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'JWK public and private parts do not match');
  return key;
}

/** A verifying key from a public (or private) JWK. */
export function verifyingKeyFromJwk(jwk: unknown): VerifyingKey {
  return verifyingKeyFromRaw(fromBase64url(checkJwk(jwk).x));
}

/** The public JWK of a key (never includes the private part). */
export function publicJwk(key: VerifyingKey): Ed25519Jwk {
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64url(key.publicKey), kid: key.kid };
}

/** The private JWK of a signing key. Treat it as a secret. */
export function privateJwk(key: SigningKey): Ed25519Jwk {
  return { ...publicJwk(key), d: toBase64url(key.seed) };
}

/**
 * Parses a public key given as a JWK JSON text, a 64-character hex string or a 43-character
 * base64url string of the raw key (what `fluxel-audit verify --public-key` accepts).
 */
export function parseVerifyingKey(text: string): VerifyingKey {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (cause) {
      throw new AuditError('ERR_AUDIT_INVALID_KEY', 'public key file is not valid JSON', { cause });
    }
    return verifyingKeyFromJwk(parsed);
  }
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    const raw = new Uint8Array(32);
    for (let i = 0; i < 32; i++) raw[i] = Number.parseInt(trimmed.slice(i * 2, i * 2 + 2), 16);
    return verifyingKeyFromRaw(raw);
  }
  if (/^[A-Za-z0-9_-]{43}$/.test(trimmed)) return verifyingKeyFromRaw(fromBase64url(trimmed));
  throw new AuditError('ERR_AUDIT_INVALID_KEY', 'unrecognised public key format');
}

const isJwk = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && 'kty' in value;

/**
 * Checks a signing key where it is passed in: a JWK (what key files hold) is named as such, with
 * the function that turns it into a key.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_KEY`.
 */
export function checkSigningKey(key: unknown, name: string): asserts key is SigningKey {
  if (isJwk(key))
    throw new AuditError(
      'ERR_AUDIT_INVALID_KEY',
      `${name} is a JWK: pass signingKeyFromJwk(jwk) (or generateSigningKey() for a new key)`,
    );
  const k = key as Partial<SigningKey> | undefined;
  if (!(k?.seed instanceof Uint8Array) || k.seed.length !== 32 || typeof k.kid !== 'string')
    throw new AuditError(
      'ERR_AUDIT_INVALID_KEY',
      `${name} is required: a key from generateSigningKey(), signingKeyFromSeed(seed) or signingKeyFromJwk(jwk)`,
    );
}

/**
 * Checks verifying keys where they are passed in (see {@link checkSigningKey}).
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_KEY` naming the entry.
 */
export function checkVerifyingKeys(keys: unknown, name: string): void {
  if (keys === undefined) return;
  if (!Array.isArray(keys))
    throw new AuditError('ERR_AUDIT_INVALID_KEY', `${name} must be an array of verifying keys`);
  keys.forEach((key: unknown, i) => {
    if (isJwk(key))
      throw new AuditError(
        'ERR_AUDIT_INVALID_KEY',
        `${name}[${i}] is a JWK: pass verifyingKeyFromJwk(jwk) (or parseVerifyingKey(text) for a key file)`,
      );
    const k = key as Partial<VerifyingKey> | undefined;
    if (
      !(k?.publicKey instanceof Uint8Array) ||
      k.publicKey.length !== 32 ||
      typeof k.kid !== 'string'
    )
      throw new AuditError(
        'ERR_AUDIT_INVALID_KEY',
        `${name}[${i}] is not a verifying key: use verifyingKeyFromJwk(jwk) or parseVerifyingKey(text)`,
      );
  });
}
