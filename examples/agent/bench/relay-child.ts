/**
 * The relay and the counterpart for the agent benchmark, in their own process so their CPU is
 * measured apart from the agent's. Prints one JSON line with the URLs and a license key; on
 * "stop" from stdin prints its CPU time and exits. The relay runs as in production on
 * PostgreSQL (`DATABASE_URL`, default the local server; an own schema, dropped at the end),
 * else — no server reachable — on PGlite in memory, whose work then counts as the relay's CPU.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCounterpart, generateWebhookSecret } from '@fluxel-example/counterpart';
import {
  counterpartConnector,
  createRelay,
  type Database,
  ensureDevTls,
  openDatabase,
} from '@fluxel-example/relay';

const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-agent-bench-relay-'));
const tls = ensureDevTls(join(dataDir, 'tls'));
const webhookSecret = generateWebhookSecret();
const apiKey = 'cp-bench-key-7f3a';
const counterpart = await createCounterpart({
  apiKey,
  webhook: { url: 'https://127.0.0.1:9/unset', secret: webhookSecret, ca: tls.ca },
});
const connector = counterpartConnector({ baseUrl: counterpart.url, timeoutMs: 5000 });
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `agent_bench_${process.pid}_${Date.now().toString(36)}`;
let database: Database | undefined;
try {
  database = await openDatabase({ url: databaseUrl, schema });
  await database.query('SELECT 1', []);
} catch {
  await database?.close().catch(() => {});
  database = undefined;
}
const relay = await createRelay({
  dataDir,
  connector,
  rateLimit: false,
  ...(database ? { database, databaseUrl, databaseSchema: schema } : { inMemoryDatabase: true }),
});
const keys = await Promise.all(
  [0, 1].map(
    async () =>
      (
        await relay.authority.issue({
          tenant: 'bench',
          product: 'wawi-sync',
          entitlements: ['orders'],
        })
      ).key,
  ),
);
const cpuStart = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ url: relay.url, caPath: tls.caPath, keys, apiKey, webhookSecret, database: database ? 'postgres' : 'pglite' })}\n`,
);

process.stdin.setEncoding('utf8');
process.stdin.on('data', async (text: string) => {
  if (text.includes('mark')) {
    const cpu = process.cpuUsage(cpuStart);
    process.stdout.write(
      `${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, effects: counterpart.effects.length })}\n`,
    );
  }
  if (text.includes('stop')) {
    await relay.close();
    if (database) {
      await database.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, []);
      await database.close();
    }
    await connector.close();
    await counterpart.close();
    process.exit(0);
  }
});
