/**
 * Issue 20, DPoP against other implementations: the `DPoP` authorization scheme is
 * case-insensitive (RFC 9110 §11.1); a proof with the fully-specified algorithm `Ed25519`
 * (RFC 9864, what jose and others now send) is accepted wherever `EdDSA` is; the
 * `WWW-Authenticate` challenge names what is accepted (`algs`, RFC 9449 §7.1); and the
 * body-digest rule (`cdg`) is exactly as the README states it.
 */
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { LicenseAuthority } from '../src/lib/authority.ts';
import { bodyDigest } from '../src/lib/dpop.ts';
import { dpopChallenge, dpopChallengeError } from '../src/lib/dpop-challenge.ts';
import { createDpopVerifier } from '../src/lib/dpop-verify.ts';
import { LicenseError } from '../src/lib/errors.ts';
import { MemoryReplayStore } from '../src/lib/replay.ts';
import { MemoryLicenseStore } from '../src/lib/store.ts';
import { generateKeyPair } from '../src/sig.ts';
import { Device, harness, RELAY } from './helpers.ts';

const URL_ = 'https://relay.example/v1/send';

/** A proof as another library makes it (jose), with the `alg` it chooses. */
async function joseProof(
  alg: 'Ed25519' | 'EdDSA' | 'ES256',
  claims: Record<string, unknown> = {},
  url = URL_,
) {
  const { privateKey, publicKey } = await jose.generateKeyPair(
    alg === 'ES256' ? 'ES256' : 'Ed25519',
    {
      extractable: true,
    },
  );
  const jwk = await jose.exportJWK(publicKey);
  return new jose.SignJWT({ jti: crypto.randomUUID(), htm: 'POST', htu: url, ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk })
    .setIssuedAt()
    .sign(privateKey);
}

