import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type Counterpart, createCounterpart, generateWebhookSecret } from '../src/index.ts';

const API_KEY = 'test-api-key-123';
let counterpart: Counterpart | undefined;
afterEach(async () => {
  await counterpart?.close();
  counterpart = undefined;
});

async function call(
  path: string,
  body: unknown,
  key = API_KEY,
  extra: Record<string, string> = {},
) {
  const res = await request(`${(counterpart as Counterpart).url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...extra },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: await res.body.json() };
}

describe('counterpart', () => {
  it('refuses a wrong API key and records nothing', async () => {
    counterpart = await createCounterpart({ apiKey: API_KEY });
    const res = await call('/orders/A-1/status', { status: 'shipped' }, 'wrong-key-000000');
    expect(res.status).toBe(401);
    expect(counterpart.effects).toHaveLength(0);
  });

  it('records order status and shipments with their idempotency keys', async () => {
    counterpart = await createCounterpart({ apiKey: API_KEY });
    const a = await call('/orders/A-1/status', { status: 'shipped' }, API_KEY, {
      'idempotency-key': 'k-1',
    });
    const b = await call('/shipments', { order: 'A-1', carrier: 'DHL', tracking: '0034' });
    expect(a.status).toBe(200);
    expect(b).toMatchObject({ status: 201, body: { shipmentId: 'shp-2' } });
    expect(counterpart.effects.map((e) => [e.operation, e.idempotencyKey, e.body])).toEqual([
      ['order.status', 'k-1', { order: 'A-1', status: 'shipped' }],
      ['shipment.create', null, { order: 'A-1', carrier: 'DHL', tracking: '0034' }],
    ]);
  });

  it('idempotent: a repeated key gets the first answer and no new effect; another body 422', async () => {
    counterpart = await createCounterpart({ apiKey: API_KEY, idempotent: true });
    const key = { 'idempotency-key': 'k-7' };
    const first = await call(
      '/shipments',
      { order: 'A-7', carrier: 'DHL', tracking: '1' },
      API_KEY,
      key,
    );
    const again = await call(
      '/shipments',
      { order: 'A-7', carrier: 'DHL', tracking: '1' },
      API_KEY,
      key,
    );
    expect(first).toMatchObject({ status: 201, body: { shipmentId: 'shp-1' } });
    expect(again).toMatchObject({ status: 201, body: { shipmentId: 'shp-1' } });
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await call(
      '/shipments',
      { order: 'A-7', carrier: 'UPS', tracking: '1' },
      API_KEY,
      key,
    );
    expect(other.status).toBe(422);
    // The same key on another operation is another request.
    const status = await call('/orders/A-7/status', { status: 'shipped' }, API_KEY, key);
    expect(status.status).toBe(200);
    expect(counterpart.effects.map((e) => e.operation)).toEqual([
      'shipment.create',
      'order.status',
    ]);
    expect(counterpart.replayed).toBe(1);
  });

  it('not idempotent by default: every call is an effect (tests count re-forwards)', async () => {
    counterpart = await createCounterpart({ apiKey: API_KEY });
    const key = { 'idempotency-key': 'k-8' };
    await call('/orders/A-8/status', { status: 'shipped' }, API_KEY, key);
    await call('/orders/A-8/status', { status: 'shipped' }, API_KEY, key);
    expect(counterpart.effects).toHaveLength(2);
    expect(counterpart.replayed).toBe(0);
  });

  it('refuses invalid bodies with a problem document', async () => {
    counterpart = await createCounterpart({ apiKey: API_KEY });
    const res = await call('/orders/A-1/status', { status: 'teleported' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(counterpart.effects).toHaveLength(0);
  });

  it('answers 503 with Retry-After while down, switched by the admin endpoint', async () => {
    counterpart = await createCounterpart({ apiKey: API_KEY, down: true });
    const down = await call('/shipments', { order: 'A-1', carrier: 'DHL', tracking: '1' });
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('30');
    expect(counterpart.refused).toBe(1);
    expect((await call('/admin/outage', { down: false })).body).toEqual({ down: false });
    const up = await call('/shipments', { order: 'A-1', carrier: 'DHL', tracking: '1' });
    expect(up.status).toBe(201);
    expect(counterpart.effects).toHaveLength(1);
    counterpart.setDown(true);
    expect(counterpart.isDown()).toBe(true);
  });

  it('answer delay: executes the call at once and answers late; switched by the admin endpoint', async () => {
    counterpart = await createCounterpart({ apiKey: API_KEY });
    expect((await call('/admin/answer-delay', { ms: 3000 })).body).toEqual({ ms: 3000 });
    let answered = false;
    const late = call('/orders/A-9/status', { status: 'packed' }).then((res) => {
      answered = true;
      return res;
    });
    while (counterpart.effects.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false); // executed, not answered yet
    expect((await late).status).toBe(200);
    expect(counterpart.effects).toHaveLength(1);
    expect((await call('/admin/answer-delay', { ms: -1 })).status).toBe(400);
    expect(() => counterpart?.setAnswerDelay(1.5)).toThrow(RangeError);
    counterpart.setAnswerDelay(0);
    expect((await call('/orders/A-9/status', { status: 'shipped' })).status).toBe(200);
  });

  it('sends Standard Webhooks signed with the whsec_ secret', async () => {
    const secret = generateWebhookSecret();
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    const sink = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    sink.listen(0, '127.0.0.1');
    await once(sink, 'listening');
    const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;
    try {
      counterpart = await createCounterpart({ apiKey: API_KEY, webhook: { url, secret } });
      const result = await counterpart.sendPaymentWebhook({ payload: { amount: 5 } });
      expect(result.status).toBe(202);
      const [msg] = received;
      expect(msg).toBeDefined();
      const { headers, body } = msg as (typeof received)[number];
      expect(headers['webhook-id']).toBe(result.id);
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key)
        .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
        .digest('base64');
      expect(headers['webhook-signature']).toBe(`v1,${expected}`);
      expect(JSON.parse(body)).toMatchObject({ type: 'payment.received', data: { amount: 5 } });
      // The admin endpoint sends one too.
      const viaAdmin = await call('/admin/webhook', { type: 'payment.refunded' });
      expect(viaAdmin.body).toMatchObject({ relayStatus: 202 });
      expect(received).toHaveLength(2);
      // The endpoint URL is a setting (each license's connection has its own at the relay).
      const res = await request(`${counterpart.url}/admin/webhook-target`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ url: `${url}/v1/hooks/shop-1/${'h'.repeat(32)}` }),
      });
      expect(res.statusCode).toBe(200);
      await res.body.text();
      await counterpart.sendPaymentWebhook();
      expect(received).toHaveLength(3);
      const refused = await request(`${counterpart.url}/admin/webhook-target`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ url: 'file:///etc/passwd' }),
      });
      expect(refused.statusCode).toBe(400);
      await refused.body.text();
    } finally {
      sink.close();
    }
  });

  it('webhook secrets: 32 random bytes generated; the whsec_ prefix optional; under 24 bytes refused', async () => {
    const { signWebhook, webhookKey } = await import('../src/index.ts');
    const generated = generateWebhookSecret();
    expect(webhookKey(generated)).toHaveLength(32);
    const bare = Buffer.alloc(24, 1).toString('base64');
    expect(webhookKey(bare)).toHaveLength(24);
    const short = `whsec_${Buffer.alloc(16, 1).toString('base64')}`;
    expect(webhookKey(short)).toBeUndefined();
    expect(() => signWebhook(short, 'msg_1', 1, '{}')).toThrow(/24 bytes/);
    expect(webhookKey('whsec_not base64!')).toBeUndefined();
    expect(() => signWebhook('whsec_not base64!', 'msg_1', 1, '{}')).toThrow(/base64/);
  });
});

describe('counterpartOptionsFromEnv', () => {
  it('COUNTERPART_DOWN=1 starts in an outage; defaults otherwise', async () => {
    const { counterpartOptionsFromEnv } = await import('../src/env.ts');
    const down = counterpartOptionsFromEnv({ COUNTERPART_DOWN: '1', COUNTERPART_PORT: '0' }, '/x');
    expect(down.down).toBe(true);
    const defaults = counterpartOptionsFromEnv({}, '/nonexistent/ca.pem');
    expect(defaults).toMatchObject({
      down: false,
      port: 4010,
      apiKey: 'dev-counterpart-key',
      idempotent: false,
    });
    expect(counterpartOptionsFromEnv({ COUNTERPART_IDEMPOTENT: '1' }, '/x').idempotent).toBe(true);
    expect(defaults.webhook?.secret).toMatch(/^whsec_/);
    expect(() => counterpartOptionsFromEnv({ COUNTERPART_PORT: 'http' }, '/x')).toThrow();
    counterpart = await createCounterpart(down);
    const res = await call('/orders/A-1/status', { status: 'shipped' }, 'dev-counterpart-key');
    expect(res.status).toBe(503);
  });
});
