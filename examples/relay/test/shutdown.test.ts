/**
 * Graceful shutdown: `close()` stops taking connections at once but lets requests in flight
 * finish — a slow send completes (delivered once, audited) while close() is pending, and a
 * waiting long-poll returns at once.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../src/connector.ts';
import { API_KEY, type Harness, startHarness } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectionRefused(h: Harness): Promise<boolean> {
  const dispatcher = new Agent({ connect: { ca: h.relay.tls.ca, timeout: 1000 } });
  try {
    await request(`${h.relay.url}/v1/status`, { dispatcher }).then((r) => r.body.dump());
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'ECONNREFUSED';
  } finally {
    await dispatcher.destroy();
  }
}

describe('graceful shutdown', () => {
  let h: Harness;
  let entered: () => void = () => {};
  const inConnector = new Promise<void>((r) => {
    entered = r;
  });

  beforeAll(async () => {
    const slow = (inner: Connector): Connector => ({
      name: inner.name,
      async send(call) {
        entered();
        await sleep(1000);
        return inner.send(call);
      },
    });
    h = await startHarness({ wrapConnector: slow });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a send in flight completes while close() is pending; new connections are refused', async () => {
    const { client } = await h.client();
    await client.activate({ body: { licenseKey: await h.issueKey() } });
    await client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });
    const idempotencyKey = randomUUID();
    const inFlight = client.send({
      connection: 'shop-1',
      idempotencyKey,
      body: { operation: 'order.status', payload: { order: 'SD-1', status: 'shipped' } },
    });
    await inConnector;
    const { client: other } = await h.client();
    await other.activate({ body: { licenseKey: await h.issueKey('merchant-2') } });
    const polling = other.pickup({ wait: 20 });
    await sleep(100);

    let closed = false;
    const closing = h.relay.close().then(() => {
      closed = true;
    });
    let refused = false;
    for (let i = 0; i < 20 && !refused; i++) {
      refused = await connectionRefused(h);
      if (!refused) await sleep(25);
    }
    expect(refused).toBe(true);
    expect(closed).toBe(false);

    // A long-poll in flight returns (empty) at once instead of holding close() for 20 s.
    expect(await polling).toEqual({ events: [] });
    const sent = await inFlight;
    expect(sent).toMatchObject({ status: 'delivered', replayed: false });
    await closing;
    expect(closed).toBe(true);
    expect(h.counterpart.effects.filter((e) => e.idempotencyKey === idempotencyKey)).toHaveLength(
      1,
    );
    expect(
      h.audited('relay.send').filter((e) => e.data?.idempotencyKey === idempotencyKey),
    ).toMatchObject([{ outcome: 'success' }]);
  });
});
