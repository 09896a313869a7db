/**
 * The relay under concurrent requests: N competing requests fired at once, each over its own
 * connection (a fresh undici Agent per request), on PGlite and on PostgreSQL (and, for the
 * DPoP replay cache and the rate limiter, with Redis; for the replay cache also with proofs
 * checked on three verification threads at once). Each policy is asserted exactly —
 * never with timings.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { createDpopSigner, type DpopSigner, generateKeyPair } from '@fluxel/license';
import { generateWebhookSecret } from '@fluxel-example/counterpart';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayOptions } from '../src/relay.ts';
import {
  API_KEY,
  type Harness,
  POSTGRES_URL,
  postgresReachable,
  REDIS_URL,
  rawRequest,
  redisReachable,
  startHarness,
} from './helpers.ts';

/** Competing requests per case. */
const N = 8;
const CONNECTION = 'shop-1';
const redisUrl = REDIS_URL;

const pgSkip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
const redisSkip = (await redisReachable())
  ? undefined
  : missingDependency(`Redis at ${redisUrl}`, 'start redis-server or set REDIS_URL');
if (pgSkip) console.warn(`${pgSkip}: PostgreSQL concurrency tests skipped`);
if (redisSkip) console.warn(`${redisSkip}: Redis concurrency tests skipped`);

const newDevice = async () => createDpopSigner((await generateKeyPair()).privateJwk);

interface Device {
  device: DpopSigner;
  accessToken: string;
  licenseId: string;
  /** The connection's own webhook secret (so a webhook names this license alone). */
  webhookSecret: string;
}

/** A freshly issued license activated by a new device, with credentials for CONNECTION. */
async function activatedDevice(h: Harness): Promise<Device> {
  const device = await newDevice();
  const res = await rawRequest(h, 'POST', '/v1/activate', {
    device,
    body: JSON.stringify({ licenseKey: await h.issueKey() }),
  });
  expect(res.status).toBe(201);
  const accessToken = String(res.json?.accessToken);
  const webhookSecret = generateWebhookSecret();
  const put = await rawRequest(h, 'PUT', `/v1/connections/${CONNECTION}/credentials`, {
    device,
    accessToken,
    body: JSON.stringify({
      kind: 'api-key',
      fields: { apiKey: API_KEY, webhookSecret },
    }),
  });
  expect(put.status).toBe(204);
  return { device, accessToken, licenseId: String(res.json?.licenseId), webhookSecret };
}

/** `count` copies of `fn`, started together (each opens its own connection). */
const atOnce = <T>(count: number, fn: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: count }, (_, i) => fn(i)));

const statuses = (results: { status: number }[]) =>
  results.map((r) => r.status).sort((x, y) => x - y);

interface Backend {
  readonly name: string;
  readonly skip: string | undefined;
  /** Relay options of this backend (database, Redis). */
  relay(): Partial<RelayOptions>;
  /** Which of the cases run here. */
  readonly cases: ReadonlySet<'all' | 'replay' | 'rate'>;
  cleanup?(): Promise<void>;
}

