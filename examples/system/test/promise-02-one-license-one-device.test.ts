import { join } from 'node:path';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, spkiPin } from '@fluxel/relay-client/node';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activatedAgent, type Booted, boot } from './helpers.ts';

describe('promise 2: one license, one device', () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  });
  afterAll(async () => sys?.close());

  it('a spent license key fails on a second device; a stolen token or a replayed proof is worthless', async () => {
    const first = await activatedAgent(sys, 'first', { credentials: false });
    const admin = sys.admin();
    const bound = await admin.get(first.licenseId);
    expect(bound.status).toBe('active');
    expect(bound.device_jkt).toBeTruthy();

    // The same key on another machine (another config folder, another device key): refused.
    const second = await sys.activateAgent(join(sys.dataDir, 'agents', 'second'), first.licenseKey);
    expect(second.code).toBe(1);
    expect(second.json?.ok).toBe(false);
    expect((await admin.get(first.licenseId)).device_jkt).toBe(bound.device_jkt);

    // A device of our own (relay-client over the same HTTPS) for the proof-of-possession checks.
    const ca = sys.ca;
    const owner = createDpopSigner((await generateKeyPair()).privateJwk);
    const client = createRelayClient({
      baseUrl: sys.relayUrl,
      ca,
      pins: [spkiPin(ca)],
      proxy: false,
      device: owner,
      retry: { attempts: 1 },
    });
    const { licenseKey } = await admin.create({ tenant: 'demo-merchant', product: 'wawi-sync' });
    await client.activate({ body: { licenseKey } });
    const token = (await client.tokens())?.accessToken as string;
    expect(token).toBeTruthy();
    const dispatcher = new Agent({ connect: { ca } });
    const url = `${sys.relayUrl}/v1/status`;
    const get = async (signer: typeof owner, proof?: string) => {
      let nonce: string | undefined;
      for (let i = 0; i < 2; i++) {
        const dpop =
          proof ??
          (await signer.proof({
            method: 'GET',
            url,
            accessToken: token,
            ...(nonce ? { nonce } : {}),
          }));
        const res = await request(url, {
          dispatcher,
          headers: { authorization: `DPoP ${token}`, dpop },
        });
        const body = (await res.body.json().catch(() => ({}))) as { code?: string };
        const next = res.headers['dpop-nonce'];
        if (!proof && res.statusCode === 401 && typeof next === 'string' && !nonce) {
          nonce = next;
          continue;
        }
        return { status: res.statusCode, code: body.code, dpop };
      }
      throw new Error('no answer');
    };
    const ok = await get(owner);
    expect(ok.status).toBe(200);
    // The stolen access token with a thief's own proof: refused.
    const thief = createDpopSigner((await generateKeyPair()).privateJwk);
    expect((await get(thief)).status).toBe(401);
    // The owner's proof replayed: refused as a replay.
    const replay = await get(owner, ok.dpop);
    expect(replay.status).toBe(401);
    expect(replay.code).toBe('ERR_DPOP_REPLAY');
    await client.close();
    await dispatcher.close();
  });
});
