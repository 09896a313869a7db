import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activatedAgent, type Booted, boot, dropRecord, waitUntil } from './helpers.ts';

interface Effect {
  operation: string;
  idempotencyKey?: string;
  body: unknown;
}

describe("promise 4: relay, don't store", () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  });
  afterAll(async () => sys?.close());

  it('with the third party down the agent keeps the record in its outbox and delivers it once later; the relay keeps no payload', async () => {
    const { dir } = await activatedAgent(sys, 'sender');
    const agent = await sys.startAgent(dir);
    const marker = `order-${Math.random().toString(36).slice(2, 10)}`;

    await sys.counterpartAdmin('POST', '/admin/outage', { down: true });
    dropRecord(dir, 'r1', {
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order: marker, status: 'shipped' },
    });
    // The relay said "retryable" (503): the agent logged it and keeps the record.
    await waitUntil(
      'a retryable refusal in the agent log',
      () => agent.lines.some((l) => /outbox: \S+ attempt \d+ failed/.test(l)) || undefined,
    );
    const state = () =>
      JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
        outbox?: { depth?: number; dead?: number };
      };
    await waitUntil('the record waiting in the outbox', () =>
      (state().outbox?.depth ?? 0) >= 1 ? true : undefined,
    );
    expect(existsSync(join(dir, 'outgoing', 'r1.json'))).toBe(false); // taken into the durable outbox
    const effects = async () =>
      ((await sys.counterpartAdmin('GET', '/admin/effects')) as { effects: Effect[] }).effects;
    expect((await effects()).filter((e) => JSON.stringify(e.body).includes(marker))).toEqual([]);
    // The relay's database holds no trace of the payload.
    expect((await sys.relayStorage()).toString('latin1')).not.toContain(marker);

    // Back up: the agent retries by itself (the relay's Retry-After, 30 s) and it arrives once.
    await sys.counterpartAdmin('POST', '/admin/outage', { down: false });
    const delivered = await waitUntil('delivery after the outage', async () => {
      const hits = (await effects()).filter((e) => JSON.stringify(e.body).includes(marker));
      return hits.length > 0 ? hits : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await effects()).filter((e) => JSON.stringify(e.body).includes(marker))).toHaveLength(
      1,
    );
    expect(delivered[0]?.idempotencyKey).toBeTruthy();
    await waitUntil('an empty outbox', () => (state().outbox?.depth === 0 ? true : undefined));
    expect(readdirSync(join(dir, 'rejected')).length).toBe(0);
    expect((await sys.relayStorage()).toString('latin1')).not.toContain(marker);
    await agent.stop();
  });
});
