/**
 * Found by the load and fault suite (issue 21, "nothing dead-lettered": 17 records refused
 * ERR_RELAY_IDEMPOTENCY_CONFLICT on agents hit by no fault, each of them delivered). A send
 * that learned its third party was unavailable released the key by deleting whatever pending
 * record it had — also when its attempt had outlived the lease (slow third party, a database
 * cut holding its statements) and another instance had taken the record over and was
 * forwarding it. That retry's completion then found no record and stored one without a
 * fingerprint, so every later retry of the key was answered 409 "key reused with another
 * request" and dead-lettered by the agent, although it carried the same body. Now an attempt
 * releases only the record it claimed (its claim time): a record taken over stays pending
 * for the retry, which records its outcome on it; the agent's next retry is a replay.
 *
 * The same suite, run again with that fix, still dead-lettered 2 records: a delivery whose
 * audit write was slow, taken over past the lease by a retry whose own forward was not
 * executed (third party down) and which released its own record — the delivery was then
 * recorded on no record, again without a fingerprint. Now a completion carries the send's
 * fingerprint, connection and operation, and stores them when it finds the record gone.
 *
 * Two forwarders (two relay instances) on one database, on PGlite and, when it answers, on
 * PostgreSQL; the third party is scripted per instance so the order of events is fixed.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEventInput } from '@fluxel/audit';
import { Keyring } from '@fluxel/crypto';
import { keyFileKek } from '@fluxel/crypto/node';
import { missingDependency } from '@fluxel/internal/testing';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, ConnectorResult } from '../src/connector.ts';
import { migrateRelay } from '../src/db.ts';
import { Forwarder, type ForwardRequest } from '../src/forward.ts';
import { SendLedger } from '../src/send-ledger.ts';
import { Vault } from '../src/vault.ts';
import { POSTGRES_URL, postgresReachable } from './helpers.ts';

const LEASE_MS = 20_000;
const T0 = 1_700_000_000_000;
const owner = { tenant: 'tenant-1', licenseId: 'lic-release' };

const backends = [{ name: 'PGlite', postgres: false }];
if (await postgresReachable()) backends.push({ name: 'PostgreSQL', postgres: true });
else
  console.warn(
    `${missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL')}: release-after-takeover tests on PostgreSQL not registered`,
  );

/** A third party whose answers the test hands out one call at a time. */
class ScriptedThirdParty implements Connector {
  readonly name = 'counterpart';
  readonly calls: string[] = [];
  #answers: ((result: ConnectorResult) => void)[] = [];

