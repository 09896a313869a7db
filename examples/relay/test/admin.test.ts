/**
 * The admin gRPC API through a real @grpc/grpc-js client over TLS (the relay's dev CA):
 * Create → the key activates over REST; Lock → the device's next request is refused (403);
 * calls without the bearer token, or with a wrong one, are refused UNAUTHENTICATED and audited.
 */

import type { LicenseAdminClient } from '@fluxel/license/admin';
import { adminClient } from '@fluxel-example/kit/admin-service';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerMatches } from '../src/admin.ts';
import { type Harness, startHarness } from './helpers.ts';

const TOKEN = 'adm_4f9c2e7a1b8d6f3e0c5a9b2d7e1f4a8c';

describe('admin gRPC (LicenseAdmin)', () => {
  let h: Harness;
  let admin: LicenseAdminClient;
  beforeAll(async () => {
    h = await startHarness({ relay: { admin: { token: TOKEN } } });
    admin = adminClient({
      address: `127.0.0.1:${h.relay.adminPort}`,
      credentials: grpc.credentials.createSsl(Buffer.from(h.relay.tls.ca)),
      token: TOKEN,
      // The dev certificate names 127.0.0.1 and localhost; SNI takes a host name, not an IP.
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });
  });

  afterAll(async () => {
    admin?.close();
    await h?.close();
  });

  it('Create → the key activates over REST; Lock → the next REST request is 403; both audited', async () => {
    const created = await admin.create({
      tenant: 'merchant-grpc',
      product: 'wawi-sync',
      entitlements: ['orders'],
    });
    expect(created.license.status).toBe('issued');
    expect(created.license_key).toMatch(/\S{20,}/);

    const { client } = await h.client();
    const tokens = await client.activate({ body: { licenseKey: created.license_key } });
    expect(tokens.licenseId).toBe(created.license.id);
    expect((await client.status()).license.status).toBe('active');

    const got = await admin.get({ id: created.license.id });
    expect(got.status).toBe('active');
    expect(got.device_jkt).not.toBe('');

    const locked = await admin.lock({
      id: created.license.id,
      reason: 'unpaid invoice',
    });
    expect(locked.status).toBe('locked');
    const refused = await client.status.safe();
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe('ERR_RELAY_UNAUTHORIZED');
      expect((refused.error as { status?: number }).status).toBe(403);
    }

    const calls = h.audited('admin.license.create');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.outcome).toBe('success');
    expect(calls[0]?.actor).toMatchObject({ type: 'service', id: 'admin-token', ip: '127.0.0.1' });
    expect(h.audited('admin.license.lock')[0]).toMatchObject({
      outcome: 'success',
      target: { type: 'license', id: created.license.id },
    });
    // The audit log never holds the license key or the admin token.
    const dump = JSON.stringify(h.auditStore.records);
    expect(dump).not.toContain(created.license_key);
    expect(dump).not.toContain(TOKEN);

    const missing = await admin.get({ id: 'nope' }).catch((e: grpc.ServiceError) => e);
    expect((missing as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });

  it('refuses calls without or with a wrong bearer token, and audits them', async () => {
    const before = h.audited('admin.license.create').length;
    for (const token of [null, 'adm_wrong_token_of_the_same_length_00', `${TOKEN}x`]) {
      const error = await admin.create({ tenant: 't', product: 'p' }, { token }).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    }
    const denied = h.audited('admin.license.create').slice(before);
    expect(denied).toHaveLength(3);
    for (const event of denied) {
      expect(event.outcome).toBe('denied');
      expect(event.actor.id).toBe('anonymous');
    }
    expect((await h.relay.authority.list({ tenant: 't' })).licenses).toHaveLength(0);
  });

  it('bearerMatches accepts exactly "Bearer <token>"', () => {
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN}`)).toBe(true);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, `bearer ${TOKEN}`)).toBe(false);
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN.slice(1)}`)).toBe(false);
    expect(bearerMatches(TOKEN, undefined)).toBe(false);
    expect(bearerMatches(TOKEN, 'Bearer ')).toBe(false);
  });
});