const schema = `relay_conc_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
const backends: Backend[] = [
  { name: 'PGlite, memory', skip: undefined, relay: () => ({}), cases: new Set(['all']) },
  {
    name: 'PostgreSQL, memory',
    skip: pgSkip,
    relay: () => ({ databaseUrl: POSTGRES_URL, databaseSchema: schema }),
    cases: new Set(['all']),
    async cleanup() {
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  },
  // Cross-core: the signatures are checked on three worker threads at once; the replay cache
  // (on the main thread) still accepts the proof once.
  {
    name: 'PGlite, memory, 3 verification threads',
    skip: undefined,
    relay: () => ({ verifyThreads: 3 }),
    cases: new Set(['replay']),
  },
  {
    name: 'PGlite, Redis',
    skip: redisSkip,
    relay: () => ({ redisUrl }),
    cases: new Set(['replay', 'rate']),
  },
];

for (const backend of backends) {
  const runs = (which: 'all' | 'replay' | 'rate') =>
    backend.cases.has('all') || backend.cases.has(which);

  describe.skipIf(backend.skip)(`concurrent requests (${backend.name})`, () => {
    let h: Harness;
    /** A second instance over the same storage with a per-license limit of RATE_LIMIT. */
    let limited: Harness;
    const RATE_LIMIT = 5;

    beforeAll(async () => {
      h = await startHarness({ relay: backend.relay() });
      limited = await startHarness({
        relay: {
          ...backend.relay(),
          rateLimit: { perLicense: RATE_LIMIT, perIp: 1_000_000, windowMs: 3_600_000 },
        },
      });
    });

    afterAll(async () => {
      await limited?.close();
      await h?.close();
      await backend.cleanup?.();
    });

    if (runs('all'))
      it('activation race: one license key activated by N devices at once binds exactly one device', async () => {
        const licenseKey = await h.issueKey();
        const devices = await atOnce(N, () => newDevice());
        const results = await Promise.all(
          devices.map((device) =>
            rawRequest(h, 'POST', '/v1/activate', {
              device,
              body: JSON.stringify({ licenseKey }),
            }),
          ),
        );
        expect(statuses(results)).toEqual([201, ...Array(N - 1).fill(403)]);
        for (const r of results.filter((x) => x.status === 403))
          expect(r.json?.code).toBe('ERR_LICENSE_ACTIVATION_FAILED');
        // The bound device is the one that got tokens: it is served, the others are not.
        const winner = results.findIndex((r) => r.status === 201);
        const accessToken = String(results[winner]?.json?.accessToken);
        const status = await rawRequest(h, 'GET', '/v1/status', {
          device: devices[winner] as DpopSigner,
          accessToken,
        });
        expect(status.status).toBe(200);
      });

    if (runs('replay'))
      it('DPoP replay: the same proof (one jti) sent N times at once is accepted exactly once', async () => {
        const { device, accessToken } = await activatedDevice(h);
        const url = `${h.relay.url}/v1/status`;
        const nonce = h.relay.authority.nonce();
        const proof = await device.proof({
          method: 'GET',
          url,
          accessToken,
          ...(nonce ? { nonce } : {}),
        });
        const results = await atOnce(N, () =>
          rawRequest(h, 'GET', '/v1/status', { accessToken, proof }),
        );
        expect(statuses(results)).toEqual([200, ...Array(N - 1).fill(401)]);
        for (const r of results.filter((x) => x.status === 401))
          expect(r.json?.code).toBe('ERR_DPOP_REPLAY');
      });

    if (runs('all'))
      it('idempotent send: one Idempotency-Key sent N times at once is forwarded to the third party exactly once', async () => {
        const { device, accessToken } = await activatedDevice(h);
        const key = randomUUID();
        const body = JSON.stringify({
          operation: 'order.status',
          payload: { order: 'C-1', status: 'shipped' },
        });
        const results = await atOnce(N, () =>
          rawRequest(h, 'POST', `/v1/connections/${CONNECTION}/send`, {
            device,
            accessToken,
            body,
            headers: { 'idempotency-key': key },
          }),
        );
        expect(h.counterpart.effects.filter((e) => e.idempotencyKey === key)).toHaveLength(1);
        // Exactly one forwarded; the others replayed it or were told it is in progress (503).
        const fresh = results.filter((r) => r.status === 200 && r.json?.replayed === false);
        expect(fresh).toHaveLength(1);
        for (const r of results)
          expect(
            (r.status === 200 && typeof r.json?.replayed === 'boolean') || r.status === 503,
          ).toBe(true);
        // Afterwards the key answers a replay, still without a second effect.
        const after = await rawRequest(h, 'POST', `/v1/connections/${CONNECTION}/send`, {
          device,
          accessToken,
          body,
          headers: { 'idempotency-key': key },
        });
        expect(after.json).toMatchObject({ status: 'delivered', replayed: true });
        expect(h.counterpart.effects.filter((e) => e.idempotencyKey === key)).toHaveLength(1);
      });

    if (runs('all'))
      it('mailbox ack: one event acknowledged N times at once is deleted once (acked counts sum to 1)', async () => {
        const { device, accessToken, licenseId, webhookSecret } = await activatedDevice(h);
        const hookUrl = (h as { hookUrl?: (c: string, l?: string) => Promise<string> }).hookUrl;
        const hook = await h.hook(CONNECTION, {
          secret: webhookSecret,
          ...(hookUrl ? { url: await hookUrl(CONNECTION, licenseId) } : {}),
        });
        expect(hook.status).toBe(204);
        const picked = await rawRequest(h, 'GET', '/v1/mailbox', { device, accessToken });
        expect(((picked.json?.events ?? []) as { id: string }[]).map((e) => e.id)).toEqual([
          hook.id,
        ]);
        const results = await atOnce(N, () =>
          rawRequest(h, 'POST', '/v1/mailbox/ack', {
            device,
            accessToken,
            body: JSON.stringify({ ids: [hook.id] }),
          }),
        );
        expect(results.map((r) => r.status)).toEqual(Array(N).fill(200));
        expect(results.reduce((sum, r) => sum + Number(r.json?.acked), 0)).toBe(1);
        const after = await rawRequest(h, 'GET', '/v1/mailbox', { device, accessToken });
        expect(after.json?.events).toEqual([]);
      });

    if (runs('all'))
      it('credentials: N different values set at once leave one row, holding one of them whole', async () => {
        const { device, accessToken, licenseId } = await activatedDevice(h);
        const results = await atOnce(N, (i) =>
          rawRequest(h, 'PUT', `/v1/connections/${CONNECTION}/credentials`, {
            device,
            accessToken,
            body: JSON.stringify({
              kind: 'api-key',
              fields: { apiKey: API_KEY, variant: `v${i}` },
            }),
          }),
        );
        expect(results.map((r) => r.status)).toEqual(Array(N).fill(204));
        const { rows } = await h.relay.database.query(
          'SELECT count(*)::int AS n FROM relay_credentials WHERE license_id = $1 AND connection = $2',
          [licenseId, CONNECTION],
        );
        expect(Number(rows[0]?.n)).toBe(1);
        // The stored value opens (one writer's whole value, not a mix): a send uses it.
        const sent = await rawRequest(h, 'POST', `/v1/connections/${CONNECTION}/send`, {
          device,
          accessToken,
          body: JSON.stringify({
            operation: 'order.status',
            payload: { order: 'C-2', status: 'packed' },
          }),
          headers: { 'idempotency-key': randomUUID() },
        });
        expect(sent.status).toBe(200);
        const status = await rawRequest(h, 'GET', '/v1/status', { device, accessToken });
        expect(((status.json?.connections ?? []) as { id: string }[]).map((c) => c.id)).toEqual([
          CONNECTION,
        ]);
      });

    if (runs('rate'))
      it(`rate limit per license: ${RATE_LIMIT} + ${N} requests at once admit exactly ${RATE_LIMIT}`, async () => {
        // Activation counts per IP only; credentials are not stored, so no request is spent.
        const device = await newDevice();
        const activated = await rawRequest(limited, 'POST', '/v1/activate', {
          device,
          body: JSON.stringify({ licenseKey: await limited.issueKey() }),
        });
        expect(activated.status).toBe(201);
        const accessToken = String(activated.json?.accessToken);
        const results = await atOnce(RATE_LIMIT + N, () =>
          rawRequest(limited, 'GET', '/v1/status', { device, accessToken }),
        );
        expect(statuses(results)).toEqual([...Array(RATE_LIMIT).fill(200), ...Array(N).fill(429)]);
        for (const r of results.filter((x) => x.status === 429)) {
          expect(r.json?.code).toBe('ERR_RATE_LIMITED');
          expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        }
      });
  });
}