  send({ idempotencyKey }: { readonly idempotencyKey: string }): Promise<ConnectorResult> {
    this.calls.push(idempotencyKey);
    return new Promise((resolve) => this.#answers.push(resolve));
  }

  /** Answers the oldest waiting call. */
  answer(result: ConnectorResult): void {
    const next = this.#answers.shift();
    if (!next) throw new Error('no call is waiting for an answer');
    next(result);
  }
}

describe.each(backends)('release after a take-over on $name (issue 21)', ({ postgres }) => {
  const schema = `relay_release_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const dir = mkdtempSync(join(tmpdir(), 'relay-release-'));
  let database: Database | undefined;
  let clock = T0;
  const now = () => clock;
  const bodyHashKey = randomBytes(32);
  const audit: AuditEventInput[] = [];

  /**
   * One relay instance: its own forwarder, ledger and third-party connection; the shared
   * database. `held` holds its audit writes of deliveries (a slow audit store) until let go.
   */
  async function instance(db: Database, vault: Vault, held?: Promise<void>) {
    const connector = new ScriptedThirdParty();
    let holding = 0;
    const forwarder = new Forwarder({
      ledger: new SendLedger(db, now, { pendingLeaseMs: LEASE_MS }),
      vault,
      connector,
      bodyHashKey,
      clock: now,
      record: async (event) => {
        if (held && event.outcome === 'success') {
          holding++;
          await held;
        }
        audit.push(event);
      },
    });
    return { forwarder, connector, holding: () => holding };
  }

  beforeAll(async () => {
    database = postgres ? await openDatabase({ url: POSTGRES_URL, schema }) : await openDatabase();
    await migrateRelay(database);
  });

  afterAll(async () => {
    if (postgres) await database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('regression: a slow attempt released a key another instance had taken over, so every retry of it was refused as a conflict', async () => {
    const db = database as Database;
    clock = T0;
    const keyring = new Keyring([
      await keyFileKek(join(dir, 'kek.key'), { create: true, id: 'test-kek' }),
    ]);
    const vault = new Vault(db, keyring, now);
    await vault.put(owner, 'shop-1', { kind: 'api-key', fields: { apiKey: 'key-1' } });
    const a = await instance(db, vault);
    const b = await instance(db, vault);
    const key = randomUUID();
    const body = Buffer.from(
      JSON.stringify({ operation: 'order.status', payload: { order: 'L0-7', status: 'shipped' } }),
    );
    const send = (forwarder: Forwarder) => {
      const request: ForwardRequest = {
        owner,
        connection: 'shop-1',
        operation: 'order.status',
        payload: { order: 'L0-7', status: 'shipped' },
        idempotencyKey: key,
        body,
        actor: { type: 'device', id: 'agent-0' },
        requestId: randomUUID(),
      };
      return forwarder.send(request);
    };
    const record = async () =>
      (
        await db.query('SELECT state, body_hash FROM relay_idempotency WHERE key = $1', [key])
      ).rows.map((r) => ({ state: r.state, fingerprinted: String(r.body_hash).length > 0 }));

    // Instance A claims the key and calls the third party, which takes its time.
    const first = send(a.forwarder);
    await expect.poll(() => a.connector.calls.length).toBe(1);
    // Past A's lease the agent's retry reaches instance B: it takes the record over and forwards.
    clock = T0 + LEASE_MS + 1;
    const retry = send(b.forwarder);
    await expect.poll(() => b.connector.calls.length).toBe(1);
    // A's call ends: not executed (the third party was down then). A frees only what it claimed.
    a.connector.answer({ kind: 'unavailable', upstreamStatus: 503 });
    expect((await first).kind).toBe('unavailable');
    // Before the fix: [] — A deleted B's record in flight.
    expect(await record()).toEqual([{ state: 'pending', fingerprinted: true }]);

    // B's forward went through; the agent had given up on it meanwhile and sends again.
    b.connector.answer({ kind: 'delivered', upstreamStatus: 200 });
    expect(await retry).toMatchObject({ kind: 'delivered', replayed: false });
    expect(await record()).toEqual([{ state: 'delivered', fingerprinted: true }]);
    clock += 5_000;
    // Before the fix: { kind: 'conflict' } (a record without fingerprint), dead-lettered.
    expect(await send(a.forwarder)).toMatchObject({ kind: 'delivered', replayed: true });
    expect(
      audit.filter((e) => e.action === 'relay.send' && e.outcome === 'denied').map((e) => e.reason),
    ).toEqual([]);
  });

  it('regression: a delivery recorded after a retry had taken its record over and released it was stored without a fingerprint, so every retry of it was refused as a conflict', async () => {
    const db = database as Database;
    clock = T0;
    const keyring = new Keyring([
      await keyFileKek(join(dir, 'kek.key'), { create: true, id: 'test-kek' }),
    ]);
    const vault = new Vault(db, keyring, now);
    let letGo = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const a = await instance(db, vault, held);
    const b = await instance(db, vault);
    const key = randomUUID();
    const payload = { order: 'L0-9', status: 'shipped' };
    const send = (forwarder: Forwarder) =>
      forwarder.send({
        owner,
        connection: 'shop-1',
        operation: 'order.status',
        payload,
        idempotencyKey: key,
        body: Buffer.from(JSON.stringify({ operation: 'order.status', payload })),
        actor: { type: 'device', id: 'agent-14' },
        requestId: randomUUID(),
      });

    // Instance A forwards; the third party executes it; A's audit write of it is slow.
    const first = send(a.forwarder);
    await expect.poll(() => a.connector.calls.length).toBe(1);
    a.connector.answer({ kind: 'delivered', upstreamStatus: 200 });
    await expect.poll(() => a.holding()).toBe(1);
    // Past the lease the agent's retry takes the record over on B, whose third party is now
    // down (not executed): B releases the record it took over.
    clock = T0 + LEASE_MS + 1;
    const retry = send(b.forwarder);
    await expect.poll(() => b.connector.calls.length).toBe(1);
    b.connector.answer({ kind: 'unavailable', upstreamStatus: 503 });
    expect((await retry).kind).toBe('unavailable');
    // A's audit write goes through: A records its delivery on a record that is gone.
    letGo();
    expect(await first).toMatchObject({ kind: 'delivered', replayed: false });

    clock += 5_000;
    // Before the fix: { kind: 'conflict' } (stored without fingerprint), dead-lettered.
    expect(await send(b.forwarder)).toMatchObject({ kind: 'delivered', replayed: true });
    expect(b.connector.calls).toHaveLength(1);
  });

  it('an attempt that claimed the key still frees it when nothing was executed', async () => {
    const db = database as Database;
    const keyring = new Keyring([
      await keyFileKek(join(dir, 'kek.key'), { create: true, id: 'test-kek' }),
    ]);
    const vault = new Vault(db, keyring, now);
    const a = await instance(db, vault);
    const key = randomUUID();
    const sent = a.forwarder.send({
      owner,
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order: 'L0-8', status: 'shipped' },
      idempotencyKey: key,
      body: Buffer.from(
        '{"operation":"order.status","payload":{"order":"L0-8","status":"shipped"}}',
      ),
      actor: { type: 'device', id: 'agent-0' },
      requestId: randomUUID(),
    });
    await expect.poll(() => a.connector.calls.length).toBe(1);
    a.connector.answer({ kind: 'unavailable', upstreamStatus: 503 });
    expect((await sent).kind).toBe('unavailable');
    const { rows } = await db.query('SELECT state FROM relay_idempotency WHERE key = $1', [key]);
    expect(rows).toEqual([]);
  });
});
