/**
 * A software passkey for the concurrency suite: builds a WebAuthn registration response
 * (attestation `none`, user present and verified, an ES256 key) for the options the portal
 * handed out, so a test can send the same registration several times at once — or one naming
 * a credential id another account registered already.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** A registration response for `challenge` at `origin` (RP id `rpId`), credential `credentialId`. */
export function softRegistration(options: {
  challenge: string;
  rpId: string;
  origin: string;
  credentialId?: Uint8Array;
}): { response: Record<string, unknown>; credentialId: string } {
  const id = options.credentialId ?? new Uint8Array(randomBytes(32));
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, new Uint8Array(Buffer.from(String(jwk.x), 'base64url'))],
      [-3, new Uint8Array(Buffer.from(String(jwk.y), 'base64url'))],
    ]),
  );
  const rpIdHash = createHash('sha256').update(options.rpId).digest();
  const flags = 0x01 | 0x04 | 0x40; // user present, user verified, attested credential data
  const authData = Buffer.concat([
    rpIdHash,
    Buffer.from([flags]),
    Buffer.alloc(4), // sign count
    Buffer.alloc(16), // AAGUID
    Buffer.from([id.length >> 8, id.length & 0xff]),
    Buffer.from(id),
    Buffer.from(cose),
  ]);
  const attestationObject = isoCBOR.encode(
    new Map<string, string | Uint8Array | Map<string, string>>([
      ['fmt', 'none'],
      ['attStmt', new Map<string, string>()],
      ['authData', new Uint8Array(authData)],
    ]),
  );
  const clientDataJSON = Buffer.from(
    JSON.stringify({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin: options.origin,
      crossOrigin: false,
    }),
  );
  return {
    credentialId: b64url(id),
    response: {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    },
  };
}
