/**
 * The typed client: calls a route of a feature's contract (src/features/<f>/contract.ts) and
 * parses the answer with the route's own response schema, so a page gets exactly the type the
 * contract declares — no path written twice, no response type asserted by hand. Errors are the
 * `ApiError`s of api.ts (CSRF retry, 401 handler and session token refresh included).
 */
import {
  type InputOf,
  isFileResponse,
  pathOf,
  queryString,
  type ResultOf,
  type RouteDef,
} from '../../src/shared/contract.ts';
import { ApiError, requestJson } from './api.ts';

type Args<D extends RouteDef> =
  object extends InputOf<D> ? [input?: InputOf<D>] : [input: InputOf<D>];

/** Any route's input, as the request is built from it. */
interface AnyInput {
  readonly params?: Readonly<Record<string, string>> | undefined;
  readonly query?: unknown;
  readonly body?: unknown;
}

function urlOf(def: RouteDef, input: AnyInput | undefined): string {
  return pathOf(def, input?.params) + queryString(input?.query);
}

/** Calls `def` and answers its parsed response (`undefined` for a 204 route). */
export async function call<D extends RouteDef>(def: D, ...args: Args<D>): Promise<ResultOf<D>> {
  const input: AnyInput | undefined = args[0];
  if (isFileResponse(def.response))
    throw new TypeError(`${def.path} answers a file: link to it with hrefOf`);
  const data = await requestJson(
    def.method,
    urlOf(def, input),
    def.method === 'GET' || def.method === 'DELETE' ? undefined : (input?.body ?? {}),
  );
  const parsed = def.response.safeParse(data);
  if (!parsed.success) {
    console.error(`${def.method} ${def.path}: unexpected answer`, parsed.error.issues);
    throw new ApiError({ status: 500, code: 'internal', title: 'Unexpected answer' });
  }
  return parsed.data as ResultOf<D>; // the output of def.response, which ResultOf<D> names
}

/** The URL of a route for a link or a download (`<a href>`), parameters and query filled in. */
export function hrefOf<D extends RouteDef>(def: D, ...args: Args<D>): string {
  const input: AnyInput | undefined = args[0];
  return urlOf(def, input);
}
