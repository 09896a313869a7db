/**
 * Wycheproof vectors (vectors/wycheproof/, unmodified, source in its README) against the signature paths this package
 * verifies with: ECDSA P-256 / SHA-256 with P1363 signatures (DPoP proofs, ES256) and
 * Ed25519 (license tokens), on both backends. Every `invalid` case must be rejected and every
 * `valid` case accepted.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { vectorsDir } from '@fluxel/internal/testing';
import { describe, expect, it } from 'vitest';
import { toPublicJwk } from '../src/jwk.ts';
import { createVerifier, type SignatureBackend } from '../src/sig.ts';

interface Vector {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface Group {
  publicKey: { pk?: string; wx?: string; wy?: string };
  tests: Vector[];
}

const FILES = ['ecdsa_secp256r1_sha256_p1363_test.json', 'ed25519_test.json'];
const vectors = vectorsDir(
  resolve(import.meta.dirname, '..'),
  FILES.map((file) => `wycheproof/${file}`),
);
const hex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));

// Wycheproof writes coordinates as signed big-endian hex; JWK wants exactly 32 bytes.
function coordinate(text: string): string {
  return Buffer.from(text.padStart(64, '0').slice(-64), 'hex').toString('base64url');
}

function load(file: string): Group[] {
  return JSON.parse(readFileSync(join(vectors.dir as string, 'wycheproof', file), 'utf8'))
    .testGroups;
}

/** Runs every case of `file` against the verifier built for its group; returns how many ran. */
async function runVectors(
  file: string,
  keyOf: (group: Group) => ReturnType<typeof toPublicJwk>,
  backend: SignatureBackend,
) {
  let checked = 0;
  for (const group of load(file)) {
    const jwk = keyOf(group);
    expect(jwk).toBeDefined();
    const verifier = createVerifier(jwk as NonNullable<typeof jwk>, backend);
    for (const t of group.tests) {
      const ok = await verifier.verify(hex(t.msg), hex(t.sig));
      if (t.result === 'valid') expect(ok, `tcId ${t.tcId} ${t.comment}`).toBe(true);
      if (t.result === 'invalid') expect(ok, `tcId ${t.tcId} ${t.comment}`).toBe(false);
      checked++;
    }
  }
  return checked;
}

describe.skipIf(vectors.skip !== undefined)(`Wycheproof ${vectors.skip ?? ''}`, () => {
  for (const backend of ['node', 'web'] as SignatureBackend[]) {
    it(`ECDSA P-256 SHA-256 P1363 (${backend})`, async () => {
      const ec = (group: Group) =>
        toPublicJwk({
          kty: 'EC',
          crv: 'P-256',
          x: coordinate(group.publicKey.wx as string),
          y: coordinate(group.publicKey.wy as string),
        });
      expect(await runVectors('ecdsa_secp256r1_sha256_p1363_test.json', ec, backend)).toBe(262);
    });

    it(`Ed25519 (${backend})`, async () => {
      const ed = (group: Group) =>
        toPublicJwk({
          kty: 'OKP',
          crv: 'Ed25519',
          x: Buffer.from(group.publicKey.pk as string, 'hex').toString('base64url'),
        });
      expect(await runVectors('ed25519_test.json', ed, backend)).toBe(151);
    });
  }
});
