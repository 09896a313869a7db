/**
 * Regression tests for two bugs the load and fault suite found when it cut the relays'
 * PostgreSQL connections (`examples/system/load`):
 *  - an idle pooled connection dying emitted 'error' on the pool with no listener, which killed
 *    the relay process;
 *  - a request checked while the database was unreachable was answered 401 (device proof), so
 *    the agent dead-lettered the message; it must be a retryable 503.
 * The relay talks to the machine's PostgreSQL through a TCP proxy the test cuts and restores
 * (`@fluxel/internal/tcp-proxy`).
 */
import { randomUUID } from 'node:crypto';
import { proxyInFrontOf, type TcpProxy } from '@fluxel/internal/tcp-proxy';
import { inCI } from '@fluxel/internal/testing';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, POSTGRES_URL, postgresReachable, startHarness } from './helpers.ts';

const available = await postgresReachable();
if (!available)
  console.warn(`PostgreSQL not reachable at ${POSTGRES_URL}: database-cut tests skipped`);
if (!available && inCI) throw new Error(`PostgreSQL not reachable at ${POSTGRES_URL} (CI=true)`);

describe.skipIf(!available)('relay on PostgreSQL whose connections are cut', () => {
  const schema = `relay_cut_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let proxy: TcpProxy;
  let database: Database;
  let direct: Database;
  let h: Harness;

  beforeAll(async () => {
    let viaProxy: string;
    ({ proxy, url: viaProxy } = await proxyInFrontOf(POSTGRES_URL, 5432));
    database = await openDatabase({ url: viaProxy, schema });
    direct = await openDatabase({ url: POSTGRES_URL });
    // No license cache: every request reads the license row, so the cut is seen at once.
    h = await startHarness({ database, relay: { licenseCacheMs: 0 } });
  });

  afterAll(async () => {
    await h?.close();
    await database?.close();
    await proxy?.close();
    await direct?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await direct?.close();
  });

  it('survives pooled connections dying, answers 503 retryable (not a device-proof 401) while cut, and delivers once after', async () => {
    const { client } = await h.client();
    await client.activate({ body: { licenseKey: await h.issueKey() } });
    await client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
    });
    const body = { operation: 'order.status', payload: { order: 'CUT-1', status: 'shipped' } };
    expect(
      (await client.send({ connection: 'shop-1', idempotencyKey: randomUUID(), body })).status,
    ).toBe('delivered');

    // Idle pooled connections die now; without an 'error' listener on the pool this crashed
    // the process (vitest reports such an uncaught error and fails the run).
    proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 300));

    const idempotencyKey = randomUUID();
    const during = await client.send.safe({ connection: 'shop-1', idempotencyKey, body });
    expect(during.ok).toBe(false);
    if (!during.ok) {
      expect(during.error.code).not.toBe('ERR_RELAY_DEVICE_PROOF');
      expect(during.error.status).toBe(503);
      expect(during.error.retryable).toBe(true);
    }

    proxy.restore();
    const after = await client.send({ connection: 'shop-1', idempotencyKey, body });
    expect(after.status).toBe('delivered');
    expect(h.counterpart.effects.filter((e) => e.idempotencyKey === idempotencyKey)).toHaveLength(
      1,
    );
  });
});
