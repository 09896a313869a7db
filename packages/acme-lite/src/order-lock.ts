/**
 * The order lock: one order at a time for a certificate. `FileCertificateStore.lock` is the
 * default (a lock file holding a pid, for processes on one host); {@link redisOrderLock}
 * holds across hosts and containers, where pids mean nothing.
 */
import { AcmeError } from './errors.js';
import { checkRedisClient, checkRedisPrefix } from './redis-options.js';

/**
 * Takes the exclusive order lock for `domain` (the first name of the certificate) and
 * resolves to its release; rejects with `ERR_ACME_LOCKED` while another holder has it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { OrderLock } from '@fluxel/acme-lite';
 *
 * // One process: a Set of held domains.
 * const held = new Set<string>();
 * const lock: OrderLock = async (domain) => {
 *   if (held.has(domain)) throw new Error(`${domain} is being ordered`);
 *   held.add(domain);
 *   return async () => void held.delete(domain);
 * };
 * const release = await lock('shop.example.org');
 * await assert.rejects(lock('shop.example.org'));
 * await release();
 * ```
 */
export type OrderLock = (domain: string) => Promise<() => Promise<void>>;

/**
 * The two Redis commands the Redis order lock needs, in node-redis (v4/v5) form: `SET … NX PX`
 * and `EVAL` (for the compare-and-delete release).
 *
 * @example
 * ```ts
 * import type { RedisLockClient } from '@fluxel/acme-lite';
 *
 * // node-redis fits as it is; a stand-in that answers like Redis:
 * const keys = new Map<string, string>();
 * const client: RedisLockClient = {
 *   set: async (key, value) => (keys.has(key) ? null : (keys.set(key, value), 'OK')),
 *   eval: async (_script, { keys: [key], arguments: [token] }) =>
 *     keys.get(key as string) === token ? Number(keys.delete(key as string)) : 0,
 * };
 * console.log(await client.set('k', 't', { NX: true, PX: 1000 })); // 'OK'
 * ```
 */
export interface RedisLockClient {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * Options of {@link redisOrderLock}.
 *
 * @example
 * ```ts
 * import type { RedisOrderLockOptions } from '@fluxel/acme-lite';
 *
 * const options: RedisOrderLockOptions = { prefix: 'shop:acme:lock:', ttlMs: 300_000 };
 * console.log(options.ttlMs); // 300000
 * ```
 */
export interface RedisOrderLockOptions {
  /** Put before the domain to make the key. Default `fluxel:acme:lock:`. */
  readonly prefix?: string;
  /**
   * The lock expires after this many milliseconds when its holder never releases it (it was
   * killed mid-order). Longer than an order takes (an order still pending after 3 minutes
   * fails): 60 000 … 86 400 000. Default 600 000 (10 minutes, like the file lock's `staleLockMs`).
   */
  readonly ttlMs?: number;
}

/** Deletes the key only when it still holds our token (not a later holder's). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * An {@link OrderLock} in Redis, shared by every instance: `SET key token NX PX ttl` takes it
 * (a random token per holder), and the release deletes the key only while it still holds that
 * token (a Lua compare-and-delete), so a holder whose lock expired never frees a newer
 * holder's. The release never rejects: when Redis is unreachable then, the key expires after
 * `ttlMs`. For ioredis, adapt both commands: `set` as `r.set(k, v, 'PX', o.PX, 'NX')` and
 * `eval` as `r.eval(s, o.keys.length, ...o.keys, ...o.arguments)`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RedisLockClient, redisOrderLock } from '@fluxel/acme-lite';
 *
 * // With node-redis: redisOrderLock(await createClient({ url }).connect()).
 * // Here an in-memory stand-in that answers like Redis:
 * const keys = new Map<string, string>();
 * const redis: RedisLockClient = {
 *   set: async (key, value) => (keys.has(key) ? null : (keys.set(key, value), 'OK')),
 *   eval: async (_script, { keys: [key], arguments: [token] }) =>
 *     keys.get(key as string) === token ? Number(keys.delete(key as string)) : 0,
 * };
 * const instanceA = redisOrderLock(redis);
 * const instanceB = redisOrderLock(redis);
 * const release = await instanceA('shop.example.org');
 * await assert.rejects(instanceB('shop.example.org'), { code: 'ERR_ACME_LOCKED' });
 * await release();
 * await (await instanceB('shop.example.org'))(); // free again
 * ```
 */
export function redisOrderLock(
  client: RedisLockClient,
  options: RedisOrderLockOptions = {},
): OrderLock {
  checkRedisClient('redisOrderLock', client, ['set', 'eval']);
  const prefix = checkRedisPrefix(
    'redisOrderLock',
    options.prefix ?? 'fluxel:acme:lock:',
    'myapp:acme:lock:',
  );
  const ttlMs = options.ttlMs ?? 600_000;
  if (!Number.isInteger(ttlMs) || ttlMs < 60_000 || ttlMs > 86_400_000)
    throw new AcmeError(
      'ERR_ACME_INVALID_ARGUMENT',
      `redisOrderLock ttlMs must be a whole number of milliseconds from 60000 to 86400000, got ${String(ttlMs)}`,
    );
  return async (domain) => {
    const key = prefix + domain.toLowerCase();
    const token = crypto.randomUUID();
    let reply: unknown;
    try {
      reply = await client.set(key, token, { NX: true, PX: ttlMs });
    } catch (cause) {
      throw new AcmeError('ERR_ACME_STORE', 'the order lock (Redis) is unreachable', { cause });
    }
    if (reply !== 'OK')
      throw new AcmeError('ERR_ACME_LOCKED', `${domain} is being ordered by another instance`);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      // Never rejects: the order's outcome matters more, and a key left behind expires.
      await client.eval(RELEASE, { keys: [key], arguments: [token] }).catch(() => {});
    };
  };
}
