/**
 * A small relay implementing the contract over real HTTPS, with the real license authority,
 * for the client's tests: an effect log per idempotency key (what the "third party" saw),
 * an in-memory mailbox, and fault injection hooks.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  type AuthorityRequest,
  createNonceSource,
  generateKeyPair,
  LicenseAuthority,
  LicenseError,
  MemoryLicenseStore,
  MemoryReplayStore,
} from '@fluxel/license';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { type InboundEventBody, type RouteDefinition, relayContract } from '../src/contract.ts';
import type { Pki } from './pki.ts';

export type Fault =
  | { kind: 'reset-after-commit' }
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown; raw?: string }
  | { kind: 'delay'; ms: number };

export interface RelayFixture {
  readonly url: string;
  readonly port: number;
  readonly authority: LicenseAuthority;
  /** idempotency key → how many times the third party received the operation. */
  readonly effects: Map<string, number>;
  readonly mailbox: InboundEventBody[];
  /** Requests seen per route name. */
  readonly hits: Map<string, number>;
  /** Faults to apply, per route, in order (each used once). */
  readonly faults: Map<string, Fault[]>;
  issueKey(): Promise<string>;
  close(): Promise<void>;
}

export async function startRelay(
  pki: Pki,
  options: { nonces?: boolean } = {},
): Promise<RelayFixture> {
  const authority = new LicenseAuthority({
    store: new MemoryLicenseStore(),
    pepper: crypto.getRandomValues(new Uint8Array(32)),
    issuer: 'https://relay.test',
    signingKeys: [{ kid: 'k1', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
    replay: new MemoryReplayStore(),
    ...(options.nonces
      ? { nonces: createNonceSource({ secret: crypto.getRandomValues(new Uint8Array(32)) }) }
      : {}),
  });
  const effects = new Map<string, number>();
  const outcomes = new Map<string, { hash: string; body: unknown }>();
  const mailbox: InboundEventBody[] = [];
  const hits = new Map<string, number>();
  const faults = new Map<string, Fault[]>();
  const credentials = new Map<string, string>();
  let port = 0;

  const app = Fastify({
    https: { key: pki.serverKey, cert: pki.serverCert },
    bodyLimit: 1024 * 1024,
  });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  function problem(
    reply: FastifyReply,
    status: number,
    title: string,
    extra: Record<string, unknown> = {},
  ) {
    return reply
      .code(status)
      .type('application/problem+json')
      .send({ type: 'about:blank', title, status, ...extra });
  }

  function licenseProblem(reply: FastifyReply, error: unknown) {
    if (!LicenseError.isInstance(error)) throw error;
    const code = error.code;
    if (code === 'ERR_DPOP_NONCE_REQUIRED') {
      reply.header('www-authenticate', 'DPoP error="use_dpop_nonce"');
      return problem(reply, 401, 'nonce required', { code });
    }
    const forbidden = [
      'ERR_LICENSE_ACTIVATION_FAILED',
      'ERR_LICENSE_LOCKED',
      'ERR_LICENSE_EXPIRED',
      'ERR_LICENSE_NOT_ACTIVE',
    ];
    return problem(reply, forbidden.includes(code) ? 403 : 401, error.message, { code });
  }

  for (const [name, route] of Object.entries(relayContract) as [string, RouteDefinition][]) {
    app.route({
      method: route.method,
      url: route.path.replace(/\{(\w+)\}/g, ':$1'),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        hits.set(name, (hits.get(name) ?? 0) + 1);
        const nonce = authority.nonce();
        if (nonce) reply.header('dpop-nonce', nonce);
        const fault = faults.get(name)?.shift();
        if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
        if (fault?.kind === 'status') {
          if (fault.retryAfter) reply.header('retry-after', fault.retryAfter);
          if (fault.raw !== undefined)
            return reply.code(fault.status).type('application/json').send(fault.raw);
          return reply
            .code(fault.status)
            .type('application/problem+json')
            .send(fault.body ?? { type: 'about:blank', title: 'injected', status: fault.status });
        }
        const raw = req.body instanceof Buffer ? new Uint8Array(req.body) : undefined;
        const request: AuthorityRequest = {
          method: req.method,
          url: `https://127.0.0.1:${port}${req.url}`,
          headers: req.headers as Record<string, string>,
          body: raw,
        };
        const parse = (schema: z.ZodType | undefined, value: unknown) => {
          if (!schema) return { success: true as const, data: undefined };
          return schema.safeParse(value);
        };
        let json: unknown;
        try {
          json = raw?.length ? JSON.parse(Buffer.from(raw).toString('utf8')) : undefined;
        } catch {
          return problem(reply, 400, 'body is not JSON');
        }
        const params = parse(route.params, req.params);
        const query = parse(route.query, req.query);
        const body = parse(route.body, json);
        if (!params.success || !query.success || !body.success)
          return problem(reply, 400, 'request does not match the contract');

        try {
          if (name === 'activate') {
            const tokens = await authority.activate({
              licenseKey: (body.data as { licenseKey: string }).licenseKey,
              request,
            });
            return reply.code(201).send(tokensBody(tokens, authority));
          }
          if (name === 'refreshToken')
            return reply.code(200).send(tokensBody(await authority.refresh(request), authority));
          const verified = await authority.verifyRequest(request);
          const connection = (params.data as { connection?: string } | undefined)?.connection;
          switch (name) {
            case 'putCredentials':
              credentials.set(`${verified.license.id}/${connection}`, new Date().toISOString());
              return reply.code(204).send();
            case 'deleteCredentials':
              credentials.delete(`${verified.license.id}/${connection}`);
              return reply.code(204).send();
            case 'send': {
              const key = req.headers['idempotency-key'] as string;
              const hash = createHash('sha256')
                .update(raw ?? new Uint8Array())
                .digest('hex');
              const seen = outcomes.get(key);
              if (seen && seen.hash !== hash)
                return problem(reply, 409, 'idempotency key reused with another body');
              if (seen) return reply.code(200).send({ ...(seen.body as object), replayed: true });
              effects.set(key, (effects.get(key) ?? 0) + 1);
              const result = {
                status: 'delivered',
                upstreamStatus: 200,
                deliveredAt: new Date().toISOString(),
                replayed: false,
              };
              outcomes.set(key, { hash, body: result });
              if (fault?.kind === 'reset-after-commit') {
                req.raw.socket.destroy();
                return reply;
              }
              return reply.code(200).send(result);
            }
            case 'pickup': {
              const { wait, limit } = query.data as { wait: number; limit: number };
              const deadline = Date.now() + wait * 1000;
              while (mailbox.length === 0 && Date.now() < deadline)
                await new Promise((r) => setTimeout(r, 20));
              return reply.send({ events: mailbox.slice(0, limit) });
            }
            case 'ack': {
              const ids = new Set((body.data as { ids: string[] }).ids);
              let acked = 0;
              for (let i = mailbox.length - 1; i >= 0; i--) {
                if (ids.has((mailbox[i] as InboundEventBody).id)) {
                  mailbox.splice(i, 1);
                  acked++;
                }
              }
              return reply.send({ acked });
            }
            case 'reRequest':
              return reply.code(202).send({ requestId: crypto.randomUUID(), status: 'requested' });
            case 'status':
              return reply.send({
                license: {
                  id: verified.license.id,
                  status: verified.license.status,
                  product: verified.license.product,
                  entitlements: [...verified.license.entitlements],
                  expiresAt: verified.license.expiresAt?.toISOString() ?? null,
                },
                device: { jkt: verified.proof.jkt },
                mailbox: { pending: mailbox.length },
                connections: [],
                relay: { version: 'test', time: new Date().toISOString() },
              });
          }
          return problem(reply, 500, 'not implemented');
        } catch (error) {
          return licenseProblem(reply, error);
        }
      },
    });
  }

  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    authority,
    effects,
    mailbox,
    hits,
    faults,
    issueKey: async () =>
      (
        await authority.issue({
          tenant: 'merchant-1',
          product: 'wawi-sync',
          entitlements: ['orders'],
        })
      ).key,
    close: () => app.close(),
  };
}

function tokensBody(
  tokens: Awaited<ReturnType<LicenseAuthority['refresh']>>,
  authority: LicenseAuthority,
) {
  return {
    licenseId: tokens.licenseId,
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    licenseToken: tokens.licenseToken,
    licenseTokenExpiresAt: tokens.licenseTokenExpiresAt.toISOString(),
    jwks: authority.jwks(),
  };
}
