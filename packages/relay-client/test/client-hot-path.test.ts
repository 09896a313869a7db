/**
 * The client's per-call shortcuts (issue 20, performance) accept and refuse exactly what the
 * contract does: the idempotency-key check without zod, the cached token expiry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createRelayClientCore,
  IdempotencyKey,
  type StoredTokens,
  type Transport,
} from '../src/index.ts';

const delivered = new TextEncoder().encode(
  JSON.stringify({
    status: 'delivered',
    upstreamStatus: 200,
    deliveredAt: new Date().toISOString(),
    replayed: false,
  }),
);

function setup(tokens: StoredTokens) {
  const sent: string[] = [];
  const transport: Transport = async (request) => {
    sent.push(request.headers.authorization ?? '');
    if (request.url.endsWith('/v1/token')) {
      const next = {
        ...tokens,
        accessToken: 'refreshed',
        accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
        jwks: { keys: [] },
      };
      return { status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(next)) };
    }
    return { status: 200, headers: {}, body: delivered };
  };
  let now = Date.now();
  const client = createRelayClientCore({
    baseUrl: 'https://relay.example',
    transport,
    device: { proof: async () => 'proof' },
    tokens: { load: () => tokens, save: () => {} },
    now: () => now,
  });
  return { client, sent, advance: (ms: number) => (now += ms) };
}

const tokens: StoredTokens = {
  licenseId: 'lic-1',
  accessToken: 'first',
  accessTokenExpiresAt: new Date(Date.now() + 120_000).toISOString(),
  licenseToken: 'l',
  licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
};

describe('client hot path', () => {
  it('accepts an idempotency key exactly when the contract (z.uuid) does', async () => {
    const { client } = setup(tokens);
    const key = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.string(),
      fc.constantFrom(
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        '01890a5d-ac96-774b-bcce-b302099a8057',
        '01890a5d-ac96-974b-bcce-b302099a8057',
        '01890a5d-ac96-774b-ccce-b302099a8057',
        ' 01890a5d-ac96-774b-bcce-b302099a8057',
      ),
      fc.anything(),
    );
    await fc.assert(
      fc.asyncProperty(key, async (idempotencyKey) => {
        const result = await client.send.safe({
          connection: 'shop-1',
          idempotencyKey: idempotencyKey as string,
          body: { operation: 'order.status', payload: 1 },
        });
        expect(result.ok).toBe(IdempotencyKey.safeParse(idempotencyKey).success);
      }),
      { numRuns: 300 },
    );
  });

  it('refreshes the access token once it is within 30 s of expiry, with the expiry cached', async () => {
    const { client, sent, advance } = setup(tokens);
    const send = () =>
      client.send({
        connection: 'shop-1',
        idempotencyKey: crypto.randomUUID(),
        body: { operation: 'order.status', payload: 1 },
      });
    await send();
    advance(89_000); // 31 s left: still fresh
    await send();
    advance(2_000); // 29 s left: refreshed first
    await send();
    expect(sent).toEqual(['DPoP first', 'DPoP first', '', 'DPoP refreshed']);
  });
});
