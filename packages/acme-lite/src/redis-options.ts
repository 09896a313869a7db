/**
 * The checks both Redis adapters (`redisChallengeStore`, `redisOrderLock`) make of what they
 * are given: a client with the commands they call, and a non-empty key prefix.
 */
import { AcmeError } from './errors.js';

/** Throws unless `client` has every one of `commands` as a function. */
export function checkRedisClient(who: string, client: unknown, commands: readonly string[]): void {
  for (const command of commands)
    if (typeof (client as Record<string, unknown> | undefined)?.[command] !== 'function')
      throw new AcmeError(
        'ERR_ACME_INVALID_ARGUMENT',
        `${who} needs a connected Redis client with ${command}() (node-redis createClient(), or an adapter)`,
      );
}

/** `prefix`, checked to be a non-empty string; `example` goes into the error. */
export function checkRedisPrefix(who: string, prefix: unknown, example: string): string {
  if (typeof prefix !== 'string' || prefix === '')
    throw new AcmeError(
      'ERR_ACME_INVALID_ARGUMENT',
      `${who} prefix must be a non-empty string (e.g. "${example}")`,
    );
  return prefix;
}
