/**
 * Behind the edge proxy every connection comes from the proxy (deployment gap 4): the portal
 * believes `X-Forwarded-For` only from `trustedProxies`, so a session records the person's
 * address there (shown on the account's session list, used by the per-IP throttles and the
 * audit log), and nowhere else can a client choose its own address by the header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortal } from '../src/server/app.ts';
import { type PortalHarness, startPortalHarness, TestClient } from './helpers.ts';

/** A browser behind the proxy: every request carries the proxy's X-Forwarded-For. */
class ForwardedClient extends TestClient {
  override call: TestClient['call'] = (method, path, body, extra = {}) =>
    super.call(method, path, body, {
      ...extra,
      headers: { 'x-forwarded-for': '203.0.113.7', ...extra.headers },
    });
}

async function sessionIps(h: PortalHarness, email: string): Promise<string[]> {
  const { rows } = await h.portal.db.query(
    'SELECT s.ip FROM portal_sessions s JOIN portal_users u ON u.id = s.user_id WHERE u.email = $1',
    [email],
  );
  return rows.map((r) => String(r.ip));
}

describe('trusted proxies', () => {
  let behindProxy: PortalHarness;
  let direct: PortalHarness;
  beforeAll(async () => {
    behindProxy = await startPortalHarness({ trustedProxies: ['127.0.0.1'] });
    direct = await startPortalHarness();
    for (const h of [behindProxy, direct]) {
      await h.portal.createTenant('proxied', 'Proxied GmbH', 'customer');
      const forwarded = h.client();
      // Every client of this harness goes through the "proxy".
      (h as { client: () => TestClient }).client = () =>
        new ForwardedClient(forwarded.base, forwarded.dispatcher);
    }
  });
  afterAll(async () => {
    await behindProxy?.close();
    await direct?.close();
  });

  it('from a trusted proxy, the session records the forwarded client address', async () => {
    await behindProxy.signUp('proxied@example.test', 'key-user', 'proxied');
    const ips = await sessionIps(behindProxy, 'proxied@example.test');
    expect(ips.length).toBeGreaterThan(0);
    expect(new Set(ips)).toEqual(new Set(['203.0.113.7']));
  });

  it('without trusted proxies the header is ignored: the connection address counts', async () => {
    await direct.signUp('direct@example.test', 'key-user', 'proxied');
    const ips = await sessionIps(direct, 'direct@example.test');
    expect(ips.length).toBeGreaterThan(0);
    expect(new Set(ips)).toEqual(new Set(['127.0.0.1']));
  });

  it('refuses an entry that is not an address or a range, before anything starts', async () => {
    await expect(
      createPortal({ trustedProxies: ['10.0.0.0/8', 'proxy.local'] } as never),
    ).rejects.toThrow('trustedProxies: "proxy.local" is not an IP address, a CIDR range');
  });
});
