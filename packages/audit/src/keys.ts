/**
 * Ed25519 checkpoint keys: generation, raw and JWK import/export, key ids.
 */
import { fromBase64url, toBase64url } from './encoding.js';
import { AuditError } from './errors.js';
import { ed25519PublicKey, randomBytes, sha256 } from './primitives.js';

/**
 * A public key that verifies checkpoints.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, parseVerifyingKey, publicJwk, type VerifyingKey } from '@fluxel/audit';
 *
 * const signingKey = generateSigningKey();
 * // What a verifier pins: only the public part.
 * const pinned: VerifyingKey = parseVerifyingKey(JSON.stringify(publicJwk(signingKey)));
 * assert.equal(pinned.kid, signingKey.kid);
 * assert.equal(pinned.publicKey.length, 32);
 * ```
 */
export interface VerifyingKey {
  /** Key id: base64url of the first 12 bytes of SHA-256 over the raw public key. */
  readonly kid: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/**
 * A private key that signs checkpoints. Keep `seed` secret.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, MemoryStore, type SigningKey, signingKeyFromSeed } from '@fluxel/audit';
 *
 * const signingKey: SigningKey = signingKeyFromSeed(new Uint8Array(32).fill(7)); // from your secret store
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey });
 * assert.equal(log.keyId, signingKey.kid);
 * await log.close();
 * ```
 */
export interface SigningKey extends VerifyingKey {
  /** Raw 32-byte Ed25519 private key (the seed). */
  readonly seed: Uint8Array;
}

/**
 * An Ed25519 key in JSON Web Key form (RFC 8037, `kty: OKP`, `crv: Ed25519`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Ed25519Jwk, generateSigningKey, publicJwk, verifyingKeyFromJwk } from '@fluxel/audit';
 *
 * const jwk: Ed25519Jwk = publicJwk(generateSigningKey());
 * assert.equal(jwk.kty, 'OKP');
 * assert.equal(jwk.crv, 'Ed25519');
 * assert.equal(verifyingKeyFromJwk(jwk).kid, jwk.kid);
 * ```
 */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid?: string;
}

/**
 * The key id of a raw public key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, keyId } from '@fluxel/audit';
 *
 * const key = generateSigningKey();
 * assert.equal(keyId(key.publicKey), key.kid);
 * assert.match(key.kid, /^[\w-]{16}$/); // base64url of 12 bytes of SHA-256
 * ```
 */
export function keyId(publicKey: Uint8Array): string {
  return toBase64url(sha256(publicKey).subarray(0, 12));
}

/**
 * A signing key from a raw 32-byte seed.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { signingKeyFromSeed } from '@fluxel/audit';
 *
 * const seed = crypto.getRandomValues(new Uint8Array(32)); // keep it secret
 * const a = signingKeyFromSeed(seed);
 * const b = signingKeyFromSeed(seed);
 * assert.equal(a.kid, b.kid); // the same seed is the same key
 * ```
 */
export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'an Ed25519 private key is 32 bytes');
  const copy = new Uint8Array(seed);
  const publicKey = ed25519PublicKey(copy);
  return { kid: keyId(publicKey), publicKey, seed: copy };
}

/**
 * A new random signing key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, privateJwk } from '@fluxel/audit';
 *
 * const key = generateSigningKey();
 * assert.equal(key.seed.length, 32);
 * const stored = JSON.stringify(privateJwk(key)); // put this in your secret store
 * assert.ok(stored.includes('"d":'));
 * ```
 */
export function generateSigningKey(): SigningKey {
  return signingKeyFromSeed(randomBytes(32));
}

/**
 * A verifying key from a raw 32-byte public key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, verifyingKeyFromRaw } from '@fluxel/audit';
 *
 * const signingKey = generateSigningKey();
 * const verifyingKey = verifyingKeyFromRaw(signingKey.publicKey);
 * assert.equal(verifyingKey.kid, signingKey.kid);
 * ```
 */
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

/**
 * A signing key from a private JWK (`d` present); the public part must match.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, privateJwk, signingKeyFromJwk } from '@fluxel/audit';
 *
 * const saved = JSON.stringify(privateJwk(generateSigningKey())); // as read from a secret store
 * const key = signingKeyFromJwk(JSON.parse(saved));
 * assert.equal(key.kid, JSON.parse(saved).kid);
 * ```
 */
export function signingKeyFromJwk(jwk: unknown): SigningKey {
  const k = checkJwk(jwk);
  if (typeof k.d !== 'string')
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'JWK has no private part');
  const key = signingKeyFromSeed(fromBase64url(k.d));
  if (toBase64url(key.publicKey) !== k.x)
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'JWK public and private parts do not match');
  return key;
}

/**
 * A verifying key from a public (or private) JWK.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, publicJwk, verifyingKeyFromJwk } from '@fluxel/audit';
 *
 * const key = generateSigningKey();
 * const pinned = verifyingKeyFromJwk(JSON.parse(JSON.stringify(publicJwk(key))));
 * assert.deepEqual(pinned.publicKey, key.publicKey);
 * ```
 */
export function verifyingKeyFromJwk(jwk: unknown): VerifyingKey {
  return verifyingKeyFromRaw(fromBase64url(checkJwk(jwk).x));
}

/**
 * The public JWK of a key (never includes the private part).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, publicJwk } from '@fluxel/audit';
 *
 * const jwk = publicJwk(generateSigningKey()); // publish this; verifiers pin it
 * assert.equal('d' in jwk, false);
 * assert.equal(jwk.x.length, 43);
 * ```
 */
export function publicJwk(key: VerifyingKey): Ed25519Jwk {
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64url(key.publicKey), kid: key.kid };
}

/**
 * The private JWK of a signing key. Treat it as a secret.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, privateJwk, signingKeyFromJwk } from '@fluxel/audit';
 *
 * const key = generateSigningKey();
 * const jwk = privateJwk(key); // secret: it holds the seed as `d`
 * assert.equal(signingKeyFromJwk(jwk).kid, key.kid);
 * ```
 */
export function privateJwk(key: SigningKey): Ed25519Jwk {
  return { ...publicJwk(key), d: toBase64url(key.seed) };
}

/**
 * Parses a public key given as a JWK JSON text, a 64-character hex string or a 43-character
 * base64url string of the raw key (what `fluxel-audit verify --public-key` accepts).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, parseVerifyingKey, publicJwk } from '@fluxel/audit';
 *
 * const key = generateSigningKey();
 * const hex = Buffer.from(key.publicKey).toString('hex');
 * assert.equal(parseVerifyingKey(hex).kid, key.kid);
 * assert.equal(parseVerifyingKey(JSON.stringify(publicJwk(key))).kid, key.kid);
 * assert.equal(parseVerifyingKey(Buffer.from(key.publicKey).toString('base64url')).kid, key.kid);
 * ```
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
