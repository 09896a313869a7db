/**
 * The agent-side chain end to end over real HTTPS: file-backed outbox → typed client (DPoP,
 * pinned CA) → relay fixture with the license authority. The third party is down for a while
 * (503 with a long Retry-After), then back: every message arrives exactly once. Inbound events
 * go through the mailbox consumer with acknowledgement and dedupe.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRelayClient,
  FileDedupeStore,
  FileOutboxStore,
  MailboxConsumer,
  type NodeRelayClient,
  Outbox,
  relayDeliver,
  relayMailboxSource,
  spkiPin,
} from '../src/node.ts';
import { makePki, type Pki } from './pki.ts';
import { type RelayFixture, startRelay } from './relay-server.ts';

let pki: Pki;
let relay: RelayFixture;
let client: NodeRelayClient;

beforeAll(async () => {
  pki = makePki('Fluxel Test Relay CA');
  relay = await startRelay(pki);
  client = createRelayClient({
    baseUrl: relay.url,
    ca: pki.caCert,
    pins: [spkiPin(pki.caCert)],
    proxy: false,
    device: createDpopSigner((await generateKeyPair()).privateJwk),
    retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
  });
  await client.activate({ body: { licenseKey: await relay.issueKey() } });
});

afterAll(async () => {
  await client?.close();
  await relay?.close();
});

describe('outbox → client → relay', () => {
  it('the third party is down for hours: messages wait in the outbox and arrive exactly once after recovery', async () => {
    let clock = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-e2e-outbox-'));
    const store = await FileOutboxStore.open(dir);
    const outbox = new Outbox({
      store,
      deliver: relayDeliver(client),
      now: () => clock,
      concurrency: 4,
    });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const message = await outbox.enqueue({
        connection: 'shop-1',
        operation: 'order.status',
        payload: { order: `A-${i}`, status: 'shipped' },
        orderingKey: `A-${i % 5}`,
      });
      ids.push(message.id);
    }
    // Down: every send answers 503 with Retry-After of an hour.
    relay.faults.set(
      'send',
      Array.from({ length: 200 }, () => ({
        kind: 'status' as const,
        status: 503,
        retryAfter: '3600',
      })),
    );
    await outbox.drain();
    expect((await outbox.stats()).depth).toBe(20);
    expect(ids.every((id) => !relay.effects.has(id))).toBe(true);
    // Three hours later the third party is back.
    relay.faults.set('send', []);
    clock += 3 * 3600_000;
    for (let round = 0; round < 10 && (await outbox.stats()).depth > 0; round++) {
      await outbox.drain();
      clock += 3600_000;
    }
    expect((await outbox.stats()).depth).toBe(0);
    expect(ids.map((id) => relay.effects.get(id))).toEqual(ids.map(() => 1));
    await outbox.close();
  });

  it('a message the relay refuses for good goes to the dead letters at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-e2e-dead-'));
    const events: string[] = [];
    const outbox = new Outbox({
      store: await FileOutboxStore.open(dir),
      deliver: relayDeliver(client),
      onEvent: (e) => events.push(e.type),
    });
    // What the relay's contract refuses, the outbox refuses at enqueue and never stores.
    await expect(
      outbox.enqueue({ connection: 'Not A Connection', operation: 'order.status', payload: {} }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_INVALID_ARGUMENT' });
    expect((await outbox.stats()).depth).toBe(0);
    // What only the relay can judge (here: the third party's validation) dies at once.
    relay.faults.set('send', [
      {
        kind: 'status' as const,
        status: 422,
        body: {
          type: 'https://fluxel.dev/problems/validation',
          title: 'The request is invalid',
          status: 422,
        },
      },
    ]);
    await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: {} });
    await outbox.drain();
    relay.faults.set('send', []);
    const dead = await outbox.deadLetters();
    expect(dead).toHaveLength(1);
    expect(events).toContain('dead');
    await outbox.close();
  });
});

describe('relay → mailbox consumer', () => {
  it('hands each event to the handler once, acks it, and the relay deletes it', async () => {
    const dedupe = await FileDedupeStore.open(mkdtempSync(join(tmpdir(), 'fluxel-e2e-dedupe-')));
    const handled: string[] = [];
    const consumer = new MailboxConsumer({
      source: relayMailboxSource(client),
      dedupe,
      waitSeconds: 1,
      handler: async (event) => {
        handled.push(event.id);
      },
    });
    const at = new Date();
    for (const id of ['pay-1', 'pay-2']) {
      relay.mailbox.push({
        id,
        connection: 'shop-1',
        type: 'payment.received',
        receivedAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + 7 * 86_400_000).toISOString(),
        payload: { amount: 10 },
      });
    }
    await consumer.pollOnce();
    expect(handled.sort()).toEqual(['pay-1', 'pay-2']);
    expect(relay.mailbox).toHaveLength(0);
    // The relay redelivers an event whose ack it lost: handled once all the same.
    relay.mailbox.push({
      id: 'pay-1',
      connection: 'shop-1',
      type: 'payment.received',
      receivedAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + 7 * 86_400_000).toISOString(),
      payload: { amount: 10 },
    });
    await consumer.pollOnce();
    expect(handled.filter((id) => id === 'pay-1')).toHaveLength(1);
    expect(relay.mailbox).toHaveLength(0);
  });
});
