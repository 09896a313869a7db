/**
 * The relay's DPoP replay cache in Redis when Redis loses its keys (gap 13 of docs/deploy.md):
 * the database, which outlives Redis, says whether an empty prefix is new or emptied. Real
 * Redis (`REDIS_URL`), on PGlite and on PostgreSQL. Each test has its own key prefix: the
 * relays of the other test files share the default one.
 */
import { randomUUID } from 'node:crypto';
import { missingDependency } from '@fluxel/internal/testing';
import {
  createDpopSigner,
  createDpopVerifier,
  generateKeyPair,
  LicenseError,
} from '@fluxel/license';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateRelay } from '../src/db.ts';
import { licenseProblem } from '../src/http.ts';
import { openReplayStore } from '../src/replay-store.ts';
import { POSTGRES_URL, postgresReachable, REDIS_URL, redisReachable } from './helpers.ts';

const redisSkip = (await redisReachable())
  ? undefined
  : missingDependency(`Redis at ${REDIS_URL}`, 'start redis-server or set REDIS_URL');
const pgSkip = (await postgresReachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');
if (redisSkip) console.warn(`${redisSkip}: the replay-cache tests are skipped`);
if (pgSkip) console.warn(`${pgSkip}: the replay-cache tests on PostgreSQL are skipped`);

const schema = `relay_replay_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
const backends = [
  { name: 'PGlite', skip: redisSkip, schema: undefined, open: () => openDatabase() },
  {
    name: 'PostgreSQL',
    skip: redisSkip ?? pgSkip,
    schema,
    open: () => openDatabase({ url: POSTGRES_URL, schema }),
  },
];
const url = 'https://relay.fluxel.test/v1/send';

describe.each(backends)('the relay replay cache in Redis, on $name', ({ skip, schema, open }) => {
  let db: Database;
  const redis = createClient({ url: REDIS_URL });
  const prefix = `fluxel-test:relay-replay:${randomUUID()}:`;

  beforeAll(async () => {
    if (skip) return;
    db = await open();
    await migrateRelay(db);
    await redis.connect();
  });
  afterAll(async () => {
    if (skip) return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(keys);
    await redis.quit();
    if (schema) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  it.skipIf(skip)(
    'a relay restarted against an emptied Redis took the empty cache for a new one (regression): only the first start of a deployment declares it new',
    async () => {
      const signer = createDpopSigner((await generateKeyPair()).privateJwk);
      // The first start of this deployment: nothing was recorded before, proofs pass at once.
      const first = createDpopVerifier({ replay: await openReplayStore(db, redis, { prefix }) });
      const captured = await signer.proof({ method: 'POST', url });
      await first.verify({ method: 'POST', url, proof: captured });
      expect(await redis.get(`${prefix}memory-since`)).toBe('0');

      // Redis loses its keys (restart without persistence, a move to another node), and the
      // relays start again with it: the database remembers that this cache was in use.
      const keys = await redis.keys(`${prefix}*`);
      await redis.del(keys);
      const restarted = createDpopVerifier({
        replay: await openReplayStore(db, redis, { prefix }),
      });
      const refused = await restarted.verify({ method: 'POST', url, proof: captured }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ code: 'ERR_LICENSE_STORAGE', claim: 'iat' });
      expect(Number(await redis.get(`${prefix}memory-since`))).toBeGreaterThan(0);
    },
  );

  it.skipIf(skip)(
    'instances starting at the same moment on a new deployment: exactly one declares the cache new, and none refuses',
    async () => {
      const fresh = `${prefix}race:`;
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => openReplayStore(db, redis, { prefix: fresh })),
      );
      const rows = await db.query('SELECT name FROM relay_replay_stores WHERE name = $1', [
        `redis:${fresh}`,
      ]);
      expect(rows.rows).toHaveLength(1);
      expect(await redis.get(`${fresh}memory-since`)).toBe('0');
      const signer = createDpopSigner((await generateKeyPair()).privateJwk);
      for (const store of stores)
        await createDpopVerifier({ replay: store }).verify({
          method: 'POST',
          url,
          proof: await signer.proof({ method: 'POST', url }),
        });
    },
  );
});

describe('a refusal of the replay cache over HTTP', () => {
  it('is a retryable 503 whose Retry-After says when a new proof succeeds', () => {
    const headers: Record<string, string> = {};
    const reply = { header: (name: string, value: string) => (headers[name] = value) };
    const problem = licenseProblem(
      new LicenseError('ERR_LICENSE_STORAGE', 'the DPoP replay cache lost its entries', {
        claim: 'iat',
        retryAfterSeconds: 7,
      }),
      reply as never,
    );
    expect(problem).toMatchObject({ status: 503 });
    expect(headers['retry-after']).toBe('7');
    expect(JSON.stringify(problem)).toContain('"retryAfter":7');
  });
});
