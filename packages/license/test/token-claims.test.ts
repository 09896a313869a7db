/**
 * Issue 20: an invalid token names the claim that failed, as jose does (`exp`, `iat`, `nbf`,
 * `iss`, `typ`, `kid`, `cnf.jkt`, `ent`, a malformed claim), on `error.claim` and in the
 * message — with the stable codes unchanged and never a claim's value, a token or a key.
 */
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import type { Jwks } from '../src/lib/claims.ts';
import { createDpopSigner } from '../src/lib/dpop.ts';
import { createDpopVerifier } from '../src/lib/dpop-verify.ts';
import { MemoryReplayStore } from '../src/lib/replay.ts';
import { createTokenIssuer, type TokenSubject } from '../src/lib/token-issuer.ts';
import { createTokenVerifier } from '../src/lib/token-verify.ts';
import { generateKeyPair } from '../src/sig.ts';

const ISSUER = 'https://relay.test';
const subject: TokenSubject = {
  sub: 'lic-1',
  tid: 'tenant-a',
  prd: 'wawi-sync',
  ent: ['orders'],
  lexp: null,
  cnf: { jkt: 'device-thumbprint' },
};

async function setup() {
  let clock = Date.now();
  const { privateJwk } = await generateKeyPair('EdDSA');
  const issuer = createTokenIssuer({
    issuer: ISSUER,
    keys: [{ kid: 'k1', privateJwk }],
    now: () => clock,
  });
  const verifier = createTokenVerifier({ issuer: ISSUER, jwks: issuer.jwks(), now: () => clock });
  const key = await jose.importJWK(privateJwk as jose.JWK, 'EdDSA');
  /** A token signed with the authority's key, with these claims and header. */
  const forge = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'fluxel-license+jwt', ...header })
      .sign(key);
  const seconds = Math.floor(clock / 1000);
  const valid = {
    iss: ISSUER,
    ...subject,
    iat: seconds,
    exp: seconds + 3600,
    jti: 'j1',
  };
  return {
    issuer,
    verifier,
    forge,
    valid,
    jwks: issuer.jwks(),
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

function refused(code: string, claim: string) {
  return expect.objectContaining({
    code,
    claim,
    message: expect.stringContaining(`"${claim}"`),
  });
}

describe('regression: token errors did not say which claim failed', () => {
  it('exp: expired', async () => {
    const t = await setup();
    const { token } = await t.issuer.issueLicenseToken(subject, 60);
    t.advance(120_000);
    await expect(t.verifier.verifyLicenseToken(token)).rejects.toEqual(
      refused('ERR_LICENSE_TOKEN_EXPIRED', 'exp'),
    );
  });

  it('iss: another issuer', async () => {
    const t = await setup();
    const { token } = await t.issuer.issueLicenseToken(subject, 60);
    const other = createTokenVerifier({ issuer: 'https://elsewhere.test', jwks: t.jwks });
    const error = await other.verifyLicenseToken(token).catch((e: unknown) => e);
    expect(error).toEqual(refused('ERR_LICENSE_INVALID_TOKEN', 'iss'));
    // Neither the expected nor the presented issuer is echoed.
    expect((error as Error).message).not.toContain('relay.test');
    expect((error as Error).message).not.toContain('elsewhere');
  });

  it('iat and nbf: not valid yet', async () => {
    const t = await setup();
    const future = t.valid.iat + 600;
    await expect(
      t.verifier.verifyLicenseToken(await t.forge({ ...t.valid, iat: future })),
    ).rejects.toEqual(refused('ERR_LICENSE_INVALID_TOKEN', 'iat'));
    await expect(
      t.verifier.verifyLicenseToken(await t.forge({ ...t.valid, nbf: future })),
    ).rejects.toEqual(refused('ERR_LICENSE_INVALID_TOKEN', 'nbf'));
    await expect(
      t.verifier.verifyLicenseToken(await t.forge({ ...t.valid, nbf: t.valid.iat })),
    ).resolves.toMatchObject({ sub: 'lic-1' });
  });

  it('cnf.jkt: bound to another device; ent: entitlement missing', async () => {
    const t = await setup();
    const { token } = await t.issuer.issueLicenseToken(subject, 60);
    await expect(t.verifier.verifyLicenseToken(token, { jkt: 'other' })).rejects.toEqual(
      refused('ERR_LICENSE_TOKEN_BINDING', 'cnf.jkt'),
    );
    await expect(
      t.verifier.verifyLicenseToken(token, { entitlements: ['invoices'] }),
    ).rejects.toEqual(refused('ERR_LICENSE_ENTITLEMENT', 'ent'));
  });

  it('typ, kid and alg headers', async () => {
    const t = await setup();
    const { token } = await t.issuer.issueAccessToken(subject, 60);
    await expect(t.verifier.verifyLicenseToken(token)).rejects.toEqual(
      refused('ERR_LICENSE_INVALID_TOKEN', 'typ'),
    );
    await expect(
      t.verifier.verifyLicenseToken(await t.forge(t.valid, { typ: 'JWT' })),
    ).rejects.toEqual(refused('ERR_LICENSE_INVALID_TOKEN', 'typ'));
    await expect(
      t.verifier.verifyLicenseToken(await t.forge(t.valid, { kid: 'k9' })),
    ).rejects.toEqual(refused('ERR_LICENSE_INVALID_TOKEN', 'kid'));
    const es = await generateKeyPair('ES256');
    const esKey = await jose.importJWK(es.privateJwk as jose.JWK, 'ES256');
    const wrongAlg = await new jose.SignJWT(t.valid)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'fluxel-license+jwt' })
      .sign(esKey);
    await expect(t.verifier.verifyLicenseToken(wrongAlg)).rejects.toEqual(
      refused('ERR_LICENSE_INVALID_TOKEN', 'alg'),
    );
  });

  it('a missing or malformed claim is named', async () => {
    const t = await setup();
    const cases: [string, Record<string, unknown>][] = [
      ['sub', { sub: 7 }],
      ['ent', { ent: 'orders' }],
      ['exp', { exp: 'tomorrow' }],
      ['nbf', { nbf: 'now' }],
      ['cnf.jkt', { cnf: {} }],
    ];
    for (const [claim, change] of cases) {
      await expect(
        t.verifier.verifyLicenseToken(await t.forge({ ...t.valid, ...change })),
        claim,
      ).rejects.toEqual(refused('ERR_LICENSE_INVALID_TOKEN', claim));
    }
    const { iss: _iss, ...noIssuer } = t.valid;
    await expect(t.verifier.verifyLicenseToken(await t.forge(noIssuer))).rejects.toEqual(
      refused('ERR_LICENSE_INVALID_TOKEN', 'iss'),
    );
  });

  it('failures that are not about one claim carry none, and leak no token', async () => {
    const t = await setup();
    const { token } = await t.issuer.issueLicenseToken(subject, 60);
    const tampered = `${token.slice(0, -4)}AAAA`;
    const error = await t.verifier.verifyLicenseToken(tampered).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_LICENSE_INVALID_TOKEN' });
    expect((error as { claim?: string }).claim).toBeUndefined();
    expect((error as Error).message).not.toContain(token.slice(0, 20));
    const jwks: Jwks = t.jwks;
    expect(JSON.stringify(error)).not.toContain(jwks.keys[0]?.x);
  });
});

