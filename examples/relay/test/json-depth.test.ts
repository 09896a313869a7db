/**
 * JSON at the edges: a payload nested deeper than the contract allows is a 400 problem
 * (ERR_VALIDATION) on `send` and on inbound webhooks — never a stack overflow answered 500 —
 * and a `__proto__` key below the old walk's depth limit is refused, not waved through.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { DpopSigner } from '@fluxel/license';
import type { NodeRelayClient } from '@fluxel/relay-client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connector, delivered } from '../src/connector.ts';
import { API_KEY, type Harness, rawRequest, startHarness } from './helpers.ts';

const CONNECTION = 'shop-1';
/** Far past any sensible depth, and deep enough to overflow a recursive walk. */
const HOSTILE_DEPTH = 5_000;

const nested = (depth: number, inner = '1') =>
  JSON.parse(`${'['.repeat(depth)}${inner}${']'.repeat(depth)}`) as unknown;

let h: Harness;
let client: NodeRelayClient;
let device: DpopSigner;
let accessToken: string;
/** What the third party answers to `test.echo`: this text, or else the payload it got. */
const upstream = { text: undefined as string | undefined, calls: 0 };

beforeAll(async () => {
  h = await startHarness({
    // `test.echo` is delivered at once, answering with `upstream.text` or the payload.
    wrapConnector: (connector): Connector => ({
      name: connector.name,
      async send(call) {
        if (call.operation !== 'test.echo') return connector.send(call);
        upstream.calls += 1;
        // Through the connectors' own parsing of a third party's answer.
        return delivered(200, upstream.text ?? JSON.stringify(call.payload));
      },
    }),
  });
  ({ client, device } = await h.client());
  await client.activate({ body: { licenseKey: await h.issueKey() } });
  await client.putCredentials({
    connection: CONNECTION,
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: h.webhookSecret } },
  });
  accessToken = (await client.tokens())?.accessToken as string;
});

afterAll(async () => {
  await h?.close();
});

/** A webhook signed as the third party signs them (Standard Webhooks), with a body as given. */
async function signedHook(body: string) {
  const id = `msg_${randomUUID()}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(h.webhookSecret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  // The connection's own hook URL where the harness knows it, else the connection-name route.
  const hookUrl = (h as { hookUrl?: (connection: string) => Promise<string> }).hookUrl;
  const path = hookUrl ? new URL(await hookUrl(CONNECTION)).pathname : `/v1/hooks/${CONNECTION}`;
  return rawRequest(h, 'POST', path, {
    body,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
    },
  });
}

/** A send built by hand: the typed client would refuse such a payload before sending it. */
const rawSend = (payloadJson: string) =>
  rawRequest(h, 'POST', `/v1/connections/${CONNECTION}/send`, {
    body: `{"operation":"test.echo","payload":${payloadJson}}`,
    device,
    accessToken,
    headers: { 'idempotency-key': randomUUID() },
  });

describe('deeply nested JSON', () => {
  it('regression: a send nested 5 000 deep is a 400 problem (ERR_VALIDATION), not a 500', async () => {
    const before = upstream.calls;
    const res = await rawSend(`${'['.repeat(HOSTILE_DEPTH)}1${']'.repeat(HOSTILE_DEPTH)}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(upstream.calls).toBe(before);
  });

  it('regression: a signed webhook nested 5 000 deep is a 400 problem (ERR_VALIDATION), not a 500', async () => {
    const deep = `${'['.repeat(HOSTILE_DEPTH)}1${']'.repeat(HOSTILE_DEPTH)}`;
    const res = await signedHook(`{"type":"payment.received","data":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json).toMatchObject({ code: 'ERR_VALIDATION' });
    expect((await client.pickup({ wait: 0 })).events).toEqual([]);
  });

  it('regression: a "__proto__" key nested past depth 64 is refused, not waved through', async () => {
    const deepProto = `${'{"a":'.repeat(70)}{"__proto__":{"admin":true}}${'}'.repeat(70)}`;
    const res = await rawSend(deepProto);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'ERR_VALIDATION' });
    const hook = await signedHook(`{"type":"payment.received","data":${deepProto}}`);
    expect(hook.status).toBe(400);
    expect(hook.json).toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('regression: a third party answering with a hostile nesting leaves the send delivered (the result is dropped), not a 500', async () => {
    upstream.text = `${'['.repeat(HOSTILE_DEPTH)}1${']'.repeat(HOSTILE_DEPTH)}`;
    try {
      const sent = await client.send({
        connection: CONNECTION,
        idempotencyKey: randomUUID(),
        body: { operation: 'test.echo', payload: { order: 'A-1' } },
      });
      expect(sent).toMatchObject({ status: 'delivered', replayed: false });
      expect(sent.result).toBeUndefined();
    } finally {
      upstream.text = undefined;
    }
  });

  it('payloads up to the limit still pass: nesting 60 deep is forwarded, delivered and answered', async () => {
    const sent = await client.send({
      connection: CONNECTION,
      idempotencyKey: randomUUID(),
      body: { operation: 'test.echo', payload: nested(60) as never },
    });
    expect(sent).toMatchObject({ status: 'delivered', result: nested(60) });
    const hook = await signedHook(
      `{"type":"payment.received","data":${JSON.stringify(nested(60))}}`,
    );
    expect(hook.status).toBe(204);
  });
});