describe('RFC 9864: alg "Ed25519"', () => {
  it('regression: a proof with alg Ed25519 (fully specified) was refused where EdDSA is accepted', async () => {
    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    for (const alg of ['Ed25519', 'EdDSA', 'ES256'] as const) {
      const proof = await joseProof(alg);
      await expect(
        verifier.verify({ method: 'POST', url: URL_, proof }),
        alg,
      ).resolves.toMatchObject({
        jkt: expect.any(String),
      });
    }
  });

  it('naming EdDSA or Ed25519 accepts both; leaving them out refuses both', async () => {
    const edOnly = createDpopVerifier({ replay: new MemoryReplayStore(), algorithms: ['EdDSA'] });
    expect(edOnly.algorithms).toEqual(['EdDSA', 'Ed25519']);
    await expect(
      edOnly.verify({ method: 'POST', url: URL_, proof: await joseProof('Ed25519') }),
    ).resolves.toBeDefined();
    const esOnly = createDpopVerifier({ replay: new MemoryReplayStore(), algorithms: ['ES256'] });
    for (const alg of ['Ed25519', 'EdDSA'] as const) {
      await expect(
        esOnly.verify({ method: 'POST', url: URL_, proof: await joseProof(alg) }),
      ).rejects.toMatchObject({
        code: 'ERR_DPOP_INVALID_PROOF',
        message: expect.stringMatching(/"alg"/),
      });
    }
    expect(esOnly.challenge()).toBe('DPoP algs="ES256"');
    expect(() =>
      createDpopVerifier({ replay: new MemoryReplayStore(), algorithms: ['RS256' as never] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_LICENSE_INVALID_ARGUMENT' }));
  });

  it('alg Ed25519 with an EC key (or ES256 with an Ed25519 key) is refused', async () => {
    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const ecJwk = await jose.exportJWK(publicKey);
    const header = { typ: 'dpop+jwt', alg: 'Ed25519', jwk: ecJwk };
    // jose will not sign ES256 bytes under another alg name; forge the header by hand.
    const b64 = (v: unknown) => jose.base64url.encode(JSON.stringify(v));
    const claims = { jti: 'j1', htm: 'POST', htu: URL_, iat: Math.floor(Date.now() / 1000) };
    const input = `${b64(header)}.${b64(claims)}`;
    const sig = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      privateKey as CryptoKey,
      new TextEncoder().encode(input),
    );
    const proof = `${input}.${jose.base64url.encode(new Uint8Array(sig))}`;
    await expect(verifier.verify({ method: 'POST', url: URL_, proof })).rejects.toMatchObject({
      code: 'ERR_DPOP_INVALID_PROOF',
    });
  });
});

describe('RFC 9110 §11.1: the auth scheme is case-insensitive', () => {
  it('regression: "Authorization: dpop <token>" was refused', async () => {
    const h = await harness(new MemoryLicenseStore());
    const { key } = await h.authority.issue({ tenant: 't', product: 'p' });
    const device = await Device.create(h.clock);
    await device.activate(h.authority, key);
    for (const scheme of ['dpop', 'DPOP', 'DPoP', 'dPoP']) {
      const request = await device.request('GET', '/v1/mailbox');
      const headers = { ...request.headers, authorization: `${scheme} ${device.token}` };
      await expect(
        h.authority.verifyRequest({ ...request, headers }),
        scheme,
      ).resolves.toMatchObject({ proof: { jkt: device.signer.jkt } });
    }
    for (const value of [
      `Bearer ${device.token}`,
      `DPoP${device.token}`,
      'DPoP ',
      `DPoPX ${device.token}`,
    ]) {
      const request = await device.request('GET', '/v1/mailbox');
      await expect(
        h.authority.verifyRequest({
          ...request,
          headers: { ...request.headers, authorization: value },
        }),
      ).rejects.toMatchObject({ code: 'ERR_LICENSE_INVALID_TOKEN' });
    }
  });
});

describe('RFC 9449 §7.1: the WWW-Authenticate challenge', () => {
  it('regression: the challenge did not say which algorithms are accepted (algs)', async () => {
    const h = await harness(new MemoryLicenseStore());
    expect(h.authority.challenge()).toBe('DPoP algs="ES256 EdDSA Ed25519"');
    const nonce = new LicenseError('ERR_DPOP_NONCE_REQUIRED', 'x');
    expect(h.authority.challenge(nonce)).toBe(
      'DPoP error="use_dpop_nonce", algs="ES256 EdDSA Ed25519"',
    );
    const stale = new LicenseError('ERR_DPOP_STALE', 'x');
    expect(h.authority.challenge(stale)).toBe(
      'DPoP error="invalid_dpop_proof", algs="ES256 EdDSA Ed25519"',
    );
    const expired = new LicenseError('ERR_LICENSE_TOKEN_EXPIRED', 'x');
    expect(h.authority.challenge(expired)).toBe(
      'DPoP error="invalid_token", algs="ES256 EdDSA Ed25519"',
    );
    expect(dpopChallengeError(new Error('other'))).toBeUndefined();
  });

  it('dpopChallenge quotes only safe text', () => {
    expect(dpopChallenge({ error: 'invalid_token', description: 'token expired' })).toBe(
      'DPoP error="invalid_token", error_description="token expired", algs="ES256 EdDSA Ed25519"',
    );
    for (const bad of [
      { description: 'a "quoted" word' },
      { description: 'line\r\nbreak' },
      { error: 'made_up' as never },
      { algorithms: [] },
      { algorithms: ['ES256"'] },
    ]) {
      expect(() => dpopChallenge(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_LICENSE_INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('the body-digest rule (cdg), exactly as the README states it', () => {
  const body = new TextEncoder().encode('{"kind":"order","n":1}');

  it('a request with a non-empty body needs cdg = base64url(SHA-256(body bytes)), no padding', async () => {
    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    const digest = jose.base64url.encode(
      new Uint8Array(await crypto.subtle.digest('SHA-256', body)),
    );
    expect(bodyDigest(body)).toBe(digest);
    // A standard RFC 9449 proof (no cdg) cannot POST a body...
    await expect(
      verifier.verify({ method: 'POST', url: URL_, proof: await joseProof('ES256'), body }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_BODY_MISMATCH' });
    // ...the same proof with cdg can, and another body with it cannot.
    const withCdg = await joseProof('ES256', { cdg: digest });
    await expect(
      verifier.verify({ method: 'POST', url: URL_, proof: withCdg, body }),
    ).resolves.toMatchObject({ bodyDigest: digest });
    await expect(
      verifier.verify({
        method: 'POST',
        url: URL_,
        proof: await joseProof('ES256', { cdg: digest }),
        body: new TextEncoder().encode('{"kind":"order","n":2}'),
      }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_BODY_MISMATCH' });
  });

  it('no body (or an empty one): cdg is not needed, but when present it must be the empty digest', async () => {
    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    await expect(
      verifier.verify({ method: 'POST', url: URL_, proof: await joseProof('ES256') }),
    ).resolves.toBeDefined();
    await expect(
      verifier.verify({
        method: 'POST',
        url: URL_,
        proof: await joseProof('ES256'),
        body: new Uint8Array(0),
      }),
    ).resolves.toBeDefined();
    await expect(
      verifier.verify({
        method: 'POST',
        url: URL_,
        proof: await joseProof('ES256', { cdg: bodyDigest(body) }),
      }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_BODY_MISMATCH' });
    const relaxed = createDpopVerifier({
      replay: new MemoryReplayStore(),
      requireBodyDigest: false,
    });
    await expect(
      relaxed.verify({ method: 'POST', url: URL_, proof: await joseProof('ES256'), body }),
    ).resolves.toBeDefined();
  });
});

describe('strict options', () => {
  it('regression: a LicenseAuthority without replay failed only at the first activation', async () => {
    const base = {
      store: new MemoryLicenseStore(),
      pepper: new Uint8Array(32).fill(7),
      issuer: RELAY,
      signingKeys: [{ kid: 'k1', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
    };
    for (const replay of [undefined, {}, { remember: 'yes' }]) {
      expect(() => new LicenseAuthority({ ...base, replay } as never)).toThrow(
        expect.objectContaining({
          code: 'ERR_LICENSE_INVALID_ARGUMENT',
          message: expect.stringMatching(/^replay is required/),
        }),
      );
    }
    expect(
      () => new LicenseAuthority({ ...base, replay: new MemoryReplayStore(), store: {} } as never),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_LICENSE_INVALID_ARGUMENT',
        message: expect.stringMatching(/^store/),
      }),
    );
    expect(() => createDpopVerifier({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_LICENSE_INVALID_ARGUMENT' }),
    );
  });
});
