/**
 * Regression: "the relay crashes at start-up when its database connection is reset while it
 * starts" (load seed 629578318: a database cut landed on relay A's restart after its SIGKILL;
 * the restarted relay died with an uncaught `read ECONNRESET`). The clients used during the
 * start (the schema client, the connection holding the migration lock) had no 'error'
 * listener, so a reset socket killed the process; and a start whose database step failed was
 * not tried again. Now the start waits for the database, saying why, and comes up.
 *
 * The relay reaches the machine's PostgreSQL through a TCP proxy
 * (`@fluxel/internal/tcp-proxy`) that resets every connection at a chosen client message of
 * the start, or refuses connections for a while.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@fluxel/audit';
import { proxyInFrontOf, type TcpProxy } from '@fluxel/internal/tcp-proxy';
import { missingDependency } from '@fluxel/internal/testing';
import type { DatabaseWait } from '@fluxel-example/kit/database-start';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterpartConnector } from '../src/connector.ts';
import { createRelay, type Relay } from '../src/relay.ts';
import { POSTGRES_URL, postgresReachable } from './helpers.ts';

const skip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
if (skip) console.warn(`${skip}: start-with-database-reset tests skipped`);

const schemas: string[] = [];
const freshSchema = () => {
  const schema = `relay_start_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  schemas.push(schema);
  return schema;
};

async function sql(text: string) {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query(text)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

describe.skipIf(skip)('relay start while its database connections are reset', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-start-reset-'));
  const connector = counterpartConnector({ baseUrl: 'http://127.0.0.1:9' });
  let proxy: TcpProxy;
  let viaProxy: string;

  beforeAll(async () => {
    ({ proxy, url: viaProxy } = await proxyInFrontOf(POSTGRES_URL, 5432));
  });

  afterAll(async () => {
    await proxy?.close();
    for (const schema of schemas) await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  const start = (schema: string, waits: DatabaseWait[]) =>
    createRelay({
      dataDir,
      connector,
      databaseUrl: viaProxy,
      databaseSchema: schema,
      auditStore: new MemoryStore(),
      rateLimit: false,
      verifyThreads: 0,
      onDatabaseWait: (wait) => waits.push(wait),
    });

  /** Client messages the relay's start sends its database when nothing goes wrong. */
  async function messagesOfAStart(): Promise<number> {
    const before = proxy.stats.chunks;
    const relay = await start(freshSchema(), []);
    const sent = proxy.stats.chunks - before;
    await relay.close();
    return sent;
  }

  it('comes up however early or late in its database start the connections are reset', async () => {
    const total = await messagesOfAStart();
    expect(total).toBeGreaterThan(10);
    // Eight points spread over the start: the schema client, the migration lock's connection,
    // the migrations, the listener for mailbox arrivals.
    const points = [...new Set([1, 2, 3, 5, 8, 13, Math.ceil(total / 2), total - 1])];
    const outcomes: string[] = [];
    for (const at of points) {
      const waits: DatabaseWait[] = [];
      proxy.resetAtChunk(at);
      let relay: Relay | undefined;
      try {
        relay = await start(freshSchema(), waits);
        // It is fully usable: its tables exist and a license can be issued and listed.
        await relay.authority.issue({ tenant: 't', product: 'p', actor: 'test' });
        const { licenses } = await relay.authority.list({ limit: 5 });
        outcomes.push(`${at}: up, ${licenses.length} license`);
      } catch (error) {
        outcomes.push(`${at}: ${(error as Error).message}`);
      } finally {
        await relay?.close();
      }
      // Every reset before the migrations finished made the start wait and try again.
      for (const wait of waits) expect(wait.reason).toBe('unreachable');
    }
    expect(outcomes).toEqual(points.map((at) => `${at}: up, 1 license`));
    expect(proxy.stats.cut).toBeGreaterThanOrEqual(points.length);
  });

  it('waits while the database refuses connections, says why, and starts once it is back', async () => {
    const waits: DatabaseWait[] = [];
    proxy.cut();
    const restore = setTimeout(() => proxy.restore(), 1500);
    let relay: Relay | undefined;
    try {
      relay = await start(freshSchema(), waits);
      expect(waits.length).toBeGreaterThanOrEqual(2);
      expect(waits[0]).toMatchObject({ reason: 'unreachable', attempt: 1 });
      expect(waits.map((w) => w.attempt)).toEqual(waits.map((_, i) => i + 1));
      expect(relay.database.kind).toBe('postgres');
    } finally {
      clearTimeout(restore);
      proxy.restore();
      await relay?.close();
    }
  });

  it('gives up after databaseWaitMs with an error that says what to check', async () => {
    proxy.cut();
    try {
      await expect(
        createRelay({
          dataDir,
          connector,
          databaseUrl: viaProxy,
          databaseSchema: freshSchema(),
          auditStore: new MemoryStore(),
          verifyThreads: 0,
          databaseWaitMs: 600,
        }),
      ).rejects.toThrow(/database was not reachable \(\w+\) for .*check DATABASE_URL/);
    } finally {
      proxy.restore();
    }
  });
});
