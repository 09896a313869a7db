/**
 * `@fluxel/acme-lite/hono`: HTTP-01 as a Hono middleware.
 *
 * ```ts
 * app.use(acmeChallenges(store)); // before your routes
 * ```
 * Answers `/.well-known/acme-challenge/<token>` from the store and calls `next()` for
 * everything else. No dependency on hono: the middleware only reads `c.req.method` and
 * `c.req.url` and returns a standard `Response`.
 */
import { type ChallengeStore, respondToChallenge } from './http01.js';

export type { ChallengeStore } from './http01.js';

/**
 * The part of a Hono `Context` the middleware reads.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryChallengeStore } from '@fluxel/acme-lite';
 * import { acmeChallenges, type HonoContextLike } from '@fluxel/acme-lite/hono';
 *
 * const c: HonoContextLike = { req: { method: 'GET', url: 'http://shop.example.org/.well-known/acme-challenge/unknown-token-0000' } };
 * const res = await acmeChallenges(new MemoryChallengeStore())(c, async () => {});
 * assert.equal(res?.status, 404);
 * ```
 */
export interface HonoContextLike {
  readonly req: { readonly method: string; readonly url: string };
}

/**
 * A Hono middleware function.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryChallengeStore } from '@fluxel/acme-lite';
 * import { acmeChallenges, type HonoMiddlewareLike } from '@fluxel/acme-lite/hono';
 *
 * const middleware: HonoMiddlewareLike = acmeChallenges(new MemoryChallengeStore());
 * let passedOn = false;
 * const res = await middleware({ req: { method: 'GET', url: 'http://shop.example.org/app' } }, async () => {
 *   passedOn = true;
 * });
 * assert.equal(res, undefined);
 * assert.equal(passedOn, true); // not a challenge path: your routes answer
 * ```
 */
export type HonoMiddlewareLike = (
  c: HonoContextLike,
  next: () => Promise<void>,
) => Promise<Response | undefined>;

/**
 * The middleware answering HTTP-01 challenges from `store`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Hono } from 'hono';
 * import { MemoryChallengeStore } from '@fluxel/acme-lite';
 * import { acmeChallenges } from '@fluxel/acme-lite/hono';
 *
 * const challenges = new MemoryChallengeStore();
 * const app = new Hono();
 * app.use(acmeChallenges(challenges)); // before your routes
 * app.get('/', (c) => c.text('shop'));
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * challenges.set(token, `${token}.thumbprint`);
 * const res = await app.request(`/.well-known/acme-challenge/${token}`);
 * assert.equal(await res.text(), `${token}.thumbprint`);
 * assert.equal(await (await app.request('/')).text(), 'shop');
 * ```
 */
export function acmeChallenges(store: ChallengeStore): HonoMiddlewareLike {
  return async (c, next) => {
    // The raw path (no URL normalisation, so "/../" tricks are seen and refused as they are).
    const path = c.req.url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/';
    const answer = await respondToChallenge(store, c.req.method, path);
    if (!answer) {
      await next();
      return undefined;
    }
    return new Response(answer.body || null, { status: answer.status, headers: answer.headers });
  };
}
