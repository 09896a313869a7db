/**
 * Keys and JWS for ACME (RFC 8555 §6.2, RFC 7515/7517/7638) on Web Crypto: ES256 account
 * keys (RS256 accepted), flattened JSON serialisation, JWK thumbprints and the HMAC-signed
 * External Account Binding. Signing takes node:crypto's synchronous path only where the
 * runtime's node:crypto passes the ES256 known-answer probe (Node.js; not workerd's
 * `nodejs_compat`, whose `sign` throws), and falls back to Web Crypto if it throws anyway.
 */
import { b64u, fromB64u, utf8 } from '../../internal/src/base64url.js';
import { nativeCapability, runtimeName } from '../../internal/src/capability.js';
import { probeEs256 } from '../../internal/src/native-probes.js';
import { type NodeKeyObject, nodeCrypto } from '../../internal/src/node-crypto.js';
import { AcmeError } from './errors.js';

/**
 * A public JWK of an EC P-256 or RSA key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateAccountKey, type PublicJwk } from '@fluxel/acme-lite';
 *
 * const { key } = await generateAccountKey();
 * const jwk: PublicJwk = key.publicJwk;
 * assert.equal(jwk.kty, 'EC');
 * assert.equal('d' in jwk, false); // public members only
 * ```
 */
export type PublicJwk =
  | { readonly kty: 'EC'; readonly crv: 'P-256'; readonly x: string; readonly y: string }
  | { readonly kty: 'RSA'; readonly n: string; readonly e: string };

/**
 * A private JWK (the public members plus the private ones).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateAccountKey, importAccountKey, type PrivateJwk } from '@fluxel/acme-lite';
 *
 * // What FileCertificateStore keeps as the account key (account.json).
 * const { privateJwk } = await generateAccountKey();
 * const stored: PrivateJwk = JSON.parse(JSON.stringify(privateJwk));
 * assert.equal((await importAccountKey(stored)).alg, 'ES256');
 * ```
 */
export type PrivateJwk = PublicJwk & { readonly d: string } & Record<string, string>;

/**
 * An account (or certificate) key pair ready to sign.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AcmeKey, AcmeClient, generateAccountKey } from '@fluxel/acme-lite';
 *
 * const key: AcmeKey = (await generateAccountKey()).key;
 * assert.equal(key.alg, 'ES256');
 * const client = new AcmeClient({ accountKey: key });
 * assert.equal(client.accountKey, key);
 * ```
 */
export interface AcmeKey {
  readonly alg: 'ES256' | 'RS256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: PublicJwk;
}

function subtle(): SubtleCrypto {
  const found = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!found) {
    throw new AcmeError(
      'ERR_ACME_UNSUPPORTED_RUNTIME',
      `Web Crypto (crypto.subtle) is not available on ${runtimeName()}; ACME keys need it (in a browser: a secure context)`,
    );
  }
  return found;
}

/** node:crypto when it passes the ES256 probe (once, cached), else undefined. */
const nativeSigner = () => nativeCapability(nodeCrypto(), 'ES256', probeEs256);
const buf = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>;

function algorithm(jwk: { kty: string }) {
  return jwk.kty === 'EC'
    ? { alg: 'ES256' as const, params: { name: 'ECDSA', namedCurve: 'P-256' } }
    : { alg: 'RS256' as const, params: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
}

function publicPart(jwk: Record<string, unknown>): PublicJwk {
  if (
    jwk.kty === 'EC' &&
    jwk.crv === 'P-256' &&
    typeof jwk.x === 'string' &&
    typeof jwk.y === 'string'
  )
    return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  if (jwk.kty === 'RSA' && typeof jwk.n === 'string' && typeof jwk.e === 'string')
    return { kty: 'RSA', n: jwk.n, e: jwk.e };
  throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'an ACME key is EC P-256 or RSA');
}

/**
 * Generates a new ES256 account key (extractable, so it can be stored).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateAccountKey } from '@fluxel/acme-lite';
 *
 * const { key, privateJwk } = await generateAccountKey();
 * assert.equal(key.alg, 'ES256');
 * assert.equal(privateJwk.crv, 'P-256'); // keep privateJwk to use the account again
 * ```
 */
