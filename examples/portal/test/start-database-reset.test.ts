/**
 * The portal's start while its PostgreSQL connections are reset (the relay's regression "crashes
 * at start-up when its database connection is reset while it starts" holds for the portal
 * too): its migration client had no 'error' listener, so a reset socket killed the process,
 * and a failed database step was not tried again. Now the start waits for the database and
 * comes up. The portal reaches PostgreSQL through a TCP proxy (`@fluxel/internal/tcp-proxy`)
 * that resets every connection at a chosen client message of the start.
 */
import { proxyInFrontOf, type TcpProxy } from '@fluxel/internal/tcp-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortalHarness } from './helpers.ts';
import { dropSchema, POSTGRES_URL, postgresUp, uniqueSchema } from './postgres-schema.ts';

const up = await postgresUp();
const schemas: string[] = [];

describe.skipIf(!up)('portal start while its database connections are reset', () => {
  let proxy: TcpProxy;
  let viaProxy: string;

  beforeAll(async () => {
    ({ proxy, url: viaProxy } = await proxyInFrontOf(POSTGRES_URL, 5432));
  });

  afterAll(async () => {
    await proxy?.close();
    for (const schema of schemas) await dropSchema(schema);
  });

  /**
   * Starts a portal on a fresh schema through the proxy and signs a user up on it; 'up' and
   * the client messages its start sent.
   */
  async function startAndUse(): Promise<{ outcome: string; startMessages: number }> {
    const schema = uniqueSchema('portal_start');
    schemas.push(schema);
    const before = proxy.stats.chunks;
    const h = await startPortalHarness({
      databaseUrl: viaProxy,
      databaseSchema: schema,
      inMemoryDatabase: false,
    });
    const startMessages = proxy.stats.chunks - before;
    try {
      await h.portal.createTenant('start', 'Start GmbH', 'customer');
      await h.signUp('start@example.test', 'key-user', 'start');
      return { outcome: 'up', startMessages };
    } finally {
      await h.close();
    }
  }

  it('comes up however early or late in its migrations the connections are reset', async () => {
    const first = await startAndUse();
    expect(first.outcome).toBe('up');
    const total = first.startMessages;
    expect(total).toBeGreaterThan(20);
    const points = [...new Set([1, 3, 12, Math.ceil(total / 2), total - 1])];
    const outcomes: string[] = [];
    for (const at of points) {
      proxy.resetAtChunk(at);
      const { outcome } = await startAndUse().catch((error: Error) => ({ outcome: error.message }));
      outcomes.push(`${at}: ${outcome}`);
    }
    expect(outcomes).toEqual(points.map((at) => `${at}: up`));
    expect(proxy.stats.cut).toBeGreaterThanOrEqual(points.length);
  });
});
