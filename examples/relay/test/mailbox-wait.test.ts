/**
 * Mailbox long-polls under load: a per-license cap on waiting polls (the excess refused with
 * 429 and Retry-After, never held), and a waiting poll woken by a notification — also when
 * the event arrives at another relay instance over the same PostgreSQL (LISTEN/NOTIFY) —
 * instead of re-reading the table every second. No timing assertions: the outcomes are counted.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import type { DpopSigner } from '@fluxel/license';
import type { NodeRelayClient } from '@fluxel/relay-client/node';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRelay } from '../src/relay.ts';
import {
  API_KEY,
  type Harness,
  POSTGRES_URL,
  postgresReachable,
  rawRequest,
  startHarness,
} from './helpers.ts';

const CONNECTION = 'shop-1';

async function activated(
  h: Harness,
  connection = CONNECTION,
): Promise<{ client: NodeRelayClient; device: DpopSigner; accessToken: string }> {
  const { client, device } = await h.client();
  await client.activate({ body: { licenseKey: await h.issueKey() } });
  await client.putCredentials({
    connection,
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
  });
  return { client, device, accessToken: (await client.tokens())?.accessToken as string };
}

describe('mailbox long-polls of one license (PGlite)', () => {
  const CAP = 3;
  const EXCESS = 5;
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ relay: { mailboxPollsPerLicense: CAP } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('regression: N+k concurrent long-polls of one license over separate connections — exactly N wait, k are refused 429 with Retry-After', async () => {
    const { device, accessToken } = await activated(h);
    // Each over its own connection (rawRequest opens a fresh undici Agent per request).
    const poll = (wait: number) =>
      rawRequest(h, 'GET', `/v1/mailbox?wait=${wait}`, { device, accessToken });
    const settled: Awaited<ReturnType<typeof poll>>[] = [];
    const polls = Array.from({ length: CAP + EXCESS }, () =>
      poll(30).then((res) => {
        settled.push(res);
        return res;
      }),
    );
    // The refused ones answer at once; the held ones wait for an event (or the 30 s wait).
    await vi.waitFor(() => expect(settled.length).toBeGreaterThanOrEqual(EXCESS), {
      timeout: READY_BOUND_MS,
      interval: 50,
    });
    const refused = settled.slice(0, EXCESS);
    for (const res of refused) {
      expect(res.status).toBe(429);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json).toMatchObject({ code: 'ERR_MAILBOX_POLLS', retryable: true });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // A poll that does not wait holds nothing and is not refused.
    expect((await poll(0)).status).toBe(200);
    // An arrival answers every held poll with the event.
    const hook = await h.hook(CONNECTION);
    expect(hook.status).toBe(204);
    const all = await Promise.all(polls);
    const held = all.filter((res) => res.status === 200);
    expect(held).toHaveLength(CAP);
    expect(all.filter((res) => res.status === 429)).toHaveLength(EXCESS);
    for (const res of held)
      expect(((res.json?.events ?? []) as { id: string }[]).map((e) => e.id)).toEqual([hook.id]);
    // Their slots are free again: a new waiting poll is admitted (and finds the event).
    expect((await poll(1)).status).toBe(200);
  });
});

const skip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
if (skip) console.warn(`${skip}: mailbox notification tests skipped`);

describe.skipIf(skip)('mailbox notifications across instances (PostgreSQL)', () => {
  const schema = `relay_mbw_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let a: Harness;
  let b: Harness;
  let inner: Database;
  /** Mailbox reads instance A made. */
  let reads = 0;

  beforeAll(async () => {
    // Instance A counts its mailbox reads through a wrapped database; it LISTENs on the URL.
    inner = await openDatabase({ url: POSTGRES_URL, schema });
    const counted: Database = {
      ...inner,
      query: (text, params) => {
        if (
          /^\s*SELECT\b[^;]*\bFROM relay_mailbox\b/i.test(text) &&
          /ORDER BY received_at/.test(text)
        )
          reads += 1;
        return inner.query(text, params);
      },
    };
    // The default re-read interval (1 s) — which a notified poll no longer needs.
    const relay = { databaseUrl: POSTGRES_URL, databaseSchema: schema };
    a = await startHarness({ database: counted, relay });
    b = await startHarness({ relay, dataDir: a.dataDir });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await inner?.close();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('regression: a waiting poll does not re-read the mailbox every second — a 4 s wait with no arrival reads it at most twice', async () => {
    const { client } = await activated(a);
    reads = 0;
    expect((await client.pickup({ wait: 4 })).events).toEqual([]);
    // Before the wait and once at its end; the old loop read once a second (5 times).
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('an event stored by another instance wakes a poll waiting here (LISTEN/NOTIFY), with at most two reads of the mailbox', async () => {
    // A connection of its own: its webhook reaches this license alone.
    const { client } = await activated(a, 'shop-2');
    reads = 0;
    const waiting = client.pickup({ wait: 30 });
    // The poll has read (empty) and waits.
    await vi.waitFor(() => expect(reads).toBeGreaterThanOrEqual(1), {
      timeout: READY_BOUND_MS,
      interval: 20,
    });
    const hook = await b.hook('shop-2', { secret: a.webhookSecret });
    expect(hook.status).toBe(204);
    const { events } = await waiting;
    expect(events.map((e) => e.id)).toEqual([hook.id]);
    // One read before the wait, one after the wake-up (none on a timer).
    expect(reads).toBeLessThanOrEqual(2);
  });
});

describe('mailbox long-poll settings', () => {
  it('out-of-range settings are refused when the relay is built, before it opens anything', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 1001])
      await expect(
        createRelay({ connector: undefined as never, mailboxPollsPerLicense: bad }),
      ).rejects.toThrow(/mailboxPollsPerLicense must be a whole number/);
    await expect(createRelay({ connector: undefined as never, mailboxPollMs: 0 })).rejects.toThrow(
      /mailboxPollMs must be a whole number/,
    );
  });
});