export async function generateAccountKey(): Promise<{ key: AcmeKey; privateJwk: PrivateJwk }> {
  const pair = (await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const privateJwk = (await subtle().exportKey('jwk', pair.privateKey)) as unknown as PrivateJwk;
  return {
    key: { alg: 'ES256', privateKey: pair.privateKey, publicJwk: publicPart(privateJwk) },
    privateJwk,
  };
}

/**
 * Imports a stored private JWK (EC P-256 or RSA) as a signing key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateAccountKey, importAccountKey, jwkThumbprint } from '@fluxel/acme-lite';
 *
 * const { key, privateJwk } = await generateAccountKey();
 * const again = await importAccountKey(privateJwk);
 * assert.equal(await jwkThumbprint(again.publicJwk), await jwkThumbprint(key.publicJwk));
 * ```
 */
export async function importAccountKey(privateJwk: PrivateJwk): Promise<AcmeKey> {
  const { alg, params } = algorithm(privateJwk);
  const { key_ops: _ops, ext: _ext, ...jwk } = privateJwk as Record<string, unknown>;
  try {
    const privateKey = await subtle().importKey('jwk', jwk as JsonWebKey, params, true, ['sign']);
    return { alg, privateKey, publicJwk: publicPart(privateJwk) };
  } catch (cause) {
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'the account key could not be imported', {
      cause,
    });
  }
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { jwkThumbprint } from '@fluxel/acme-lite';
 *
 * // The RFC 7638 §3.1 example key.
 * const thumbprint = await jwkThumbprint({
 *   kty: 'RSA',
 *   e: 'AQAB',
 *   n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
 * });
 * assert.equal(thumbprint, 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
 * ```
 */
export async function jwkThumbprint(jwk: PublicJwk): Promise<string> {
  const canonical =
    jwk.kty === 'EC'
      ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
      : `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  return b64u(new Uint8Array(await subtle().digest('SHA-256', buf(utf8(canonical)))));
}

const nodeKeys = new WeakMap<CryptoKey, NodeKeyObject | null>();

/** The node:crypto KeyObject of a Web Crypto key (cached), where node:crypto signs; else undefined. */
function nodeKey(key: CryptoKey): NodeKeyObject | undefined {
  let cached = nodeKeys.get(key);
  if (cached === undefined) {
    const from = (
      nativeSigner() as { KeyObject?: { from(k: CryptoKey): NodeKeyObject } } | undefined
    )?.KeyObject?.from;
    try {
      cached = from ? from(key) : null;
    } catch {
      cached = null;
    }
    nodeKeys.set(key, cached);
  }
  return cached ?? undefined;
}

/**
 * A JWS in flattened JSON serialisation.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type FlattenedJws, generateAccountKey, signJws } from '@fluxel/acme-lite';
 *
 * const { key } = await generateAccountKey();
 * const jws: FlattenedJws = await signJws(key, { nonce: 'n1', url: 'https://ca.example/acme/new-order' }, {});
 * // The body of an ACME POST (Content-Type: application/jose+json).
 * const body = JSON.stringify(jws);
 * assert.deepEqual(Object.keys(JSON.parse(body)), ['protected', 'payload', 'signature']);
 * ```
 */
export interface FlattenedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

/**
 * Signs `payload` (`undefined` = POST-as-GET, empty payload) with the given header.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateAccountKey, signJws } from '@fluxel/acme-lite';
 *
 * const { key } = await generateAccountKey();
 * const url = 'https://ca.example/acme/order/42';
 * const jws = await signJws(key, { nonce: 'n1', url, kid: 'https://ca.example/acme/acct/1' }, undefined);
 * assert.equal(jws.payload, ''); // POST-as-GET
 * const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString());
 * assert.deepEqual(header, { alg: 'ES256', nonce: 'n1', url, kid: 'https://ca.example/acme/acct/1' });
 * ```
 */
export async function signJws(
  key: AcmeKey,
  header: Record<string, unknown>,
  payload: unknown,
): Promise<FlattenedJws> {
  const protectedB64 = b64u(utf8(JSON.stringify({ alg: key.alg, ...header })));
  const payloadB64 = payload === undefined ? '' : b64u(utf8(JSON.stringify(payload)));
  const input = utf8(`${protectedB64}.${payloadB64}`);
  const fast = nodeKey(key.privateKey);
  const node = nativeSigner();
  if (fast && node) {
    // Node.js: the synchronous native signer (same bytes, no thread-pool round trip).
    try {
      const signature =
        key.alg === 'ES256'
          ? node.sign('sha256', input, { key: fast, dsaEncoding: 'ieee-p1363' })
          : node.sign('sha256', input, fast);
      return { protected: protectedB64, payload: payloadB64, signature: b64u(signature) };
    } catch {
      // This key does not sign natively here (the probe only covers P-256): Web Crypto, from now on.
      nodeKeys.set(key.privateKey, null);
    }
  }
  const params =
    key.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  const signature = new Uint8Array(await subtle().sign(params, key.privateKey, buf(input)));
  return { protected: protectedB64, payload: payloadB64, signature: b64u(signature) };
}

/**
 * An External Account Binding credential issued by the CA (RFC 8555 §7.3.4).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { eabJws, type ExternalAccountBinding, generateAccountKey } from '@fluxel/acme-lite';
 *
 * // From your CA's dashboard (ZeroSSL, Google Trust Services, …).
 * const eab: ExternalAccountBinding = { kid: 'kid-1', hmacKey: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' };
 * const { key } = await generateAccountKey();
 * const jws = await eabJws(eab, key.publicJwk, 'https://ca.example/acme/new-acct');
 * assert.equal(JSON.parse(Buffer.from(jws.protected, 'base64url').toString()).kid, 'kid-1');
 * ```
 */
export interface ExternalAccountBinding {
  /** The key identifier the CA gave you. */
  readonly kid: string;
  /** The MAC key, base64url as the CA hands it out. */
  readonly hmacKey: string;
}

/**
 * The `externalAccountBinding` JWS for a newAccount request.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { eabJws, generateAccountKey } from '@fluxel/acme-lite';
 *
 * const { key } = await generateAccountKey();
 * const binding = await eabJws(
 *   { kid: 'kid-1', hmacKey: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' },
 *   key.publicJwk,
 *   'https://ca.example/acme/new-acct',
 * );
 * // The payload is the account's public key, MACed with the CA's key.
 * assert.deepEqual(JSON.parse(Buffer.from(binding.payload, 'base64url').toString()), key.publicJwk);
 * ```
 */
export async function eabJws(
  eab: ExternalAccountBinding,
  accountJwk: PublicJwk,
  url: string,
): Promise<FlattenedJws> {
  const raw = fromB64u(eab.hmacKey.replace(/=+$/, ''));
  if (!raw || raw.length === 0)
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'the EAB hmacKey is not base64url');
  const key = await subtle().importKey('raw', buf(raw), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const protectedB64 = b64u(utf8(JSON.stringify({ alg: 'HS256', kid: eab.kid, url })));
  const payloadB64 = b64u(utf8(JSON.stringify(accountJwk)));
  const mac = await subtle().sign('HMAC', key, buf(utf8(`${protectedB64}.${payloadB64}`)));
  return { protected: protectedB64, payload: payloadB64, signature: b64u(new Uint8Array(mac)) };
}

/**
 * Imports a PKCS #8 PEM private key (a certificate's `key.pem`) as an {@link AcmeKey}, e.g. to
 * revoke a certificate with its own key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { exportKeyPem, generateCertKey, importKeyPem } from '@fluxel/acme-lite';
 *
 * // e.g. an account key certbot or acme.sh kept as PKCS #8 PEM.
 * const pem = await exportKeyPem((await generateCertKey()).privateKey);
 * const key = await importKeyPem(pem);
 * assert.equal(key.alg, 'ES256');
 * ```
 */
export async function importKeyPem(pem: string): Promise<AcmeKey> {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem);
  if (!match) throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'not a PKCS #8 PEM private key');
  const der = Uint8Array.from(atob((match[1] ?? '').replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  const webCrypto = subtle();
  for (const params of [
    { name: 'ECDSA', namedCurve: 'P-256' },
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ]) {
    try {
      const key = await webCrypto.importKey('pkcs8', buf(der), params, true, ['sign']);
      return importAccountKey((await webCrypto.exportKey('jwk', key)) as unknown as PrivateJwk);
    } catch {
      // try the next algorithm
    }
  }
  throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'the key is neither EC P-256 nor RSA');
}
