/**
 * Known-answer probes of the `node:crypto` members the packages use for signatures and hashes
 * (see ./capability.ts). Each runs the member on a published test vector and checks the exact
 * answer, so a module that is missing the member, throws, or answers differently fails.
 *
 * The keys are the published example keys of RFC 7515 (A.3) and RFC 8037 (A.1): test vectors,
 * not secrets.
 */
import { equalBytes, fromB64u, utf8 } from './base64url.js';
import type { NodeCrypto, NodeSignKey } from './node-crypto.js';

const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));

/** RFC 7515 appendix A.3: an ES256 key, a signing input and its signature. */
const ES256_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};
const ES256_D = 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI';
const ES256_INPUT =
  'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ';
const ES256_SIGNATURE =
  'DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q';

/** RFC 8037 appendix A.1/A.4: an Ed25519 key, a signing input and its (deterministic) signature. */
const ED25519_JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const ED25519_D = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A';
const ED25519_INPUT = 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc';
const ED25519_SIGNATURE =
  'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';

function flipped(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1] = (out[out.length - 1] as number) ^ 1;
  return out;
}

/**
 * ES256 through `createPrivateKey`/`createPublicKey` (JWK), `sign` and `verify` with IEEE P1363
 * signatures: the RFC 7515 signature verifies, an altered one does not, and a fresh signature
 * verifies.
 */
export function probeEs256(node: NodeCrypto): boolean {
  const input = utf8(ES256_INPUT);
  const publicKey = node.createPublicKey({ key: ES256_JWK, format: 'jwk' });
  const privateKey = node.createPrivateKey({ key: { ...ES256_JWK, d: ES256_D }, format: 'jwk' });
  const pub: NodeSignKey = { key: publicKey, dsaEncoding: 'ieee-p1363' };
  const known = fromB64u(ES256_SIGNATURE) as Uint8Array;
  const fresh = new Uint8Array(
    node.sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
  );
  return (
    node.verify('sha256', input, pub, known) === true &&
    node.verify('sha256', input, pub, flipped(known)) === false &&
    fresh.length === 64 &&
    node.verify('sha256', input, pub, fresh) === true
  );
}

/** Ed25519 (`sign`/`verify` with a null digest): the RFC 8037 signature, exactly. */
export function probeEd25519(node: NodeCrypto): boolean {
  const input = utf8(ED25519_INPUT);
  const publicKey = node.createPublicKey({ key: ED25519_JWK, format: 'jwk' });
  const privateKey = node.createPrivateKey({
    key: { ...ED25519_JWK, d: ED25519_D },
    format: 'jwk',
  });
  const known = fromB64u(ED25519_SIGNATURE) as Uint8Array;
  return (
    equalBytes(new Uint8Array(node.sign(null, input, privateKey)), known) &&
    node.verify(null, input, publicKey, known) === true &&
    node.verify(null, input, publicKey, flipped(known)) === false
  );
}

/** SHA-256 (`createHash`) of "abc" (FIPS 180-2 appendix B.1). */
export function probeSha256(node: NodeCrypto): boolean {
  const digest = new Uint8Array(node.createHash('sha256').update(utf8('abc')).digest());
  return equalBytes(
    digest,
    hex('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'),
  );
}

/** HMAC-SHA-256 (`createHmac`), RFC 4231 test case 2. */
export function probeHmacSha256(node: NodeCrypto): boolean {
  const mac = new Uint8Array(
    node.createHmac('sha256', utf8('Jefe')).update(utf8('what do ya want for nothing?')).digest(),
  );
  return equalBytes(mac, hex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'));
}
