/**
 * The portal's HTTP contract as data. Each feature declares its routes in its own
 * `src/features/<feature>/contract.ts` with {@link route}: method, path, who may call it, the
 * zod schemas of query and body, and the schema of what the server answers. The server serves
 * a route through `serveAll` (src/server/route.ts: authorize → parse → handler → reply) and the
 * web app calls it through `call` (web/src/client.ts), so both read the same object and a
 * response type is never asserted by hand.
 *
 * This module is imported by the web app: zod and types only.
 */
import { z } from 'zod';
import type { Permission } from './permissions.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route: holders of a permission (403 otherwise, audited), any fully signed-in
 * user (`session`), or anyone (`public`: the handler reads the session itself if it needs one,
 * as the sign-in steps do).
 */
export type Access = Permission | 'session' | 'public';

/** Marks a response that is not JSON (CSV, PDF, ZIP): the handler sends it through `reply`. */
export interface FileResponse {
  readonly kind: 'file';
}

/** A response that is not JSON: a download the web app links to with `hrefOf`. */
export function file(): FileResponse {
  return { kind: 'file' };
}

export interface RouteDef {
  readonly method: Method;
  /** The path, `:name` marking a parameter: `/api/licenses/:id/lock`. */
  readonly path: `/${string}`;
  readonly access: Access;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** What a success answers: a JSON schema, `z.void()` for 204, or {@link file}. */
  readonly response: z.ZodType | FileResponse;
}

/** Declares one route; the literal types of method and path are kept. */
export function route<const D extends RouteDef>(def: D): D {
  return def;
}

/** A feature's routes by name. */
export type Contract = Readonly<Record<string, RouteDef>>;

type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** The parameters of a path: `PathParams<'/api/x/:id'>` is `{ id: string }`. */
export type PathParams<P extends string> = { readonly [K in ParamNames<P>]: string };

/** The parsed query of a route (what the server's handler reads). */
export type QueryOf<D extends RouteDef> = D['query'] extends z.ZodType
  ? z.output<D['query']>
  : undefined;

/** The parsed body of a route (what the server's handler reads). */
export type BodyOf<D extends RouteDef> = D['body'] extends z.ZodType
  ? z.output<D['body']>
  : undefined;

/** What the server's handler returns for a route. */
export type ReplyOf<D extends RouteDef> = D['response'] extends z.ZodType
  ? z.input<D['response']>
  : unknown;

/** What a caller receives from a route. */
export type ResultOf<D extends RouteDef> = D['response'] extends z.ZodType
  ? z.output<D['response']>
  : never;

/** What a caller passes: path parameters, query and body, each only when the route has one. */
export type InputOf<D extends RouteDef> = ([ParamNames<D['path']>] extends [never]
  ? { readonly params?: undefined }
  : { readonly params: PathParams<D['path']> }) &
  (D['query'] extends z.ZodType
    ? { readonly query?: z.input<D['query']> }
    : { readonly query?: undefined }) &
  (D['body'] extends z.ZodType
    ? { readonly body: z.input<D['body']> }
    : { readonly body?: undefined });

/** Whether a response schema is `z.void()` (the route answers 204 No Content). */
export function isVoidResponse(response: RouteDef['response']): boolean {
  return response instanceof z.ZodVoid;
}

/** Whether a route answers a file rather than JSON. */
export function isFileResponse(response: RouteDef['response']): response is FileResponse {
  return !(response instanceof z.ZodType);
}

/** The path of a route with its parameters filled in (each URL-encoded). */
export function pathOf(
  def: RouteDef,
  params: Readonly<Record<string, string>> | undefined,
): string {
  return def.path.replace(/:([A-Za-z][A-Za-z0-9]*)/g, (_whole, name: string) => {
    const value = params ? Object.entries(params).find(([key]) => key === name)?.[1] : undefined;
    if (value === undefined) throw new TypeError(`${def.path}: the parameter ${name} is missing`);
    return encodeURIComponent(value);
  });
}

/** A query string (with `?`) of the set, non-empty values; `''` when there are none. */
export function queryString(query: unknown): string {
  if (typeof query !== 'object' || query === null) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, String(item));
    else search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
