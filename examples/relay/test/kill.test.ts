/**
 * Two relay instances over one PostgreSQL, one of them in a child process that is killed
 * with SIGKILL mid-run (no graceful close: its connections reset, its pending idempotency
 * records stay behind). The agent side is the real `@fluxel/relay-client` durable outbox,
 * delivering round-robin through both instances; it retries what failed, the surviving
 * instance takes over the dead one's pending records after `pendingLeaseMs`, and every
 * message reaches the counterpart exactly once, none lost.
 *
 * The kill is placed deterministically: the child holds the sends after its first few
 * *before* forwarding them (`FIXTURE_HOLD_AFTER`), and is killed while it holds some. A kill
 * between the third party's answer and the relay's record update cannot be told apart from
 * one before forwarding, so such a send would be forwarded again after the lease — with the
 * same `Idempotency-Key` header, for third parties that deduplicate (see the README).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import {
  createRelayClient,
  MemoryOutboxStore,
  type NodeRelayClient,
  Outbox,
  type StoredTokens,
  spkiPin,
} from '@fluxel/relay-client/node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, POSTGRES_URL, postgresReachable, startHarness } from './helpers.ts';

const url = POSTGRES_URL;
const skip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${url}`, 'start PostgreSQL or set DATABASE_URL');
if (skip) console.warn(`${skip}: SIGKILL instance test skipped`);

const MESSAGES = 40;
const HOLD_AFTER = 6;
const LEASE_MS = 1500;

describe.skipIf(skip)('a relay instance killed with SIGKILL mid-run', () => {
  const schema = `relay_kill_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let a: Harness;
  let child: ChildProcess;
  const held = new Set<string>();
  let childUrl = '';

  beforeAll(async () => {
    a = await startHarness({
      relay: { databaseUrl: url, databaseSchema: schema, pendingLeaseMs: LEASE_MS },
    });
    child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'relay-instance.ts')],
      {
        cwd: join(import.meta.dirname, '..'),
        env: {
          ...process.env,
          RELAY_DATA_DIR: a.dataDir,
          DATABASE_URL: url,
          DATABASE_SCHEMA: schema,
          COUNTERPART_URL: a.counterpart.url,
          RELAY_PENDING_LEASE_MS: String(LEASE_MS),
          FIXTURE_HOLD_AFTER: String(HOLD_AFTER),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    childUrl = await new Promise<string>((done, fail) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        if (line.startsWith('READY ')) done((JSON.parse(line.slice(6)) as { url: string }).url);
        else if (line.startsWith('HELD ')) held.add(line.slice(5));
      });
      child.on('exit', (code) =>
        fail(new Error(`relay child exited (${code}) before it was ready`)),
      );
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await a?.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('the outbox retries to the surviving instance; every message arrives exactly once', async () => {
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    let saved: StoredTokens | undefined;
    const tokens = {
      load: () => saved,
      save: (t: StoredTokens) => {
        saved = t;
      },
    };
    const client = (baseUrl: string) =>
      createRelayClient({
        baseUrl,
        ca: a.relay.tls.ca,
        pins: [spkiPin(a.relay.tls.ca)],
        proxy: false,
        device,
        tokens,
        retry: { attempts: 1 },
        timeouts: { connectMs: 1000 },
      });
    const clients: NodeRelayClient[] = [client(a.relay.url), client(childUrl)];
    const [clientA, clientB] = clients as [NodeRelayClient, NodeRelayClient];
    await clientA.activate({ body: { licenseKey: await a.issueKey() } });
    await clientB.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });

    const outbox = new Outbox({
      store: new MemoryOutboxStore(),
      concurrency: 4,
      leaseMs: 10_000,
      schedule: [100, 200, 400, 800],
    });
    const attemptsAt = { a: 0, b: 0, failed: 0 };
    let turn = 0;
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const message = await outbox.enqueue({
        connection: 'shop-1',
        operation: 'order.status',
        payload: { order: `K-${i}`, status: 'shipped' },
      });
      ids.push(message.id);
    }
    outbox.start(async (message, { signal }) => {
      const which = turn++ % 2;
      if (which === 0) attemptsAt.a++;
      else attemptsAt.b++;
      try {
        await (clients[which] as NodeRelayClient).send(
          {
            connection: message.connection,
            idempotencyKey: message.id,
            body: { operation: message.operation, payload: message.payload as never },
          },
          { signal },
        );
      } catch (error) {
        attemptsAt.failed++;
        throw error;
      }
    });

    // Kill the child while it holds sends in flight (not yet forwarded), after the sends it
    // did forward have been recorded.
    const deadline = Date.now() + READY_BOUND_MS;
    while (held.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(held.size).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 200));
    const heldAtKill = new Set(held);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(child.signalCode).toBe('SIGKILL');

    // The held sends are pending rows of the dead instance: retried at A, refused as "in
    // progress" until the lease has passed, then taken over and forwarded once.
    const until = Date.now() + READY_BOUND_MS;
    while ((await outbox.stats()).depth > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    const stats = await outbox.stats();
    await outbox.close();
    for (const c of clients) await c.close();

    expect(stats).toMatchObject({ depth: 0, dead: 0 });
    const effects = a.counterpart.effects;
    for (const id of ids) expect(effects.filter((e) => e.idempotencyKey === id)).toHaveLength(1);
    expect(effects).toHaveLength(MESSAGES);
    // It really was spread over both, and the kill really hit sends in flight at the child.
    expect(attemptsAt.b).toBeGreaterThan(HOLD_AFTER);
    expect(attemptsAt.failed).toBeGreaterThanOrEqual(heldAtKill.size);
    for (const id of heldAtKill) expect(ids).toContain(id);
    const delivered = a.audited('relay.send').filter((e) => e.outcome === 'success');
    for (const id of heldAtKill)
      expect(delivered.filter((e) => e.data?.idempotencyKey === id)).toHaveLength(1);
  });
});
