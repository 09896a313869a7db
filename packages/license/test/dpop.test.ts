import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { jwkThumbprint, type PrivateJwk, type PublicJwk } from '../src/jwk.ts';
import { createDpopSigner } from '../src/lib/dpop.ts';
import { createDpopVerifier } from '../src/lib/dpop-verify.ts';
import { createNonceSource } from '../src/lib/nonce.ts';
import { MemoryReplayStore } from '../src/lib/replay.ts';
import { generateKeyPair, type SignatureBackend } from '../src/sig.ts';

// RFC 9449, Figure 2 (the example proof) and Figure 9 (its key's thumbprint).
const RFC_PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg';
const RFC_JWK: PublicJwk = {
  kty: 'EC',
  crv: 'P-256',
  x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
  y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
};
const RFC_JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';
const RFC_IAT_MS = 1_562_262_616_000;
// RFC 8037, Appendix A.3: thumbprint of an Ed25519 key.
const RFC8037_JWK: PublicJwk = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const RFC8037_JKT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';

const URL_ = 'https://relay.example/v1/send?x=1#frag';
const backends: SignatureBackend[] = ['node', 'web'];

function setup(
  backend: SignatureBackend,
  extra: { nonceSecret?: Uint8Array; now?: () => number } = {},
) {
  const replay = new MemoryReplayStore();
  const nonces = extra.nonceSecret
    ? createNonceSource({ secret: extra.nonceSecret, ...(extra.now ? { now: extra.now } : {}) })
    : undefined;
  return createDpopVerifier({
    replay,
    backend,
    ...(nonces ? { nonces } : {}),
    ...(extra.now ? { now: extra.now } : {}),
  });
}

async function device(backend: SignatureBackend = 'auto') {
  const { privateJwk } = await generateKeyPair('ES256');
  return { privateJwk, signer: createDpopSigner(privateJwk, { backend }) };
}

