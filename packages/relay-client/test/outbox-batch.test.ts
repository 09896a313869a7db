/**
 * `relayDeliverBatch` (issue 18): the deliveries the outbox starts together go to the relay as
 * `sendBatch` requests (one per up to `maxBatch` messages), and each message's outcome is
 * applied on its own — delivered → removed, refused → dead letter with the item's problem code
 * and detail, unavailable → rescheduled.
 */
import { describe, expect, it } from 'vitest';
import { relayDeliverBatch } from '../src/adapters.ts';
import type { RelayClient } from '../src/client.ts';
import type { SendBatchResultBody } from '../src/contract.ts';
import { RelayError } from '../src/errors.ts';
import { MemoryOutboxStore, Outbox } from '../src/outbox.ts';

const T0 = 1_800_000_000_000;

type BatchInput = Parameters<RelayClient['sendBatch']>[0];

function fakeClient(answer: (item: BatchInput['body']['items'][number]) => SendBatchResultBody) {
  const batches: string[][] = [];
  const singles: string[] = [];
  const client = {
    sendBatch: async (input: BatchInput) => {
      batches.push(input.body.items.map((i) => String(i.idempotencyKey)));
      return { results: input.body.items.map(answer) };
    },
    send: async (input: { idempotencyKey: string }) => {
      singles.push(input.idempotencyKey);
      return {
        status: 'delivered' as const,
        upstreamStatus: 200,
        deliveredAt: new Date(T0).toISOString(),
        replayed: false,
      };
    },
  } as unknown as Pick<RelayClient, 'send' | 'sendBatch'>;
  return { client, batches, singles };
}

const uuid = (i: number) => `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`;

