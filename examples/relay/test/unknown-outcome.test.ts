/**
 * Issue 21, end to end over HTTPS with the real client, relay and counterpart: a send whose
 * outcome is unknown (the counterpart executed it and answered after the connector's timeout)
 * keeps its key pending for the lease — retries meanwhile are answered in-progress and not
 * forwarded — and the retry after the lease forwards it again with the same Idempotency-Key;
 * a send that certainly was not executed (connection refused) releases the key at once.
 */
import { randomUUID } from 'node:crypto';
import type { NodeRelayClient } from '@fluxel/relay-client/node';
import { createCounterpart } from '@fluxel-example/counterpart';
import { afterEach, describe, expect, it } from 'vitest';
import {
  API_KEY,
  connectedClient,
  type Harness,
  type HarnessOptions,
  idempotencyStates,
  startHarness,
} from './helpers.ts';

const CONNECTION = 'shop-1';
const body = { operation: 'order.status', payload: { order: 'A-2101', status: 'shipped' } };
/** The connector gives up after this; the counterpart answers (much) later. */
const TIMEOUT_MS = 500;
const LATE_MS = 2500;

let current: Harness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function setup(options: HarnessOptions): Promise<{ h: Harness; client: NodeRelayClient }> {
  const h = await startHarness({ connectorTimeoutMs: TIMEOUT_MS, ...options });
  current = h;
  return { h, client: await connectedClient(h, CONNECTION) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const effectsFor = (harness: Harness, key: string) =>
  harness.counterpart.effects.filter((e) => e.idempotencyKey === key);

describe('send: unknown outcome vs not executed (issue 21)', () => {
  it('a timed-out send is not released: a retry within the lease is answered in-progress and not forwarded again', async () => {
    const { h, client } = await setup({ counterpart: { answerDelayMs: LATE_MS } });
    const idempotencyKey = randomUUID();
    const first = await client.send.safe({ connection: CONNECTION, idempotencyKey, body });
    expect(first.ok).toBe(false);
    if (first.ok) return;
    expect(first.error.status).toBe(503);
    expect(effectsFor(h, idempotencyKey)).toHaveLength(1); // executed, answered too late

    const retry = await client.send.safe({ connection: CONNECTION, idempotencyKey, body });
    expect(effectsFor(h, idempotencyKey)).toHaveLength(1); // before the fix: 2 (forwarded again)
    expect(await idempotencyStates(h, idempotencyKey)).toEqual(['pending']); // before the fix: released
    expect(first.error.problem).toMatchObject({ retryable: true, upstream: 'counterpart' });
    // Retry when the lease (60 s) has run out, not at once.
    expect(first.error.problem?.retryAfter).toBeGreaterThan(30);
    expect(retry.ok).toBe(false);
    if (retry.ok) return;
    expect(retry.error.status).toBe(503);
    expect(retry.error.problem).toMatchObject({
      title: 'a request with this idempotency key is in progress',
      retryable: true,
      retryAfter: 1,
    });
    const audited = h
      .audited('relay.send')
      .filter((e) => e.data?.idempotencyKey === idempotencyKey);
    expect(audited.map((e) => [e.outcome, e.reason, e.data?.cause])).toEqual([
      ['failure', 'upstream outcome unknown', 'timeout'],
    ]);
  });

  it('a late answer: exactly one effect after the retries, the re-send after the lease carries the same Idempotency-Key', async () => {
    // A payment provider: deduplicates by Idempotency-Key, so the re-send after the lease
    // gets the first answer and executes nothing.
    const { h, client } = await setup({
      counterpart: { answerDelayMs: LATE_MS, idempotent: true },
      relay: { pendingLeaseMs: 2000 },
    });
    const idempotencyKey = randomUUID();
    const answers: (number | 'delivered')[] = [];
    // As the agent's outbox does: retry the same key after the answer's Retry-After.
    for (let attempt = 0; attempt < 10; attempt++) {
      const res = await client.send.safe({ connection: CONNECTION, idempotencyKey, body });
      if (res.ok) {
        answers.push('delivered');
        expect(res.value).toMatchObject({ status: 'delivered', upstreamStatus: 200 });
        break;
      }
      answers.push(res.error.status ?? 0);
      expect(res.error.retryable).toBe(true);
      h.counterpart.setAnswerDelay(0); // the third party is fast again
      await sleep(res.error.retryAfterMs ?? 1000);
    }
    expect(answers.at(-1)).toBe('delivered');
    expect(answers[0]).toBe(503);
    expect(effectsFor(h, idempotencyKey)).toHaveLength(1);
    // The relay forwarded twice, both times with the agent's key: the second was a replay.
    expect(h.counterpart.replayed).toBe(1);
    expect(await idempotencyStates(h, idempotencyKey)).toEqual(['delivered']);
    const again = await client.send({ connection: CONNECTION, idempotencyKey, body });
    expect(again.replayed).toBe(true);
    expect(h.counterpart.replayed).toBe(1);
  });

  it('competing retries of a pending key get in-progress; after the lease exactly one forwards it again', async () => {
    // Not deduplicating: every forward is an effect, so the count is the number of forwards.
    const { h, client } = await setup({
      counterpart: { answerDelayMs: LATE_MS },
      relay: { pendingLeaseMs: 2000 },
    });
    const idempotencyKey = randomUUID();
    const send = () => client.send.safe({ connection: CONNECTION, idempotencyKey, body });
    const first = await send();
    expect(first.ok).toBe(false);
    const during = await Promise.all(Array.from({ length: 8 }, send));
    expect(during.map((r) => !r.ok && r.error.problem?.title)).toEqual(
      Array(8).fill('a request with this idempotency key is in progress'),
    );
    expect(effectsFor(h, idempotencyKey)).toHaveLength(1);

    h.counterpart.setAnswerDelay(0);
    await sleep((!first.ok && first.error.retryAfterMs) || 2000);
    const after = await Promise.all(Array.from({ length: 8 }, send));
    const delivered = after.filter((r) => r.ok && !r.value.replayed);
    expect(delivered).toHaveLength(1);
    for (const r of after)
      if (!r.ok)
        expect(r.error.problem?.title).toBe('a request with this idempotency key is in progress');
    // One forward per lease, with the same key (this counterpart executes both: it does not
    // deduplicate; a payment provider would have replayed the second).
    expect(effectsFor(h, idempotencyKey)).toHaveLength(2);
  });

  it('a refused connection was not executed: the key is released, and the retry delivers once', async () => {
    const { h, client } = await setup({});
    const { port } = new URL(h.counterpart.url);
    await h.counterpart.close(); // nothing was sent to it yet: no pooled connection
    const idempotencyKey = randomUUID();
    const refused = await client.send.safe({ connection: CONNECTION, idempotencyKey, body });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.problem).toMatchObject({
      title: 'the third party is unavailable',
      retryable: true,
      retryAfter: 30,
    });
    expect(await idempotencyStates(h, idempotencyKey)).toEqual([]); // released
    const audited = h
      .audited('relay.send')
      .filter((e) => e.data?.idempotencyKey === idempotencyKey);
    expect(audited.map((e) => e.reason)).toEqual(['upstream unavailable']);

    h.counterpart = await createCounterpart({ apiKey: API_KEY, port: Number(port) });
    const sent = await client.send({ connection: CONNECTION, idempotencyKey, body });
    expect(sent).toMatchObject({ status: 'delivered', replayed: false });
    expect(effectsFor(h, idempotencyKey)).toHaveLength(1);
  });
});