describe('RFC vectors', () => {
  it('RFC 7638 thumbprints match the RFC 9449 and RFC 8037 examples', () => {
    expect(jwkThumbprint(RFC_JWK)).toBe(RFC_JKT);
    expect(jwkThumbprint(RFC8037_JWK)).toBe(RFC8037_JKT);
  });

  it('regression: an RSA key got a wrong thumbprint instead of a refusal', async () => {
    // RFC 7638 §3.1's example key: its thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs,
    // which needs e and n; this library has no RSA, so it refuses rather than hash other members.
    const rsa = (await jose.exportJWK(
      (
        await jose.generateKeyPair('RS256', { extractable: true })
      ).publicKey,
    )) as never;
    expect(() => jwkThumbprint(rsa)).toThrow(
      expect.objectContaining({
        code: 'ERR_LICENSE_INVALID_ARGUMENT',
        message: expect.stringMatching(/EC P-256 or Ed25519 public JWK .*got kty "RSA"/),
      }),
    );
    expect(() => jwkThumbprint({ kty: 'EC', crv: 'P-384', x: 'a', y: 'b' } as never)).toThrow(
      /EC P-256 or Ed25519/,
    );
  });

  it('regression: generateKeyPair("RS256") returned an Ed25519 pair', async () => {
    await expect(generateKeyPair('RS256' as never)).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_ARGUMENT',
      message:
        'generateKeyPair makes ES256 (P-256, the default) or EdDSA (Ed25519) keys, not "RS256"',
    });
    expect((await generateKeyPair('EdDSA')).publicJwk.kty).toBe('OKP');
    expect((await generateKeyPair()).publicJwk.kty).toBe('EC');
  });

  for (const backend of backends) {
    it(`the RFC 9449 example proof verifies (${backend})`, async () => {
      const verifier = setup(backend, { now: () => RFC_IAT_MS + 1000 });
      const result = await verifier.verify({
        method: 'POST',
        url: 'https://server.example.com/token',
        proof: RFC_PROOF,
      });
      expect(result).toMatchObject({ jkt: RFC_JKT, jti: '-BwC3ESc6acc2lTc', iat: 1_562_262_616 });
    });
  }

  it('the RFC example proof is refused for another URL, and once replayed', async () => {
    const verifier = setup('auto', { now: () => RFC_IAT_MS });
    await expect(
      verifier.verify({
        method: 'POST',
        url: 'https://server.example.com/other',
        proof: RFC_PROOF,
      }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_INVALID_PROOF' });
    await verifier.verify({
      method: 'POST',
      url: 'https://server.example.com/token',
      proof: RFC_PROOF,
    });
    await expect(
      verifier.verify({
        method: 'POST',
        url: 'https://server.example.com/token',
        proof: RFC_PROOF,
      }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_REPLAY' });
  });
});

describe.each(backends)('DPoP proofs (%s backend)', (backend) => {
  it('a fresh proof verifies and names the signing key', async () => {
    const { signer } = await device(backend);
    const proof = await signer.proof({
      method: 'post',
      url: URL_,
      accessToken: 'tok',
      body: '{"a":1}',
    });
    const verified = await setup(backend).verify({
      method: 'POST',
      url: 'https://RELAY.example:443/v1/send',
      proof,
      accessToken: 'tok',
      body: new TextEncoder().encode('{"a":1}'),
    });
    expect(verified.jkt).toBe(signer.jkt);
    expect(verified.jwk).toEqual(signer.publicJwk);
  });

  it('proofs checked concurrently are each judged on their own bytes (reused decoding memory)', async () => {
    const a = await device(backend);
    const b = await device(backend);
    // A replay store that answers later: every verification is suspended half way, so the
    // checks of many proofs interleave.
    const memory = new MemoryReplayStore();
    const verifier = createDpopVerifier({
      backend,
      replay: {
        remember: (id, ttl) =>
          new Promise<boolean>((resolve) => setImmediate(() => resolve(memory.remember(id, ttl)))),
      },
    });
    const proofs: { proof: string; valid: boolean; jkt: string }[] = [];
    for (let i = 0; i < 24; i++) {
      const who = i % 2 === 0 ? a : b;
      const proof = await who.signer.proof({ method: 'POST', url: URL_, accessToken: `tok-${i}` });
      const [h, p, sig] = proof.split('.') as [string, string, string];
      // Every third proof carries the other device's signature: valid bytes, wrong key.
      const other = await (i % 2 === 0 ? b : a).signer.proof({ method: 'POST', url: URL_ });
      const forged = `${h}.${p}.${other.split('.')[2]}`;
      proofs.push(
        i % 3 === 2
          ? { proof: forged, valid: false, jkt: who.signer.jkt }
          : { proof: `${h}.${p}.${sig}`, valid: true, jkt: who.signer.jkt },
      );
    }
    const outcomes = await Promise.all(
      proofs.map(({ proof }, i) =>
        verifier.verify({ method: 'POST', url: URL_, proof, accessToken: `tok-${i}` }).then(
          (v) => v.jkt,
          (e: { code?: string }) => e.code,
        ),
      ),
    );
    expect(outcomes).toEqual(proofs.map((p) => (p.valid ? p.jkt : 'ERR_DPOP_INVALID_PROOF')));
  });

  it('a signature segment that is not canonical base64url is malformed, not checked', async () => {
    const { signer } = await device(backend);
    const proof = await signer.proof({ method: 'GET', url: URL_ });
    const [h, p, s] = proof.split('.') as [string, string, string];
    // 64 bytes are 86 characters whose last one carries 4 unused bits: set one of them.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const loose = `${s.slice(0, -1)}${last[last.indexOf(s.slice(-1)) | 1]}`;
    for (const signature of [loose, `${s}=`, `${s.slice(0, 40)}+${s.slice(41)}`]) {
      await expect(
        setup(backend).verify({ method: 'GET', url: URL_, proof: `${h}.${p}.${signature}` }),
      ).rejects.toMatchObject({ code: 'ERR_DPOP_INVALID_PROOF', message: /well-formed/ });
    }
  });

  it('interoperates with jose in both directions', async () => {
    const { signer, privateJwk } = await device(backend);
    const proof = await signer.proof({ method: 'GET', url: URL_ });
    const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, {
      typ: 'dpop+jwt',
    });
    expect(payload).toMatchObject({ htm: 'GET', htu: 'https://relay.example/v1/send' });
    expect(await jose.calculateJwkThumbprint(protectedHeader.jwk as jose.JWK)).toBe(signer.jkt);

    const key = await jose.importJWK(privateJwk as jose.JWK, 'ES256');
    const fromJose = await new jose.SignJWT({
      jti: 'j1',
      htm: 'GET',
      htu: 'https://relay.example/v1/send',
      iat: Math.floor(Date.now() / 1000),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: signer.publicJwk as jose.JWK })
      .sign(key);
    await expect(
      setup(backend).verify({ method: 'GET', url: URL_, proof: fromJose }),
    ).resolves.toMatchObject({ jkt: signer.jkt });
  });
});

describe('attacks on proofs (each refused with its code)', () => {
  const body = new TextEncoder().encode('{"amount":100}');

  it("a verified proof hands back the body's checked SHA-256 (so the body need not be hashed again)", async () => {
    const { signer } = await device();
    const verifier = setup('auto');
    const proof = await signer.proof({ method: 'POST', url: URL_, body });
    const verified = await verifier.verify({ method: 'POST', url: URL_, proof, body });
    const sha = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    expect(verified.bodyDigest).toBe(Buffer.from(sha).toString('base64url'));
    const get = await signer.proof({ method: 'GET', url: URL_ });
    expect((await verifier.verify({ method: 'GET', url: URL_, proof: get })).bodyDigest).toBe(
      undefined,
    );
  });

  it('replayed proof', async () => {
    const { signer } = await device();
    const verifier = setup('auto');
    const proof = await signer.proof({ method: 'POST', url: URL_, body });
    await verifier.verify({ method: 'POST', url: URL_, proof, body });
    await expect(verifier.verify({ method: 'POST', url: URL_, proof, body })).rejects.toMatchObject(
      { code: 'ERR_DPOP_REPLAY' },
    );
  });

  it('proof for another URL or another method', async () => {
    const { signer } = await device();
    const verifier = setup('auto');
    const proof = await signer.proof({ method: 'POST', url: URL_, body });
    await expect(
      verifier.verify({ method: 'POST', url: 'https://relay.example/v1/other', proof, body }),
    ).rejects.toMatchObject({
      code: 'ERR_DPOP_INVALID_PROOF',
      message: expect.stringMatching(/URL/),
    });
    await expect(verifier.verify({ method: 'PUT', url: URL_, proof, body })).rejects.toMatchObject({
      code: 'ERR_DPOP_INVALID_PROOF',
      message: expect.stringMatching(/method/),
    });
    await expect(
      verifier.verify({ method: 'POST', url: 'http://relay.example/v1/send', proof, body }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_INVALID_PROOF' });
  });

  it('expired proof, and one from the future', async () => {
    let clock = Date.now();
    const { privateJwk } = await device();
    const signer = createDpopSigner(privateJwk, { now: () => clock });
    const verifier = setup('auto');
    clock -= 120_000;
    const old = await signer.proof({ method: 'GET', url: URL_ });
    clock += 240_000;
    const future = await signer.proof({ method: 'GET', url: URL_ });
    await expect(verifier.verify({ method: 'GET', url: URL_, proof: old })).rejects.toMatchObject({
      code: 'ERR_DPOP_STALE',
    });
    await expect(
      verifier.verify({ method: 'GET', url: URL_, proof: future }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_STALE' });
  });

  it('proof not bound to the presented access token', async () => {
    const { signer } = await device();
    const verifier = setup('auto');
    const proof = await signer.proof({ method: 'GET', url: URL_, accessToken: 'token-A' });
    await expect(
      verifier.verify({ method: 'GET', url: URL_, proof, accessToken: 'token-B' }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_INVALID_PROOF' });
    const unbound = await signer.proof({ method: 'GET', url: URL_ });
    await expect(
      verifier.verify({ method: 'GET', url: URL_, proof: unbound, accessToken: 'token-A' }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_INVALID_PROOF' });
  });

  it('body swapped after signing, or a body without digest', async () => {
    const { signer } = await device();
    const verifier = setup('auto');
    const proof = await signer.proof({ method: 'POST', url: URL_, body });
    const tampered = new TextEncoder().encode('{"amount":999}');
    await expect(
      verifier.verify({ method: 'POST', url: URL_, proof, body: tampered }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_BODY_MISMATCH' });
    const noDigest = await signer.proof({ method: 'POST', url: URL_ });
    await expect(
      verifier.verify({ method: 'POST', url: URL_, proof: noDigest, body }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_BODY_MISMATCH' });
  });

  it('forged signature, alg none, wrong typ, private key in the header, missing or doubled proof', async () => {
    const { signer, privateJwk } = await device();
    const verifier = setup('auto');
    const proof = await signer.proof({ method: 'GET', url: URL_ });
    const [h, p, s] = proof.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const cases: [string, string | undefined, string][] = [
      ['flipped signature bit', flipped, 'ERR_DPOP_INVALID_PROOF'],
      [
        'alg none',
        `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: signer.publicJwk })}.${p}.`,
        'ERR_DPOP_INVALID_PROOF',
      ],
      [
        'HS256',
        `${b64({ typ: 'dpop+jwt', alg: 'HS256', jwk: signer.publicJwk })}.${p}.${s}`,
        'ERR_DPOP_INVALID_PROOF',
      ],
      [
        'typ JWT',
        `${b64({ typ: 'JWT', alg: 'ES256', jwk: signer.publicJwk })}.${p}.${s}`,
        'ERR_DPOP_INVALID_PROOF',
      ],
      [
        'private key in header',
        `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: privateJwk })}.${p}.${s}`,
        'ERR_DPOP_INVALID_PROOF',
      ],
      ['jti missing', `${h}.${b64({ ...payload, jti: undefined })}.${s}`, 'ERR_DPOP_INVALID_PROOF'],
      ['two parts', `${h}.${p}`, 'ERR_DPOP_INVALID_PROOF'],
      ['no proof', undefined, 'ERR_DPOP_MISSING'],
    ];
    for (const [name, value, code] of cases) {
      await expect(
        verifier.verify({ method: 'GET', url: URL_, proof: value }),
        name,
      ).rejects.toMatchObject({ code });
    }
  });

  it('server nonces: required, accepted from a sibling instance, refused when stale', async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    let clock = Date.now();
    const now = () => clock;
    const a = setup('auto', { nonceSecret: secret, now });
    const b = setup('auto', { nonceSecret: secret, now });
    const { privateJwk } = await device();
    const signer = createDpopSigner(privateJwk, { now });
    const without = await signer.proof({ method: 'GET', url: URL_ });
    await expect(a.verify({ method: 'GET', url: URL_, proof: without })).rejects.toMatchObject({
      code: 'ERR_DPOP_NONCE_REQUIRED',
    });
    const nonce = a.nonce() as string;
    expect(typeof nonce).toBe('string');
    const withNonce = await signer.proof({ method: 'GET', url: URL_, nonce });
    await expect(b.verify({ method: 'GET', url: URL_, proof: withNonce })).resolves.toMatchObject({
      jkt: signer.jkt,
    });
    // Accepted at the issuing instance too (its MAC is remembered there from now on; its age
    // is still checked on every use, below).
    const again = await signer.proof({ method: 'GET', url: URL_, nonce });
    await expect(a.verify({ method: 'GET', url: URL_, proof: again })).resolves.toMatchObject({
      jkt: signer.jkt,
    });
    // One character of the MAC changed (away from the end, where base64url may carry unused
    // bits): always a different MAC (a fixed "AA" suffix was the real one 1 time in 256).
    const at = nonce.length - 5;
    const forged = await signer.proof({
      method: 'GET',
      url: URL_,
      nonce: `${nonce.slice(0, at)}${nonce[at] === 'A' ? 'B' : 'A'}${nonce.slice(at + 1)}`,
    });
    await expect(a.verify({ method: 'GET', url: URL_, proof: forged })).rejects.toMatchObject({
      code: 'ERR_DPOP_NONCE_REQUIRED',
    });
    clock += 600_000;
    const staleNonce = await signer.proof({ method: 'GET', url: URL_, nonce });
    await expect(a.verify({ method: 'GET', url: URL_, proof: staleNonce })).rejects.toMatchObject({
      code: 'ERR_DPOP_NONCE_REQUIRED',
    });
  });

  it('a replay cache that is full refuses rather than forgets', async () => {
    const replay = new MemoryReplayStore({ maxEntries: 2 });
    expect(replay.remember('a', 60)).toBe(true);
    expect(replay.remember('b', 60)).toBe(true);
    expect(replay.remember('a', 60)).toBe(false);
    expect(() => replay.remember('c', 60)).toThrow(/full/);
  });

  it('replay cache entries expire', () => {
    let clock = 0;
    const replay = new MemoryReplayStore({ now: () => clock });
    expect(replay.remember('a', 10)).toBe(true);
    clock = 9_999;
    expect(replay.remember('a', 10)).toBe(false);
    clock = 10_001;
    expect(replay.remember('a', 10)).toBe(true);
    expect(replay.size).toBe(1);
  });

  it('a full replay cache makes room once its oldest entries expire', () => {
    let clock = 0;
    const replay = new MemoryReplayStore({ maxEntries: 2, now: () => clock });
    expect(replay.remember('a', 10)).toBe(true);
    clock = 5_000;
    expect(replay.remember('b', 10)).toBe(true);
    expect(() => replay.remember('c', 10)).toThrow(/full/);
    clock = 10_001; // a has expired, b has not
    expect(replay.remember('c', 10)).toBe(true);
    expect(replay.remember('b', 10)).toBe(false);
    expect(replay.size).toBe(2);
    clock = 30_000;
    expect(replay.remember('d', 10)).toBe(true);
    expect(replay.size).toBe(1);
  });
});

it('a signer refuses a key that is not a private key', () => {
  expect(() =>
    createDpopSigner({
      kty: 'EC',
      crv: 'P-256',
      x: RFC_JWK.x,
      y: (RFC_JWK as { y: string }).y,
    } as unknown as PrivateJwk),
  ).toThrow(/private/);
});
