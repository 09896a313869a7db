/**
 * Serves the routes of a feature's contract (src/shared/contract.ts): for each route,
 * authorize by its `access`, parse query and body with its schemas (400 naming the fields),
 * call the handler, answer — 204 for a `z.void()` response. A handler holds no HTTP
 * plumbing, and a route's method, path and permission are written once, in the contract.
 *
 * Outside production every JSON answer is checked against the route's response schema, so a
 * server drifting from what the web app parses fails the tests, not a user's page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type BodyOf,
  type Contract,
  isFileResponse,
  isVoidResponse,
  type PathParams,
  type QueryOf,
  type ReplyOf,
  type RouteDef,
} from '../shared/contract.ts';
import { authorize, type Context, type Principal, principal } from './context.ts';
import { parse } from './http.ts';

/** What a handler receives. */
export interface RouteCall<D extends RouteDef> {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  /** The signed-in user; `undefined` on a public route. */
  readonly principal: D['access'] extends 'public' ? undefined : Principal;
  readonly params: PathParams<D['path']>;
  readonly query: QueryOf<D>;
  readonly body: BodyOf<D>;
}

export type RouteHandler<D extends RouteDef> = (call: RouteCall<D>) => Promise<ReplyOf<D>>;

/** A handler for every route of a contract. */
export type Handlers<C extends Contract> = { readonly [K in keyof C]: RouteHandler<C[K]> };

const CHECK_RESPONSES = process.env.NODE_ENV !== 'production';

async function principalFor(
  ctx: Context,
  req: FastifyRequest,
  def: RouteDef,
): Promise<Principal | undefined> {
  if (def.access === 'public') return undefined;
  if (def.access === 'session') return principal(ctx, req);
  return authorize(ctx, req, def.access);
}

/** Serves one route. */
export function serve<D extends RouteDef>(
  app: FastifyInstance,
  ctx: Context,
  def: D,
  handler: RouteHandler<D>,
): void {
  app.route({
    method: def.method,
    url: def.path,
    handler: async (req, reply) => {
      const p = await principalFor(ctx, req, def);
      const call = {
        req,
        reply,
        principal: p,
        params: req.params,
        query: def.query ? parse(def.query, req.query) : undefined,
        body: def.body ? parse(def.body, req.body) : undefined,
      } as RouteCall<D>; // the parts were checked above, against the same route's schemas
      const result: unknown = await handler(call);
      if (isFileResponse(def.response)) return reply;
      if (isVoidResponse(def.response)) return reply.code(204).send();
      if (CHECK_RESPONSES) {
        const checked = def.response.safeParse(result);
        if (!checked.success) {
          req.log.error(
            { route: `${def.method} ${def.path}`, issues: checked.error.issues.slice(0, 5) },
            'the answer does not match the route contract',
          );
          throw new Error(`${def.method} ${def.path}: the answer does not match the contract`);
        }
      }
      return result;
    },
  });
}

/** Serves every route of a contract with its handler. */
export function serveAll<C extends Contract>(
  app: FastifyInstance,
  ctx: Context,
  contract: C,
  handlers: Handlers<C>,
): void {
  const byName = new Map<string, RouteHandler<RouteDef>>(Object.entries(handlers));
  for (const [name, def] of Object.entries(contract)) {
    const handler = byName.get(name);
    if (!handler) throw new TypeError(`${def.method} ${def.path}: no handler for route ${name}`);
    serve(app, ctx, def, handler);
  }
}
