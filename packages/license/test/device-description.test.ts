/**
 * The device description of the client API (`createDpopSigner(key, { device })`): checked when
 * the signer is made, sent (claim `dvc`) in the proofs of activation and refresh only, and
 * checked again by the server's verifier, which refuses a malformed one.
 */
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { checkDeviceDescription } from '../src/lib/device-description.ts';
import { createDpopSigner } from '../src/lib/dpop.ts';
import { createDpopVerifier } from '../src/lib/dpop-verify.ts';
import { MemoryReplayStore } from '../src/lib/replay.ts';
import { generateKeyPair } from '../src/sig.ts';

const URL_ = 'https://relay.example/v1/activate';
const claimsOf = (proof: string) => jose.decodeJwt(proof);

describe('device description (client option)', () => {
  it('accepts a host name and an agent version, each optional', () => {
    expect(
      checkDeviceDescription({ hostName: 'kasse-01.filiale', agentVersion: '1.4.0-rc.1+b7' }),
    ).toEqual({ hostName: 'kasse-01.filiale', agentVersion: '1.4.0-rc.1+b7' });
    expect(checkDeviceDescription({ hostName: 'DESKTOP-7Q2M' })).toEqual({
      hostName: 'DESKTOP-7Q2M',
    });
    expect(checkDeviceDescription({})).toEqual({});
  });

  it('refuses anything else with ERR_LICENSE_INVALID_ARGUMENT, at signer creation', async () => {
    const { privateJwk } = await generateKeyPair('ES256');
    for (const device of [
      null,
      'host',
      [],
      { hostName: '' },
      { hostName: 'a'.repeat(254) },
      { hostName: '-leading-dash' },
      { hostName: 'two words' },
      { hostName: 'new\nline' },
      { hostName: 42 },
      { agentVersion: '' },
      { agentVersion: '1.0 beta' },
      { agentVersion: 'v'.repeat(65) },
      { agentVersion: '<script>' },
      { hostName: 'ok', ip: '10.0.0.1' },
    ]) {
      expect(() => createDpopSigner(privateJwk, { device: device as never })).toThrow(
        expect.objectContaining({ code: 'ERR_LICENSE_INVALID_ARGUMENT' }),
      );
    }
    expect(() =>
      createDpopSigner(privateJwk, { device: { hostName: 'a'.repeat(253), agentVersion: '0' } }),
    ).not.toThrow();
  });

  it('goes into proofs without an access token (activation, refresh), not into the others', async () => {
    const { privateJwk } = await generateKeyPair('ES256');
    const signer = createDpopSigner(privateJwk, {
      device: { hostName: 'kasse-01', agentVersion: '2.1.0' },
    });
    const activation = await signer.proof({ method: 'POST', url: URL_ });
    expect(claimsOf(activation).dvc).toEqual({ hn: 'kasse-01', av: '2.1.0' });
    const request = await signer.proof({ method: 'GET', url: URL_, accessToken: 'token' });
    expect(claimsOf(request).dvc).toBeUndefined();
    const plain = createDpopSigner(privateJwk, { device: {} });
    expect(claimsOf(await plain.proof({ method: 'POST', url: URL_ })).dvc).toBeUndefined();

    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    const verified = await verifier.verify({ method: 'POST', url: URL_, proof: activation });
    expect(verified.device).toEqual({ hostName: 'kasse-01', agentVersion: '2.1.0' });
  });

  it('the verifier refuses a proof whose device description is malformed', async () => {
    const { privateJwk, publicJwk } = await generateKeyPair('ES256');
    const key = await jose.importJWK(privateJwk as jose.JWK, 'ES256');
    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    let n = 0;
    for (const dvc of [
      'kasse-01',
      { hn: 'two words' },
      { hn: 'ok', ip: '10.0.0.1' },
      { av: 7 },
      [{ hn: 'x' }],
    ]) {
      const proof = await new jose.SignJWT({
        jti: `j${n++}`,
        htm: 'POST',
        htu: URL_,
        iat: Math.floor(Date.now() / 1000),
        dvc,
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk as jose.JWK })
        .sign(key);
      await expect(verifier.verify({ method: 'POST', url: URL_, proof })).rejects.toMatchObject({
        code: 'ERR_DPOP_INVALID_PROOF',
      });
    }
  });
});
