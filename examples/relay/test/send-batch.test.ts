/**
 * `POST /v1/send-batch`: many sends in one request, one DPoP proof, each item with its own
 * idempotency key, its own outcome and its own audit record — exactly what a single `send`
 * of the item would have done. On PGlite and on PostgreSQL; concurrent batches over separate
 * connections (a fresh undici Agent per request). No timed assertions.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { createDpopSigner, type DpopSigner, generateKeyPair } from '@fluxel/license';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayOptions } from '../src/relay.ts';
import {
  API_KEY,
  type Harness,
  POSTGRES_URL,
  postgresReachable,
  rawRequest,
  startHarness,
} from './helpers.ts';

const CONNECTION = 'shop-1';
/** Orders with this number are refused by the third party (a wrapped connector). */
const REFUSED_ORDER = 'REFUSE-1';
const N = 20;

const pgSkip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');

interface Device {
  device: DpopSigner;
  accessToken: string;
}

async function activatedDevice(h: Harness): Promise<Device> {
  const device = createDpopSigner((await generateKeyPair()).privateJwk);
  const res = await rawRequest(h, 'POST', '/v1/activate', {
    device,
    body: JSON.stringify({ licenseKey: await h.issueKey() }),
  });
  expect(res.status).toBe(201);
  const accessToken = String(res.json?.accessToken);
  const put = await rawRequest(h, 'PUT', `/v1/connections/${CONNECTION}/credentials`, {
    device,
    accessToken,
    body: JSON.stringify({ kind: 'api-key', fields: { apiKey: API_KEY } }),
  });
  expect(put.status).toBe(204);
  return { device, accessToken };
}

const item = (order: string, key = randomUUID()) => ({
  idempotencyKey: key,
  connection: CONNECTION,
  operation: 'order.status',
  payload: { order, status: 'shipped' },
});

const batch = (h: Harness, d: Device, items: unknown[], extra: { proof?: string } = {}) =>
  rawRequest(h, 'POST', '/v1/send-batch', {
    ...(extra.proof ? { proof: extra.proof } : { device: d.device }),
    accessToken: d.accessToken,
    body: JSON.stringify({ items }),
  });

