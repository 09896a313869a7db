/**
 * HTTP-01 (RFC 8555 §8.3): where key authorisations live while a challenge is open, and a
 * framework-neutral responder that turns a request path into a response. Adapters for
 * node:http (in `./node`) and any other server are a few lines around {@link respondToChallenge}.
 */

/**
 * The path prefix the CA fetches.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ACME_CHALLENGE_PREFIX } from '@fluxel/acme-lite';
 *
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * assert.equal(`${ACME_CHALLENGE_PREFIX}${token}`, `/.well-known/acme-challenge/${token}`);
 * ```
 */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/**
 * Where key authorisations are kept while challenges are open. Implement it over Redis or a
 * database so that every instance behind a load balancer can answer the CA.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type ChallengeStore, respondToChallenge } from '@fluxel/acme-lite';
 *
 * // A store every instance behind the load balancer shares (a Map stands in for Redis here).
 * const shared = new Map<string, string>();
 * const store: ChallengeStore = {
 *   set: async (token, keyAuthorization) => void shared.set(token, keyAuthorization),
 *   get: async (token) => shared.get(token),
 *   delete: async (token) => void shared.delete(token),
 * };
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * await store.set(token, `${token}.thumbprint`);
 * const answer = await respondToChallenge(store, 'GET', `/.well-known/acme-challenge/${token}`);
 * assert.equal(answer?.body, `${token}.thumbprint`);
 * ```
 */
export interface ChallengeStore {
  set(token: string, keyAuthorization: string): void | Promise<void>;
  get(token: string): string | undefined | Promise<string | undefined>;
  delete(token: string): void | Promise<void>;
  /**
   * Optional: resolves shortly after the CA has fetched `token` from this store (its
   * validators fetch from several places, so it settles `settleMs` after the last fetch). The
   * client then polls at once instead of waiting for its next scheduled poll. Stores shared
   * by several instances may leave it out; the client then polls on its schedule.
   */
  fetched?(token: string, settleMs?: number): Promise<void>;
}

/**
 * An in-process {@link ChallengeStore}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryChallengeStore } from '@fluxel/acme-lite';
 *
 * const challenges = new MemoryChallengeStore();
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * challenges.set(token, `${token}.thumbprint`);
 * assert.equal(challenges.get(token), `${token}.thumbprint`);
 * assert.equal(challenges.size, 1);
 * challenges.delete(token);
 * assert.equal(challenges.size, 0);
 * ```
 */
export class MemoryChallengeStore implements ChallengeStore {
  readonly #map = new Map<string, string>();
  readonly #waiters = new Map<string, { settleMs: number; timer?: unknown; resolve(): void }[]>();
  set(token: string, keyAuthorization: string): void {
    this.#map.set(token, keyAuthorization);
  }
  get(token: string): string | undefined {
    const value = this.#map.get(token);
    if (value !== undefined) {
      for (const waiter of this.#waiters.get(token) ?? []) {
        if (waiter.timer !== undefined) clearTimeout(waiter.timer as number);
        waiter.timer = setTimeout(waiter.resolve, waiter.settleMs);
      }
    }
    return value;
  }
  delete(token: string): void {
    this.#map.delete(token);
    for (const waiter of this.#waiters.get(token) ?? []) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer as number);
    }
    this.#waiters.delete(token);
  }
  fetched(token: string, settleMs = 1): Promise<void> {
    return new Promise<void>((resolve) => {
      const list = this.#waiters.get(token) ?? [];
      list.push({ settleMs, resolve });
      this.#waiters.set(token, list);
    });
  }
  /** Number of open challenges. */
  get size(): number {
    return this.#map.size;
  }
}

/**
 * True for a well-formed challenge token: base64url characters only (RFC 8555 §8.3), 16 to
 * 256 of them. Anything else (dots, slashes, percent escapes) is never looked up.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { isValidToken } from '@fluxel/acme-lite';
 *
 * assert.equal(isValidToken('evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA'), true);
 * assert.equal(isValidToken('../../etc/passwd'), false);
 * ```
 */
export function isValidToken(token: string): boolean {
  return typeof token === 'string' && /^[A-Za-z0-9_-]{16,256}$/.test(token);
}

/**
 * What to send back for a challenge request.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type ChallengeResponse, MemoryChallengeStore, respondToChallenge } from '@fluxel/acme-lite';
 *
 * const answer: ChallengeResponse | undefined = await respondToChallenge(
 *   new MemoryChallengeStore(),
 *   'POST',
 *   '/.well-known/acme-challenge/evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA',
 * );
 * assert.equal(answer?.status, 405);
 * assert.equal(answer?.headers.allow, 'GET, HEAD');
 * ```
 */
export interface ChallengeResponse {
  readonly status: 200 | 404 | 405;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Answers a request for `/.well-known/acme-challenge/<token>`. Returns `undefined` when the
 * path is not a challenge path (let the application handle it); 404 for an unknown or
 * malformed token; the key authorisation as `text/plain` for an open challenge.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryChallengeStore, respondToChallenge } from '@fluxel/acme-lite';
 *
 * const challenges = new MemoryChallengeStore();
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * challenges.set(token, `${token}.thumbprint`);
 * const answer = await respondToChallenge(challenges, 'GET', `/.well-known/acme-challenge/${token}`);
 * assert.equal(answer?.status, 200);
 * assert.equal(answer?.headers['content-type'], 'text/plain; charset=utf-8');
 * assert.equal(await respondToChallenge(challenges, 'GET', '/app/home'), undefined); // not ours
 * ```
 */
export async function respondToChallenge(
  store: ChallengeStore,
  method: string,
  url: string,
): Promise<ChallengeResponse | undefined> {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  if (!path.startsWith(ACME_CHALLENGE_PREFIX)) return undefined;
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };
  if (method !== 'GET' && method !== 'HEAD')
    return { status: 405, headers: { ...headers, allow: 'GET, HEAD' }, body: '' };
  const token = path.slice(ACME_CHALLENGE_PREFIX.length);
  const value = isValidToken(token) ? await store.get(token) : undefined;
  if (value === undefined) return { status: 404, headers, body: 'not found' };
  return { status: 200, headers, body: method === 'HEAD' ? '' : value };
}