describe('DPoP proof errors name the claim too', () => {
  it('htm, htu, ath, cdg, iat', async () => {
    const signer = createDpopSigner((await generateKeyPair('ES256')).privateJwk);
    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    const url = 'https://relay.test/v1/send';
    const body = new TextEncoder().encode('{}');
    const cases: [string, Promise<unknown>][] = [
      [
        'htm',
        verifier.verify({ method: 'GET', url, proof: await signer.proof({ method: 'POST', url }) }),
      ],
      [
        'htu',
        verifier.verify({
          method: 'POST',
          url: `${url}/other`,
          proof: await signer.proof({ method: 'POST', url }),
        }),
      ],
      [
        'ath',
        verifier.verify({
          method: 'POST',
          url,
          accessToken: 'token-b',
          proof: await signer.proof({ method: 'POST', url, accessToken: 'token-a' }),
        }),
      ],
      [
        'cdg',
        verifier.verify({
          method: 'POST',
          url,
          body,
          proof: await signer.proof({ method: 'POST', url }),
        }),
      ],
    ];
    for (const [claim, result] of cases) {
      await expect(result, claim).rejects.toEqual(
        expect.objectContaining({ claim, message: expect.stringContaining(`"${claim}"`) }),
      );
    }
    const stale = createDpopSigner((await generateKeyPair('ES256')).privateJwk, {
      now: () => Date.now() - 600_000,
    });
    await expect(
      verifier.verify({ method: 'POST', url, proof: await stale.proof({ method: 'POST', url }) }),
    ).rejects.toMatchObject({ code: 'ERR_DPOP_STALE', claim: 'iat' });
  });
});
