/**
 * The onboarding sandbox on the partner API (the rest of onboarding is
 * `src/features/onboarding/`):
 *
 * - `POST /partner-api/v1/sandbox/events` — checklist step (a): the partner's system sends a
 *   signed event (bearer token with scope `sandbox`, Standard Webhooks signature with the
 *   partner's secret); a bad signature, a missing header or an old timestamp is refused with
 *   problem+json, and so is a replay: a `webhook-id` already accepted for the tenant inside the
 *   5-minute window (409 `replayed`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Certification } from '../../features/onboarding/certification.ts';
import { sandboxEventBody } from '../../features/onboarding/contract.ts';
import { openWebhookSecret as openSealed } from '../../features/onboarding/secrets.ts';
import type { Context } from '../context.ts';
import { MAX_WEBHOOK_ID_LENGTH, rememberWebhookId } from '../onboarding/sandbox-replay.ts';
import { FixedWindowLimiter, tokenClient } from '../partner/oauth.ts';
import { verifyWebhook } from '../partner/signing.ts';

export { checkClientScopes } from '../../features/onboarding/certification.ts';

// ------------------------------------------------------------------ partner API problems

type SandboxCode =
  | 'bad_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_signature'
  | 'stale_timestamp'
  | 'rate_limited'
  | 'not_found'
  | 'replayed'
  | 'internal';

class SandboxProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: SandboxCode,
    readonly title: string,
    readonly extra: {
      fields?: { path: string; message: string }[];
      retryAfter?: number;
      wwwAuthenticate?: string;
    } = {},
  ) {
    super(title);
  }
}

function sendSandboxProblem(reply: FastifyReply, p: SandboxProblem): FastifyReply {
  if (p.extra.retryAfter !== undefined)
    void reply.header('retry-after', String(p.extra.retryAfter));
  if (p.extra.wwwAuthenticate) void reply.header('www-authenticate', p.extra.wwwAuthenticate);
  return reply
    .code(p.status)
    .header('cache-control', 'no-store')
    .type('application/problem+json')
    .send({
      type: `https://fluxel.example/problems/${p.code}`,
      title: p.title,
      status: p.status,
      code: p.code,
      ...(p.extra.fields ? { fields: p.extra.fields } : {}),
      ...(p.extra.retryAfter !== undefined ? { retryAfter: p.extra.retryAfter } : {}),
    });
}

// ------------------------------------------------------------------ routes

export function sandboxRoutes(
  app: FastifyInstance,
  ctx: Context,
  certification: Certification,
): void {
  const sandboxLimiter = new FixedWindowLimiter(60, 60_000, ctx.now);
  const openWebhookSecret = (tenantId: string, sealed: string) => openSealed(ctx, tenantId, sealed);
  const stateOf = (tenantId: string) => certification.stateOf(tenantId);
  const setStep = (
    req: FastifyRequest,
    tenantId: string,
    stepId: 'inbound' | 'outbound',
    passed: boolean,
    detail: string,
    actor: { type: 'user' | 'service'; id: string },
  ) => certification.setStep(req, tenantId, stepId, passed, detail, actor);

  // ============================================================ the sandbox (partner API)

  void app.register(async (api) => {
    // The signature covers the exact bytes: keep the body as text, parse after verifying.
    api.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_req, body, done) => done(null, String(body)),
    );
    api.setErrorHandler((error, req, reply) => {
      if (error instanceof SandboxProblem) return sendSandboxProblem(reply, error);
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      if (status >= 400 && status < 500)
        return sendSandboxProblem(
          reply,
          new SandboxProblem(status, 'bad_request', 'the request could not be read'),
        );
      req.log.error({ err: { message: (error as Error).message } }, 'sandbox error');
      return sendSandboxProblem(reply, new SandboxProblem(500, 'internal', 'something went wrong'));
    });

    api.post('/partner-api/v1/sandbox/events', async (req, reply) => {
      const header = req.headers.authorization;
      const match =
        typeof header === 'string' ? /^Bearer ([A-Za-z0-9_-]{1,200})$/i.exec(header) : null;
      const client = match ? await tokenClient(ctx, match[1] as string) : undefined;
      if (!client)
        throw new SandboxProblem(401, 'invalid_token', 'a valid bearer token is required', {
          wwwAuthenticate: 'Bearer realm="fluxel-partner-api", error="invalid_token"',
        });
      const limited = sandboxLimiter.hit(client.clientId);
      if (!limited.ok)
        throw new SandboxProblem(429, 'rate_limited', 'too many requests', {
          retryAfter: limited.retryAfterS,
        });
      if (!client.scopes.includes('sandbox'))
        throw new SandboxProblem(403, 'insufficient_scope', 'the token lacks the scope sandbox', {
          wwwAuthenticate:
            'Bearer realm="fluxel-partner-api", error="insufficient_scope", scope="sandbox"',
        });
      const { rows } = await ctx.db.query(
        'SELECT webhook_secret_sealed FROM portal_partner_onboarding WHERE tenant_id = $1',
        [client.tenantId],
      );
      if (!rows[0]) throw new SandboxProblem(404, 'not_found', 'this tenant has no sandbox');
      const raw = typeof req.body === 'string' ? req.body : '';
      const secret = await openWebhookSecret(
        client.tenantId,
        String(rows[0].webhook_secret_sealed),
      );
      const actor = { type: 'service' as const, id: `api-client:${client.clientId}` };
      const verified = verifyWebhook(secret, req.headers, raw, ctx.now());
      if (!verified.ok) {
        const problem =
          verified.reason === 'timestamp'
            ? new SandboxProblem(
                401,
                'stale_timestamp',
                'the webhook timestamp is too old or too new',
              )
            : verified.reason === 'missing'
              ? new SandboxProblem(
                  400,
                  'bad_request',
                  'webhook-id, webhook-timestamp and webhook-signature are required',
                )
              : new SandboxProblem(401, 'invalid_signature', 'the webhook signature is not valid');
        await setStep(req, client.tenantId, 'inbound', false, problem.code, actor);
        throw problem;
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new SandboxProblem(400, 'bad_request', 'the body is not JSON');
      }
      const parsed = sandboxEventBody.safeParse(json);
      if (!parsed.success)
        throw new SandboxProblem(400, 'bad_request', 'the event is not valid', {
          fields: parsed.error.issues.slice(0, 20).map((issue) => ({
            path: issue.path.map(String).join('.') || '(body)',
            message: issue.message,
          })),
        });
      // A replay of an accepted message inside the timestamp window is refused; of concurrent
      // copies exactly one is accepted (remembering the id is the atomic step).
      const header1 = (name: string) => {
        const v = req.headers[name];
        return String(Array.isArray(v) ? v[0] : v);
      };
      const webhookId = header1('webhook-id');
      if (webhookId.length > MAX_WEBHOOK_ID_LENGTH)
        throw new SandboxProblem(400, 'bad_request', 'the webhook-id is too long', {
          fields: [{ path: 'webhook-id', message: `at most ${MAX_WEBHOOK_ID_LENGTH} characters` }],
        });
      const fresh = await rememberWebhookId(
        ctx.db,
        client.tenantId,
        webhookId,
        Number(header1('webhook-timestamp')),
        ctx.now(),
      );
      if (!fresh)
        throw new SandboxProblem(
          409,
          'replayed',
          'this webhook-id was already accepted: send each message with a new webhook-id',
        );
      await setStep(req, client.tenantId, 'inbound', true, 'signature valid', actor);
      const state = await stateOf(client.tenantId);
      return reply.code(200).send({
        received: true,
        step: 'passed',
        certified: state?.certified ?? false,
      });
    });
  });
}
