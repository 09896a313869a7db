/**
 * The partner machine API's routes: the token endpoint `POST /oauth/token` and the
 * bearer-protected `/partner-api/v1/…` (not under `/api`, so the browser CSRF rule does not
 * apply), the onboarding sandbox included. Thin: bearer → parse → service → reply; every answer
 * is `Cache-Control: no-store`, errors are the portal's problem+json.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Context } from '../../server/context.ts';
import { fail, parse } from '../../server/http.ts';
import { eventsQuery } from '../partner/contract.ts';
import type { PartnerHub } from '../partner/hub.ts';
import { createWebhookBody, licensesQuery } from './contract.ts';
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

    api.get('/partner-api/v1/licenses', async (req, reply) => {
      const client = await service.bearer(
        req.headers.authorization,
        'licenses:read',
        setHeader(reply),
      );
      const q = parse(licensesQuery, req.query);
      return { licenses: await service.licenses(client, q.tenantId) };
    });

    api.get('/partner-api/v1/events', async (req, reply) => {
      const client = await service.bearer(
        req.headers.authorization,
        'events:read',
        setHeader(reply),
      );
      return { events: await service.events(client, parse(eventsQuery, req.query)) };
    });

    api.get('/partner-api/v1/webhooks', async (req, reply) => {
      const client = await service.bearer(
        req.headers.authorization,
        'webhooks:manage',
        setHeader(reply),
      );
      return { webhooks: await service.webhooks(client) };
    });

    api.post('/partner-api/v1/webhooks', async (req, reply) => {
      const client = await service.bearer(
        req.headers.authorization,
        'webhooks:manage',
        setHeader(reply),
      );
      const body = parse(createWebhookBody, req.body);
      return reply.code(201).send(await service.createWebhook(req, client, body));
    });

    api.delete<{ Params: { id: string } }>('/partner-api/v1/webhooks/:id', async (req, reply) => {
      const client = await service.bearer(
        req.headers.authorization,
        'webhooks:manage',
        setHeader(reply),
      );
      await service.deleteWebhook(req, client, req.params.id);
      return reply.code(204).send();
    });

    // Unknown partner API paths: problem+json, not the web app's index page.
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
    sandbox.post('/partner-api/v1/sandbox/events', async (req, reply) =>
      service.sandboxEvent(req, typeof req.body === 'string' ? req.body : '', setHeader(reply)),
    );
  });
}
