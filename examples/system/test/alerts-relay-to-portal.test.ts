/**
 * Issue 19, last mile 5 in the running system: the relay's critical second-activation alert
 * reaches the portal's alerts inbox. The launcher gives relay and portal one generated secret
 * (`RELAY_ALERTS_SECRET`) and the relay the portal's webhook URL (`RELAY_ALERTS_URL`); the
 * portal refuses an alert signed with anything else.
 */
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortalClient } from '../src/portal-client.ts';
import { signUpFirstAdmin } from '../src/seed.ts';
import { activatedAgent, type Booted, boot, waitUntil } from './helpers.ts';

interface AlertRow {
  source: string;
  kind: string;
  severity: string;
  tenantId: string;
  subject: { kind: string; product?: string; licenseRef?: string };
}

describe('relay alerts in the portal’s inbox', () => {
  let sys: Booted;
  let admin: PortalClient;
  const alerts = async () => {
    const res = await admin.get<{ alerts: AlertRow[] }>('/api/alerts?state=all');
    expect(res.status).toBe(200);
    return res.body.alerts;
  };

  beforeAll(async () => {
    sys = await boot({ portal: true });
    admin = (await signUpFirstAdmin(sys)).client;
  });
  afterAll(async () => {
    await admin?.close();
    await sys?.close();
  });

  it('a second activation of one license raises the relay’s critical alert, listed by the portal', async () => {
    expect(await alerts()).toEqual([]);
    const first = await activatedAgent(sys, 'first', { credentials: false });
    const second = await sys.activateAgent(join(sys.dataDir, 'agents', 'second'), first.licenseKey);
    expect(second.code).toBe(1);

    const found = await waitUntil('the relay alert in the portal', async () =>
      (await alerts()).find((a) => a.kind === 'second-activation'),
    );
    expect(found).toMatchObject({
      source: 'relay',
      severity: 'critical',
      tenantId: 'demo-merchant',
      subject: { kind: 'license', product: 'wawi-sync', licenseRef: first.licenseId.slice(-6) },
    });
    const summary = await admin.get<{ critical: number }>('/api/alerts/summary');
    expect(summary.body.critical).toBe(1);
  });

  it('an alert signed with another secret (or not at all) is refused and not listed', async () => {
    const portalUrl = sys.portalUrl as string;
    const dispatcher = new Agent({ connect: { ca: sys.ca } });
    const body = JSON.stringify({
      id: 'forged-1',
      action: 'alert.second-activation',
      tenant: 'demo-merchant',
      time: new Date().toISOString(),
      data: { severity: 'critical' },
    });
    const post = async (secret: string | undefined) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const res = await request(`${portalUrl}/internal/relay/v1/alerts`, {
        method: 'POST',
        dispatcher,
        body,
        headers: {
          'content-type': 'application/json',
          'x-fluxel-timestamp': ts,
          ...(secret
            ? {
                'x-fluxel-signature': `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`,
              }
            : {}),
        },
      });
      await res.body.dump();
      return res.statusCode;
    };
    const before = await alerts();
    expect(await post('a-guessed-secret-of-enough-length')).toBe(401);
    expect(await post(undefined)).toBe(401);
    expect(await post(`${sys.secrets.alertsSecret}x`)).toBe(401);
    expect(await alerts()).toEqual(before);
    await dispatcher.close();
  });
});
