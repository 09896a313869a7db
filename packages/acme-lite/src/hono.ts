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

/** The part of a Hono `Context` the middleware reads. */
export interface HonoContextLike {
  readonly req: { readonly method: string; readonly url: string };
}

/** A Hono middleware function. */
export type HonoMiddlewareLike = (
  c: HonoContextLike,
  next: () => Promise<void>,
) => Promise<Response | undefined>;

/** The middleware answering HTTP-01 challenges from `store`. */
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
