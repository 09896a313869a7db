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

/** The part of a Fastify request the plugin reads. */
export interface FastifyRequestLike {
  readonly method: string;
  readonly url: string;
}

/** The part of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: string): unknown;
}

/** The part of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  get(
    path: string,
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown;
}

/** A Fastify plugin (async form) serving HTTP-01 challenges from `store`. */
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
