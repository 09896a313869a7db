/**
 * A signed webhook is stored once: replayed after the agent acked it (within the signature's
 * five-minute window) it is answered like the first delivery (204, so the sender stops) and
 * not stored or handed out again; sent N times at once over separate connections it makes
 * exactly one mailbox row. On PGlite, on PostgreSQL, and with Redis configured.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_SEEN_MS } from '../src/webhooks.ts';
import {
  type Harness,
  type HarnessOptions,
  POSTGRES_URL,
  postgresReachable,
  REDIS_URL,
  redisReachable,
  startHarness,
} from './helpers.ts';
import {
  type HookedLicense,
  hookedLicense,
  mailboxRows,
  signedWebhook,
} from './webhook-support.ts';

const AT_ONCE = 12;
const redisUrl = REDIS_URL;

const skipPostgres = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
const skipRedis = (await redisReachable())
  ? undefined
  : missingDependency(`Redis at ${redisUrl}`, 'start redis-server or set REDIS_URL');

function replaySuite(
  name: string,
  skip: string | undefined,
  setup: () => Promise<{ options: HarnessOptions; cleanup?: () => Promise<void> }>,
) {
  describe.skipIf(skip !== undefined)(`webhook replay (${name})`, () => {
    let h: Harness;
    let license: HookedLicense;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const prepared = await setup();
      cleanup = prepared.cleanup;
      h = await startHarness(prepared.options);
      license = await hookedLicense(h, `replay-${randomUUID().slice(0, 8)}`);
    });

    afterAll(async () => {
      await h?.close();
      await cleanup?.();
    });

    it('a signed webhook replayed after the ack is answered 204 and not stored or handed out again', async () => {
      const message = signedWebhook(h, license.url, license.secret);
      expect(await message.send()).toBe(204);
      const { events } = await license.client.pickup({ wait: 0 });
      expect(events.map((e) => e.id)).toEqual([message.id]);
      expect(await license.client.ack({ body: { ids: [message.id] } })).toEqual({ acked: 1 });

      expect(await message.send()).toBe(204);
      expect(await mailboxRows(h, message.id)).toBe(0);
      expect((await license.client.pickup({ wait: 0 })).events).toEqual([]);
      const received = h.audited('mailbox.receive').filter((e) => e.target?.id === message.id);
      expect(received.map((e) => e.data?.duplicate)).toEqual([false, true]);
    });

    it(`the same signed webhook sent ${AT_ONCE} times at once makes exactly one mailbox row`, async () => {
      const message = signedWebhook(h, license.url, license.secret);
      const statuses = await Promise.all(Array.from({ length: AT_ONCE }, () => message.send()));
      expect(statuses).toEqual(Array(AT_ONCE).fill(204));
      expect(await mailboxRows(h, message.id)).toBe(1);
      const received = h.audited('mailbox.receive').filter((e) => e.target?.id === message.id);
      expect(received).toHaveLength(AT_ONCE);
      expect(received.filter((e) => e.data?.duplicate === false)).toHaveLength(1);
      const { events } = await license.client.pickup({ wait: 0 });
      expect(events.map((e) => e.id)).toEqual([message.id]);
      await license.client.ack({ body: { ids: [message.id] } });
    });

    it('a refused (forged) copy does not spend the id: the genuine webhook is still stored', async () => {
      const message = signedWebhook(h, license.url, license.secret);
      const forged = `v1,${Buffer.alloc(32, 7).toString('base64')}`;
      expect(await message.send({ signature: forged })).toBe(401);
      expect(await message.send()).toBe(204);
      expect(await mailboxRows(h, message.id)).toBe(1);
      await license.client.ack({ body: { ids: [message.id] } });
    });

    it('remembered ids are purged once past the window', async () => {
      const message = signedWebhook(h, license.url, license.secret);
      expect(await message.send()).toBe(204);
      await license.client.ack({ body: { ids: [message.id] } });
      const seen = async () =>
        Number(
          (
            await h.relay.database.query(
              'SELECT count(*)::int AS n FROM relay_webhook_seen WHERE id = $1',
              [message.id],
            )
          ).rows[0]?.n,
        );
      expect(await seen()).toBe(1);
      await h.relay.purgeExpired();
      expect(await seen()).toBe(1);
      h.clockOffset.ms = WEBHOOK_SEEN_MS + 60_000;
      try {
        await h.relay.purgeExpired();
        expect(await seen()).toBe(0);
        // By then the same signed message is stale: still not stored.
        expect(await message.send()).toBe(401);
        expect(await mailboxRows(h, message.id)).toBe(0);
      } finally {
        h.clockOffset.ms = 0;
      }
    });
  });
}

replaySuite('PGlite', undefined, async () => ({ options: {} }));

replaySuite('PostgreSQL', skipPostgres, async () => {
  const schema = `relay_replay_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const database: Database = await openDatabase({ url: POSTGRES_URL, schema });
  return {
    options: { database },
    cleanup: async () => {
      await database.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await database.close();
    },
  };
});

replaySuite('Redis configured', skipRedis, async () => ({
  options: { relay: { redisUrl, rateLimit: false } },
}));
