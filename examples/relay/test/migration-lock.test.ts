/**
 * Two relay instances starting at the same moment over one PostgreSQL (`DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/test, a fresh schema per round, dropped afterwards): the
 * migrations run one instance at a time under a PostgreSQL advisory lock, both instances come
 * up and the schema is complete. Without the lock, concurrent `CREATE TABLE IF NOT EXISTS`
 * can fail on the catalog's unique index.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@fluxel/audit';
import { keyFileKek } from '@fluxel/crypto/node';
import { missingDependency } from '@fluxel/internal/testing';
import { LICENSE_MIGRATIONS } from '@fluxel/license/sql';
import { openDatabase } from '@fluxel-example/kit/database';
import { ensureDevTls } from '@fluxel-example/kit/tls';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { counterpartConnector } from '../src/connector.ts';
import { createRelay, type Relay } from '../src/relay.ts';
import { loadOrCreateSecrets } from '../src/secrets.ts';
import { POSTGRES_URL, postgresReachable } from './helpers.ts';

const url = POSTGRES_URL;
const skip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${url}`, 'start PostgreSQL or set DATABASE_URL');
if (skip) console.warn(`${skip}: migration lock tests skipped`);

const schemas: string[] = [];
const freshSchema = () => {
  const schema = `relay_mig_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  schemas.push(schema);
  return schema;
};

async function sql(text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

describe.skipIf(skip)('migration lock over one PostgreSQL', () => {
  afterAll(async () => {
    for (const schema of schemas) await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it('exclusive() holds one lock per schema: a second caller waits for the first', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([
      openDatabase({ url, schema }),
      openDatabase({ url, schema }),
    ]);
    try {
      const spans: { who: string; start: number; end: number }[] = [];
      const hold = (who: string) => async () => {
        const start = performance.now();
        await new Promise((r) => setTimeout(r, 300));
        spans.push({ who, start, end: performance.now() });
      };
      const first = a.exclusive?.(hold('a'));
      await new Promise((r) => setTimeout(r, 50));
      await Promise.all([first, b.exclusive?.(hold('b'))]);
      expect(spans.map((s) => s.who)).toEqual(['a', 'b']);
      expect((spans[1]?.start ?? 0) >= (spans[0]?.end ?? Infinity)).toBe(true);
      // Released afterwards: another session gets it at once.
      const free = await sql(
        `SELECT pg_try_advisory_lock(k) AS ok, pg_advisory_unlock(k) FROM (SELECT hashtextextended('fluxel-relay-migrations:' || $1, 0) AS k) x`,
        [schema],
      );
      expect(free[0]?.ok).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two instances started at the same moment on a fresh schema both come up, schema complete', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-relay-mig-'));
    // The shared state every instance mounts (secrets, KEK, TLS), made once beforehand.
    ensureDevTls(join(dataDir, 'tls'));
    await loadOrCreateSecrets(dataDir);
    await keyFileKek(join(dataDir, 'kek.key'), { create: true, id: 'dev-file-kek' });
    const connector = counterpartConnector({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 });
    try {
      for (let round = 0; round < 3; round++) {
        const schema = freshSchema();
        const start = () =>
          createRelay({
            dataDir,
            connector,
            databaseUrl: url,
            databaseSchema: schema,
            auditStore: new MemoryStore(),
            rateLimit: false,
          });
        const results = await Promise.allSettled([start(), start()]);
        const relays = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        try {
          expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual([
            'ok',
            'ok',
          ]);
          const [a, b] = relays as [Relay, Relay];
          const tables = await sql(
            'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
            [schema],
          );
          expect(tables.map((t) => t.table_name)).toEqual([
            'fluxel_licenses',
            'fluxel_licenses_migrations',
            'relay_credentials',
            'relay_idempotency',
            'relay_mailbox',
            'relay_replay_stores',
            'relay_tenant_keys',
            'relay_webhook_seen',
          ]);
          const applied = await sql(`SELECT id FROM ${schema}.fluxel_licenses_migrations`);
          // Every migration the license store ships, each applied once.
          expect(applied.map((r) => Number(r.id)).sort()).toEqual(
            LICENSE_MIGRATIONS.map((m) => m.id),
          );
          const columns = await sql(
            "SELECT column_name, column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'relay_credentials' AND column_name = 'set_by'",
            [schema],
          );
          expect(String(columns[0]?.column_default)).toContain("'device'");
          // Both serve the same data.
          const { license } = await a.authority.issue({ tenant: 'm', product: 'wawi-sync' });
          expect((await b.authority.get(license.id)).tenant).toBe('m');
        } finally {
          for (const relay of relays) await relay.close();
        }
      }
    } finally {
      await connector.close();
    }
  });
});
