import { join } from 'node:path';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, spkiPin } from '@fluxel/relay-client/node';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activatedAgent, type Booted, boot, putCredentials } from './helpers.ts';

describe('promise 3: activation before credentials', () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  });
  afterAll(async () => sys?.close());

  it('credentials are refused before activation — by the agent, over a device request, and through the portal API', async () => {
    // An agent folder that was never activated: the CLI refuses (exit 3, not activated).
    const fresh = await putCredentials(sys, join(sys.dataDir, 'agents', 'never-activated'));
    expect(fresh.code).toBe(3);

    // A device that skipped activation: the relay has no token for it; a request with a proof but
    // no valid access token is refused.
    const ca = sys.ca;
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    const client = createRelayClient({
      baseUrl: sys.relayUrl,
      ca,
      pins: [spkiPin(ca)],
      proxy: false,
      device,
      retry: { attempts: 1 },
    });
    await expect(
      client.putCredentials({
        connection: 'shop-1',
        body: { kind: 'api-key', fields: { apiKey: 'siphon-attempt-1' } },
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
    await client.close();

    // The portal route (as the portal calls it) for an issued but not activated license: 409.
    const admin = sys.admin();
    const { license } = await admin.create({ tenant: 'demo-merchant', product: 'wawi-sync' });
    const dispatcher = new Agent({ connect: { ca } });
    const put = (licenseId: string) =>
      request(
        `${sys.relayUrl}/internal/portal/v1/licenses/${licenseId}/connections/shop-1/credentials`,
        {
          method: 'PUT',
          dispatcher,
          headers: {
            authorization: `Bearer ${sys.secrets.portalToken}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            tenant: 'demo-merchant',
            kind: 'api-key',
            fields: { apiKey: 'portal-write-1' },
            actor: { id: 'user-1', name: 'Key User' },
          }),
        },
      );
    const before = await put(license.id);
    expect(before.statusCode).toBe(409);
    expect(((await before.body.json()) as { type: string }).type).toMatch(/license-not-active/);

    // After activation both ways work.
    const active = await activatedAgent(sys, 'active', { credentials: false });
    expect((await putCredentials(sys, active.dir)).code).toBe(0);
    const after = await put(active.licenseId);
    expect(after.statusCode).toBe(204);
    await after.body.dump();
    await dispatcher.close();
    // Nothing was stored for the refused attempts: the relay's storage never saw the values.
    const storage = (await sys.relayStorage()).toString('latin1');
    expect(storage).not.toContain('siphon-attempt-1');
  });
});
