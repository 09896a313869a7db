/**
 * The partner machine API's routes: the token endpoint `POST /oauth/token` and the
 * bearer-protected `/partner-api/v1/…` (not under `/api`, so the browser CSRF rule does not
 * apply), the onboarding sandbox included, served from the contract: bearer → parse → service
 * → reply. Every answer is `Cache-Control: no-store`; errors are the portal's problem+json
 * (the token endpoint's are RFC 6749's).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { serveAll } from '../../server/route.ts';
import type { PartnerHub } from '../partner/hub.ts';
import type { AuthenticatedClient } from '../partner/oauth.ts';
import { PARTNER_API_SCOPES, partnerApiContract, sandboxContract } from './contract.ts';
import {
  type PartnerApiOptions,
  partnerApiService,
  REALM,
  type SandboxCertification,
} from './service.ts';

/** Lets the service set a challenge or rate-limit header on the answer. */
const setHeader = (reply: FastifyReply) => (name: string, value: string) => {
  void reply.header(name, value);
};

const noStore = async (_req: unknown, reply: FastifyReply) => {
  void reply.header('cache-control', 'no-store');
};

export function partnerApiRoutes(
  app: FastifyInstance,
  ctx: Context,
  hub: PartnerHub,
  certification: SandboxCertification,
  options: PartnerApiOptions = {},
): void {
  const service = partnerApiService(ctx, hub, certification, options);

  void app.register(async (api) => {
    api.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 8 * 1024 },
      (_req, body, done) => {
        try {
          done(null, Object.fromEntries(new URLSearchParams(String(body))));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
    );
    api.addHook('onRequest', noStore);

    // ---------------------------------------------------------- token endpoint (RFC 6749 §4.4)

    api.post('/oauth/token', async (req, reply) => {
      const outcome = await service.token(req, req.body, req.headers.authorization);
      if (outcome.ok) return reply.header('pragma', 'no-cache').send(outcome.body);
      if (outcome.basicChallenge) void reply.header('www-authenticate', `Basic realm="${REALM}"`);
      if (outcome.retryAfterS !== undefined)
        void reply.header('retry-after', String(outcome.retryAfterS));
      return reply
        .code(outcome.status)
        .send({ error: outcome.error, error_description: outcome.description });
    });

    // ---------------------------------------------------------- /partner-api/v1

    // The bearer check runs before the query and body are read: a request without a valid
    // token learns nothing about what it sent.
    const scopes = new Map(
      Object.entries(partnerApiContract).map(([name, def]) => [
        `${def.method} ${def.path}`,
        PARTNER_API_SCOPES[name as keyof typeof PARTNER_API_SCOPES],
      ]),
    );
    const clients = new WeakMap<FastifyRequest, AuthenticatedClient>();
    api.addHook('preHandler', async (req, reply) => {
      const scope = scopes.get(`${req.method} ${req.routeOptions.url}`);
      if (scope)
        clients.set(req, await service.bearer(req.headers.authorization, scope, setHeader(reply)));
    });
    const clientOf = (req: FastifyRequest): AuthenticatedClient => {
      const client = clients.get(req);
      if (!client) throw new Error(`${req.method} ${req.url}: no bearer check ran`);
      return client;
    };

    serveAll(api, ctx, partnerApiContract, {
      licenses: async ({ req, query }) => ({
        licenses: await service.licenses(clientOf(req), query.tenantId),
      }),
      events: async ({ req, query }) => ({ events: await service.events(clientOf(req), query) }),
      webhooks: async ({ req }) => ({ webhooks: await service.webhooks(clientOf(req)) }),
      createWebhook: async ({ req, reply, body }) => {
        const created = await service.createWebhook(req, clientOf(req), body);
        void reply.code(201);
        return created;
      },
      deleteWebhook: async ({ req, params }) => {
        await service.deleteWebhook(req, clientOf(req), params.id);
      },
    });

    // Unknown partner API paths: problem+json, not the web app's index page. `not_found` is a
    // code the partner API shares with the portal, so `fail` (the portal realm) answers it.
    api.all('/partner-api/*', async () => fail(404, 'not_found', 'no such partner API route'));
  });

  // The sandbox: the signature covers the exact bytes, so the body stays text until verified.
  void app.register(async (sandbox) => {
    sandbox.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_req, body, done) => done(null, String(body)),
    );
    sandbox.addHook('onRequest', noStore);
    serveAll(sandbox, ctx, sandboxContract, {
      event: async ({ req, reply }) =>
        service.sandboxEvent(req, typeof req.body === 'string' ? req.body : '', setHeader(reply)),
    });
  });
}
