/**
 * `@fluxel/acme-lite/fastify`: HTTP-01 as a Fastify plugin.
 *
 * ```ts
 * await app.register(acmeChallengePlugin(store));
 * ```
 * Adds `GET` (and Fastify's automatic `HEAD`) `/.well-known/acme-challenge/:token`, answered
 * from the store. No dependency on fastify: the plugin uses only `get`, `code`, `headers`
 * and `send`.
 */
import { ACME_CHALLENGE_PREFIX, type ChallengeStore, respondToChallenge } from './http01.js';

export type { ChallengeStore } from './http01.js';

/**
 * The part of a Fastify request the plugin reads.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { FastifyRequestLike } from '@fluxel/acme-lite/fastify';
 *
 * // A Fastify request has these (and much more).
 * const request: FastifyRequestLike = { method: 'GET', url: '/.well-known/acme-challenge/evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA' };
 * assert.equal(request.method, 'GET');
 * ```
 */
export interface FastifyRequestLike {
  readonly method: string;
  readonly url: string;
}

/**
 * The part of a Fastify reply the plugin uses.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { FastifyReplyLike } from '@fluxel/acme-lite/fastify';
 *
 * // A stand-in reply recording what the plugin sends.
 * let sent: string | undefined;
 * const reply: FastifyReplyLike = {
 *   code: () => reply,
 *   headers: () => reply,
 *   send: (payload) => (sent = payload),
 * };
 * reply.code(404).headers({}).send('not found');
 * assert.equal(sent, 'not found');
 * ```
 */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: string): unknown;
}

/**
 * The part of a Fastify instance the plugin uses.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { acmeChallengePlugin, type FastifyInstanceLike } from '@fluxel/acme-lite/fastify';
 * import { MemoryChallengeStore } from '@fluxel/acme-lite';
 *
 * const routes: string[] = [];
 * const app: FastifyInstanceLike = { get: (path) => routes.push(path) };
 * await acmeChallengePlugin(new MemoryChallengeStore())(app);
 * assert.deepEqual(routes, ['/.well-known/acme-challenge/:token']);
 * ```
 */
export interface FastifyInstanceLike {
  get(
    path: string,
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown;
}

/**
 * A Fastify plugin (async form) serving HTTP-01 challenges from `store`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import Fastify from 'fastify';
 * import { MemoryChallengeStore } from '@fluxel/acme-lite';
 * import { acmeChallengePlugin } from '@fluxel/acme-lite/fastify';
 *
 * const challenges = new MemoryChallengeStore();
 * const app = Fastify();
 * await app.register(acmeChallengePlugin(challenges));
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * challenges.set(token, `${token}.thumbprint`);
 * const res = await app.inject({ method: 'GET', url: `/.well-known/acme-challenge/${token}` });
 * assert.equal(res.statusCode, 200);
 * assert.equal(res.body, `${token}.thumbprint`);
 * await app.close();
 * ```
 */
export function acmeChallengePlugin(
  store: ChallengeStore,
): (fastify: FastifyInstanceLike) => Promise<void> {
  return async (fastify) => {
    fastify.get(`${ACME_CHALLENGE_PREFIX}:token`, async (request, reply) => {
      const answer = await respondToChallenge(store, request.method, request.url);
      const { status, headers, body } = answer ?? { status: 404, headers: {}, body: '' };
      return reply.code(status).headers(headers).send(body);
    });
  };
}