describe('relayDeliverBatch', () => {
  it('delivers the messages of one lease in batches and applies each item outcome on its own', async () => {
    const refused = uuid(2);
    const unavailable = uuid(3);
    const { client, batches, singles } = fakeClient((item) => {
      const key = String(item.idempotencyKey);
      if (key === refused)
        return {
          idempotencyKey: key,
          status: 'rejected',
          httpStatus: 422,
          problem: {
            type: 'about:blank',
            title: 'operation not supported by this connection',
            status: 422,
            detail: 'unknown operation',
            retryable: false,
          },
        };
      if (key === unavailable)
        return {
          idempotencyKey: key,
          status: 'unavailable',
          httpStatus: 503,
          problem: {
            type: 'about:blank',
            title: 'the third party is unavailable',
            status: 503,
            retryable: true,
            retryAfter: 30,
          },
        };
      return {
        idempotencyKey: key,
        status: 'delivered',
        httpStatus: 200,
        upstreamStatus: 200,
        deliveredAt: new Date(T0).toISOString(),
        replayed: false,
      };
    });
    const store = new MemoryOutboxStore({ now: () => T0 });
    const outbox = new Outbox({ store, now: () => T0, concurrency: 10 });
    for (let i = 1; i <= 7; i++)
      await outbox.enqueue({
        id: uuid(i),
        connection: 'shop-1',
        operation: 'order.status',
        payload: { order: `A-${i}` },
        metadata: { file: `a-${i}.json` },
      });
    const requests: number[] = [];
    await outbox.drain(
      relayDeliverBatch(client, { maxBatch: 3, onRequest: ({ size }) => requests.push(size) }),
    );
    expect(requests).toEqual([3, 3, 1]);
    // 7 messages leased together: batches of 3, 3 and 1 (the one alone goes by `send`).
    expect(batches.map((b) => b.length)).toEqual([3, 3]);
    expect(singles).toHaveLength(1);
    const dead = await outbox.deadLetters();
    expect(dead.map((d) => d.id)).toEqual([refused]);
    expect(dead[0]?.metadata).toEqual({ file: 'a-2.json' });
    expect(dead[0]?.lastError).toMatchObject({ status: 422, detail: 'unknown operation' });
    const pending = await outbox.pending();
    expect(pending.map((m) => m.id)).toEqual([unavailable]);
    expect(pending[0]?.nextAttemptAt).toBe(T0 + 30_000);
    expect(pending[0]?.lastError?.status).toBe(503);
    await outbox.close();
  });

  it('a failed batch request fails every message in it (retryable errors reschedule them all)', async () => {
    const client = {
      sendBatch: async () => {
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
      send: async () => {
        throw new Error('not used');
      },
    } as unknown as Pick<RelayClient, 'send' | 'sendBatch'>;
    const store = new MemoryOutboxStore({ now: () => T0 });
    const outbox = new Outbox({ store, now: () => T0, concurrency: 10 });
    for (let i = 1; i <= 3; i++)
      await outbox.enqueue({
        id: uuid(i),
        connection: 'shop-1',
        operation: 'order.status',
        payload: {},
      });
    await outbox.drain(relayDeliverBatch(client));
    expect((await outbox.pending()).map((m) => m.attempts)).toEqual([1, 1, 1]);
    expect(await outbox.deadLetters()).toEqual([]);
    await outbox.close();
  });

  // Found by the load suite (examples/system/load, 32 dead letters at 200 records/s): one
  // record's lease ran out, its signal aborted the batch request, and every other record in
  // that request was rejected with the transport's ERR_RELAY_ABORTED (not retryable) — dead
  // letters, though nothing was wrong with them.
  it('the batch aborted for one record dead-lettered the others as ERR_RELAY_ABORTED: they stay retryable', async () => {
    const client = {
      sendBatch: (_input: BatchInput, options: { signal: AbortSignal }) =>
        new Promise((_resolve, reject) =>
          options.signal.addEventListener('abort', () =>
            // what the transport throws when the request's signal aborts
            reject(
              new RelayError('ERR_RELAY_ABORTED', 'the request was aborted', {
                cause: options.signal.reason,
                retryable: false,
              }),
            ),
          ),
        ),
      send: async () => {
        throw new Error('not used');
      },
    } as unknown as Pick<RelayClient, 'send' | 'sendBatch'>;
    const deliver = relayDeliverBatch(client);
    const message = (i: number) => ({
      id: uuid(i),
      connection: 'shop-1',
      operation: 'order.status',
      payload: {},
      attempts: 0,
      enqueuedAt: T0,
      nextAttemptAt: T0,
    });
    const leases = [new AbortController(), new AbortController(), new AbortController()];
    const outcomes = leases.map((lease, i) =>
      deliver(message(i + 1) as never, { attempt: 0, signal: lease.signal }).then(
        () => undefined,
        (error: RelayError) => error,
      ),
    );
    await new Promise((r) => setTimeout(r, 10)); // the batch is under way
    leases[0]?.abort(new RelayError('ERR_RELAY_TIMEOUT', 'lease', { retryable: true }));
    const [first, ...others] = await Promise.all(outcomes);
    expect(first?.code).toBe('ERR_RELAY_ABORTED');
    for (const error of others) {
      expect(error?.code).toBe('ERR_RELAY_ABORTED');
      expect(error?.retryable).toBe(true);
    }
  });

  it('an item the relay has in progress (retry at once) is sent again within the same delivery, as send retries it', async () => {
    let calls = 0;
    const { client, batches } = fakeClient((item) => {
      const key = String(item.idempotencyKey);
      if (key === uuid(1) && calls++ === 0)
        return {
          idempotencyKey: key,
          status: 'unavailable',
          httpStatus: 503,
          problem: {
            type: 'about:blank',
            title: 'a request with this idempotency key is in progress',
            status: 503,
            retryable: true,
            retryAfter: 1,
          },
        };
      return {
        idempotencyKey: key,
        status: 'delivered',
        httpStatus: 200,
        upstreamStatus: 200,
        deliveredAt: new Date(T0).toISOString(),
        replayed: true,
      };
    });
    const store = new MemoryOutboxStore({ now: () => T0 });
    const outbox = new Outbox({ store, now: () => T0, concurrency: 10 });
    for (let i = 1; i <= 2; i++)
      await outbox.enqueue({
        id: uuid(i),
        connection: 'shop-1',
        operation: 'order.status',
        payload: {},
      });
    await outbox.drain(relayDeliverBatch(client));
    expect(batches).toEqual([[uuid(1), uuid(2)], [uuid(1)]]);
    expect(await outbox.pending()).toEqual([]);
    await outbox.close();
  });

  it('refuses a maxBatch outside 1..100', () => {
    const { client } = fakeClient(() => {
      throw new Error('unused');
    });
    for (const maxBatch of [0, 101])
      expect(() => relayDeliverBatch(client, { maxBatch })).toThrow(
        expect.objectContaining({ code: 'ERR_RELAY_INVALID_ARGUMENT' }),
      );
  });
});
