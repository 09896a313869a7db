/**
 * A {@link ChallengeStore} in Redis, shared by every instance behind a load balancer: the CA's
 * HTTP-01 fetch may reach any of them, and each answers from the same keys. The client is a
 * structural interface (node-redis v4/v5 fits as it is), so this package does not depend on
 * a Redis driver.
 */
import { AcmeError } from './errors.js';
import type { ChallengeStore } from './http01.js';
import { checkRedisClient, checkRedisPrefix } from './redis-options.js';

/**
 * The three Redis commands the shared challenge store needs, in node-redis (v4/v5) form.
 *
 * @example
 * ```ts
 * import type { RedisChallengeClient } from '@fluxel/acme-lite';
 *
 * // node-redis fits as it is; a stand-in that answers like Redis:
 * const keys = new Map<string, string>();
 * const client: RedisChallengeClient = {
 *   set: async (key, value) => (keys.set(key, value), 'OK'),
 *   get: async (key) => keys.get(key) ?? null,
 *   del: async (key) => Number(keys.delete(key)),
 * };
 * console.log(await client.set('k', 'v', { EX: 60 })); // 'OK'
 * ```
 */
export interface RedisChallengeClient {
  set(key: string, value: string, options: { EX: number }): Promise<unknown>;
  get(key: string): Promise<string | null | undefined>;
  del(key: string): Promise<unknown>;
}

/**
 * Options of {@link redisChallengeStore}.
 *
 * @example
 * ```ts
 * import type { RedisChallengeStoreOptions } from '@fluxel/acme-lite';
 *
 * const options: RedisChallengeStoreOptions = { prefix: 'shop:acme:http01:', ttlSeconds: 900 };
 * console.log(options.ttlSeconds); // 900
 * ```
 */
export interface RedisChallengeStoreOptions {
  /** Put before every token to make the key. Default `fluxel:acme:http01:`. */
  readonly prefix?: string;
  /**
   * Seconds a challenge is kept when nobody deletes it (an instance stopped mid-order).
   * Whole number, 1 … 604 800 (7 days, an authorisation's lifetime at Let's Encrypt).
   * Default 3600: far longer than an order takes (it fails after 3 minutes pending).
   */
  readonly ttlSeconds?: number;
}

const MAX_TTL_SECONDS = 604_800;

/**
 * A {@link ChallengeStore} in Redis (`SET prefix+token keyAuthorization EX ttl`, `GET`, `DEL`):
 * the instance that orders writes the key authorisation, any instance answers the CA with
 * `respondToChallenge`. A failing Redis command rejects with `ERR_ACME_STORE` (the order
 * fails and is retried; the HTTP-01 listener answers 500). There is no `fetched` signal across
 * instances, so the client polls the CA on its schedule. For ioredis, pass
 * `{ set: (k, v, o) => r.set(k, v, 'EX', o.EX), get: (k) => r.get(k), del: (k) => r.del(k) }`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RedisChallengeClient, redisChallengeStore, respondToChallenge } from '@fluxel/acme-lite';
 *
 * // With node-redis: redisChallengeStore(await createClient({ url }).connect()).
 * // Here an in-memory stand-in that answers like Redis:
 * const keys = new Map<string, string>();
 * const redis: RedisChallengeClient = {
 *   set: async (key, value) => (keys.set(key, value), 'OK'),
 *   get: async (key) => keys.get(key) ?? null,
 *   del: async (key) => Number(keys.delete(key)),
 * };
 * const instanceA = redisChallengeStore(redis, { prefix: 'shop:acme:' });
 * const instanceB = redisChallengeStore(redis, { prefix: 'shop:acme:' });
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * await instanceA.set(token, `${token}.thumbprint`); // A ordered
 * const answer = await respondToChallenge(instanceB, 'GET', `/.well-known/acme-challenge/${token}`);
 * assert.equal(answer?.body, `${token}.thumbprint`); // B answers the CA
 * assert.ok(keys.has(`shop:acme:${token}`));
 * ```
 */
export function redisChallengeStore(
  client: RedisChallengeClient,
  options: RedisChallengeStoreOptions = {},
): ChallengeStore {
  checkRedisClient('redisChallengeStore', client, ['set', 'get', 'del']);
  const prefix = checkRedisPrefix(
    'redisChallengeStore',
    options.prefix ?? 'fluxel:acme:http01:',
    'myapp:acme:http01:',
  );
  const ttlSeconds = options.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS)
    throw new AcmeError(
      'ERR_ACME_INVALID_ARGUMENT',
      `redisChallengeStore ttlSeconds must be a whole number from 1 to ${MAX_TTL_SECONDS}, got ${String(ttlSeconds)}`,
    );
  const run = async <T>(what: string, command: () => Promise<T>): Promise<T> => {
    try {
      return await command();
    } catch (cause) {
      throw new AcmeError('ERR_ACME_STORE', `the challenge store (Redis) failed to ${what}`, {
        cause,
      });
    }
  };
  return {
    async set(token, keyAuthorization) {
      await run('store a challenge', () =>
        client.set(prefix + token, keyAuthorization, { EX: ttlSeconds }),
      );
    },
    async get(token) {
      const value = await run('read a challenge', () => client.get(prefix + token));
      return typeof value === 'string' ? value : undefined;
    },
    async delete(token) {
      await run('delete a challenge', () => client.del(prefix + token));
    },
  };
}