const schema = `relay_batch_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
const backends: {
  name: string;
  skip: string | undefined;
  relay: () => Partial<RelayOptions>;
  cleanup?: () => Promise<void>;
}[] = [
  { name: 'PGlite', skip: undefined, relay: () => ({}) },
  {
    name: 'PostgreSQL',
    skip: pgSkip,
    relay: () => ({ databaseUrl: POSTGRES_URL, databaseSchema: schema }),
    async cleanup() {
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`send-batch (${backend.name})`, () => {
    let h: Harness;
    let limited: Harness;
    const effectsFor = (key: string) =>
      h.counterpart.effects.filter((e) => e.idempotencyKey === key);

    beforeAll(async () => {
      h = await startHarness({
        relay: backend.relay(),
        wrapConnector: (connector) => ({
          ...connector,
          name: connector.name,
          async send(call) {
            const order = (call.payload as { order?: string } | undefined)?.order;
            if (order === REFUSED_ORDER) return { kind: 'rejected', upstreamStatus: 400 };
            return connector.send(call);
          },
        }),
      });
      // Same storage and data directory (secrets, KEK) as a second instance.
      limited = await startHarness({
        dataDir: h.dataDir,
        relay: {
          ...backend.relay(),
          rateLimit: { perLicense: 5, perIp: 1_000_000, windowMs: 3_600_000 },
        },
      });
    });

    afterAll(async () => {
      await limited?.close();
      await h?.close();
      await backend.cleanup?.();
    });

    it('mixed outcomes in one batch: delivered, refused by the third party, unsupported, conflict and a replayed key each get their own result', async () => {
      const { client } = await h.client();
      await client.activate({ body: { licenseKey: await h.issueKey() } });
      await client.putCredentials({
        connection: CONNECTION,
        body: { kind: 'api-key', fields: { apiKey: API_KEY } },
      });
      // A key sent before by a single send: the batch replays it (same body) …
      const earlier = item('B-0');
      await client.send({
        connection: CONNECTION,
        idempotencyKey: earlier.idempotencyKey,
        body: { operation: earlier.operation, payload: earlier.payload },
      });
      // … and one sent before with another body is a conflict for that item alone.
      const reused = item('B-9');
      await client.send({
        connection: CONNECTION,
        idempotencyKey: reused.idempotencyKey,
        body: { operation: 'order.status', payload: { order: 'B-9', status: 'cancelled' } },
      });
      const fresh = item('B-1');
      const refused = item(REFUSED_ORDER);
      const unsupported = { ...item('B-2'), operation: 'order.delete' };
      const { results } = await client.sendBatch({
        body: { items: [fresh, refused, earlier, unsupported, reused] },
      });
      expect(results.map((r) => [r.idempotencyKey, r.status, r.httpStatus])).toEqual([
        [fresh.idempotencyKey, 'delivered', 200],
        [refused.idempotencyKey, 'rejected', 422],
        [earlier.idempotencyKey, 'delivered', 200],
        [unsupported.idempotencyKey, 'rejected', 422],
        [reused.idempotencyKey, 'rejected', 409],
      ]);
      expect(results[0]).toMatchObject({ upstreamStatus: 200, replayed: false });
      expect(results[1]?.problem).toMatchObject({ status: 422, upstreamStatus: 400 });
      expect(results[2]).toMatchObject({ replayed: true });
      expect(results[3]?.problem?.detail).toBe('unknown operation');
      expect(results[4]?.problem?.code).toBe('ERR_IDEMPOTENCY_CONFLICT');
      expect(effectsFor(fresh.idempotencyKey)).toHaveLength(1);
      expect(effectsFor(earlier.idempotencyKey)).toHaveLength(1);
      expect(effectsFor(reused.idempotencyKey)).toHaveLength(1);
      expect(effectsFor(unsupported.idempotencyKey)).toHaveLength(0);
      // One audit record per item, as for single sends.
      const audited = h.audited('relay.send').map((e) => e.data?.idempotencyKey);
      for (const key of [fresh, refused, unsupported, reused].map((i) => i.idempotencyKey))
        expect(audited).toContain(key);
      // The same batch again replays every item; nothing is forwarded twice.
      const again = await client.sendBatch({ body: { items: [fresh, refused] } });
      expect(again.results.map((r) => [r.status, r.replayed])).toEqual([
        ['delivered', true],
        ['rejected', undefined],
      ]);
      expect(effectsFor(fresh.idempotencyKey)).toHaveLength(1);
    });

    it('exactly once per item: the same batch of N items sent twice at once forwards each item once', async () => {
      const d = await activatedDevice(h);
      const items = Array.from({ length: N }, (_, i) => item(`C-${i}`));
      const [a, b] = await Promise.all([batch(h, d, items), batch(h, d, items)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      for (const i of items) expect(effectsFor(i.idempotencyKey)).toHaveLength(1);
      // Each item: delivered fresh once; the other batch replayed it or found it in flight.
      const results = [a, b].flatMap(
        (r) => (r.json?.results as { status: string; replayed?: boolean }[]) ?? [],
      );
      expect(results.filter((r) => r.status === 'delivered' && r.replayed === false)).toHaveLength(
        N,
      );
      for (const r of results) expect(['delivered', 'unavailable']).toContain(r.status);
    });

    it('a bad batch (too many items, a duplicate key, one malformed item, no items) is a 400 problem and forwards nothing', async () => {
      const d = await activatedDevice(h);
      const before = h.counterpart.effects.length;
      const tooMany = Array.from({ length: 101 }, (_, i) => item(`D-${i}`));
      const dup = item('D-dup');
      const bad = [
        tooMany,
        [item('D-1'), dup, { ...item('D-2'), idempotencyKey: dup.idempotencyKey }],
        [item('D-3'), { ...item('D-4'), idempotencyKey: 'not-a-uuid' }],
        [item('D-5'), { ...item('D-6'), connection: 'Bad Connection' }],
        [item('D-7'), { ...item('D-8'), surprise: true }],
        [],
      ];
      for (const items of bad) {
        const res = await batch(h, d, items);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json?.code).toBe('ERR_VALIDATION');
      }
      expect(h.counterpart.effects.length).toBe(before);
    });

    it('no proof or a replayed proof is 401 and forwards nothing', async () => {
      const d = await activatedDevice(h);
      const before = h.counterpart.effects.length;
      const body = JSON.stringify({ items: [item('E-1')] });
      const none = await rawRequest(h, 'POST', '/v1/send-batch', {
        accessToken: d.accessToken,
        body,
      });
      expect(none.status).toBe(401);
      const url = `${h.relay.url}/v1/send-batch`;
      const nonce = h.relay.authority.nonce();
      const proof = await d.device.proof({
        method: 'POST',
        url,
        accessToken: d.accessToken,
        body,
        ...(nonce ? { nonce } : {}),
      });
      const first = await rawRequest(h, 'POST', '/v1/send-batch', {
        accessToken: d.accessToken,
        proof,
        body,
      });
      expect(first.status).toBe(200);
      const replayed = await rawRequest(h, 'POST', '/v1/send-batch', {
        accessToken: d.accessToken,
        proof,
        body,
      });
      expect(replayed.status).toBe(401);
      expect(replayed.json?.code).toBe('ERR_DPOP_REPLAY');
      expect(h.counterpart.effects.length).toBe(before + 1);
    });

    it('rate limit counts items, not requests: a batch of more items than the limit is 429 and forwards nothing', async () => {
      const d = await activatedDevice(limited);
      // Credentials took 1 of the license's 5; a batch of 6 items is refused as a whole.
      const before = limited.counterpart.effects.length;
      const res = await rawRequest(limited, 'POST', '/v1/send-batch', {
        device: d.device,
        accessToken: d.accessToken,
        body: JSON.stringify({ items: Array.from({ length: 6 }, (_, i) => item(`F-${i}`)) }),
      });
      expect(res.status).toBe(429);
      expect(res.json?.code).toBe('ERR_RATE_LIMITED');
      expect(limited.counterpart.effects.length).toBe(before);
    });
  });
}
