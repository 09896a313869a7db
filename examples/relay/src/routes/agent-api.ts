/**
 * The agent API: every route of `relayContract`, as a handler map keyed by route name and typed
 * from the contract — each handler takes the route's parsed params, query, body (and
 * `Idempotency-Key`) and answers one of the route's declared success statuses with its body,
 * so a handler that reads a field the contract does not have, or answers a shape or status it
 * does not declare, does not compile. One generic loop registers them: it checks the request
 * against the contract (strict schemas), runs activation and refresh on the proof alone and
 * verifies every other request (DPoP + access token, per-license rate limit) before its
 * handler runs. Problems are thrown as {@link HttpProblem}; stores and the send use case do the
 * work.
 */
import { createHash } from 'node:crypto';
import type { AuditEventInput } from '@fluxel/audit';
import type {
  AuthorityRequest,
  LicenseAuthority,
  LicenseTokens,
  VerifiedRequest,
} from '@fluxel/license';
import {
  IdempotencyKey,
  type RelayContract,
  type RouteDefinition,
  type RouteName,
  type RouteReply,
  type RouteRequest,
  relayContract,
} from '@fluxel/relay-client/contract';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Forwarder, ForwardOutcome } from '../forward.ts';
import {
  authorityRequest,
  deviceActor,
  header,
  invalid,
  licenseProblem,
  parse,
  parseJsonBody,
  type RelayHttpServer,
} from '../http.ts';
import type { Mailbox } from '../mailbox.ts';
import { MailboxPollsExceeded } from '../mailbox-wait.ts';
import { HttpProblem } from '../problem.ts';
import type { Owner, Vault } from '../vault.ts';

/** What a proof-only route (activation, refresh) gets: the request as the authority checks it. */
export interface ProofContext {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  readonly request: AuthorityRequest;
}

/** What a device route gets: the verified request, its license's owner and the audit actor. */
export interface DeviceContext {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  /** The body exactly as sent. */
  readonly raw: Uint8Array;
  readonly verified: VerifiedRequest;
  readonly owner: Owner;
  readonly actor: ReturnType<typeof deviceActor>;
}

/** The context of route `K`, by the contract's `auth`. */
export type RouteContext<K extends RouteName> = RelayContract[K]['auth'] extends 'proof'
  ? ProofContext
  : DeviceContext;

/** One handler per route of the contract, typed by it. */
export type AgentHandlers = {
  readonly [K in RouteName]: (
    input: RouteRequest<K>,
    ctx: RouteContext<K>,
  ) => Promise<RouteReply<K>>;
};

export interface AgentApiDeps {
  readonly authority: LicenseAuthority;
  readonly vault: Vault;
  readonly mailbox: Mailbox;
  readonly forwarder: Forwarder;
  readonly record: (event: AuditEventInput) => Promise<void>;
  /** The relay's public base URL (DPoP `htu`); read per request, set once it listens. */
  readonly baseUrl: () => string;
  /**
   * Counts a verified request (`cost` sends, default 1) against its license's rate limit, in
   * one counter update (throws a problem past it).
   */
  readonly limitLicense: (licenseId: string, reply: FastifyReply, cost?: number) => Promise<void>;
  /** Aborted when the relay closes: waiting long-polls answer at once. */
  readonly shutdown: AbortSignal;
  /** Whether the deprecated shared hook URL still takes webhooks (else `legacyUrl: null`). */
  readonly legacyWebhooks: boolean;
  /** The relay's version, shown by `status`. */
  readonly version: string;
}

function tokensBody(tokens: LicenseTokens, authority: LicenseAuthority) {
  const jwks = authority.jwks();
  return {
    licenseId: tokens.licenseId,
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    licenseToken: tokens.licenseToken,
    licenseTokenExpiresAt: tokens.licenseTokenExpiresAt.toISOString(),
    // Plain copies (same JSON): the authority's keys are readonly interfaces, the contract's
    // response type is a mutable list of open objects.
    jwks: { ...jwks, keys: jwks.keys.map((key) => ({ ...key })) },
  };
}

/** The send use case's outcome as the `send` route's success body, or the problem to answer. */
function sendAnswer(
  outcome: ForwardOutcome,
  upstream: string,
): { readonly body: RouteReply<'send'>['body'] } | { readonly problem: HttpProblem } {
  switch (outcome.kind) {
    case 'delivered':
      // The connector keeps a result only within the contract's bounds: answered as it is.
      return {
        body: {
          status: 'delivered',
          upstreamStatus: outcome.upstreamStatus,
          ...(outcome.result !== undefined ? { result: outcome.result } : {}),
          deliveredAt: new Date(outcome.deliveredAt).toISOString(),
          replayed: outcome.replayed,
        },
      };
    case 'rejected':
      return {
        problem: new HttpProblem(422, 'the third party refused the operation', {
          upstream,
          upstreamStatus: outcome.upstreamStatus,
          retryable: false,
        }),
      };
    case 'unsupported':
      return {
        problem: new HttpProblem(422, 'operation not supported by this connection', {
          detail: outcome.reason,
          upstream,
          retryable: false,
        }),
      };
    case 'unavailable':
      return {
        problem: new HttpProblem(503, 'the third party is unavailable', {
          retryable: true,
          retryAfter: outcome.retryAfter,
          upstream,
          ...(outcome.upstreamStatus ? { upstreamStatus: outcome.upstreamStatus } : {}),
        }),
      };
    case 'unknown':
      // The in-progress answer's shape: the key is pending until its lease runs out.
      return {
        problem: new HttpProblem(
          503,
          "the third party's outcome is unknown; retry with the same key after retryAfter",
          {
            retryable: true,
            retryAfter: outcome.retryAfter,
            upstream,
            ...(outcome.upstreamStatus ? { upstreamStatus: outcome.upstreamStatus } : {}),
          },
        ),
      };
    case 'conflict':
      return {
        problem: new HttpProblem(409, 'idempotency key reused with another request', {
          code: 'ERR_IDEMPOTENCY_CONFLICT',
        }),
      };
    case 'in-progress':
      return {
        problem: new HttpProblem(503, 'a request with this idempotency key is in progress', {
          retryable: true,
          retryAfter: 1,
        }),
      };
    case 'retry':
      return {
        problem: new HttpProblem(503, 'try again', { retryable: true, retryAfter: 1 }),
      };
    case 'no-credentials':
      return {
        problem: new HttpProblem(404, 'no credentials stored for this connection', {
          code: 'ERR_NO_CREDENTIALS',
        }),
      };
  }
}

/** The send use case's outcome as the `send` route's answer (or its problem, thrown). */
function sendReply(
  outcome: ForwardOutcome,
  reply: FastifyReply,
  upstream: string,
): RouteReply<'send'> {
  const answer = sendAnswer(outcome, upstream);
  if ('body' in answer) return { status: 200, body: answer.body };
  const { retryAfter } = answer.problem.extra;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  throw answer.problem;
}

type SendBatchItem = RouteRequest<'sendBatch'>['body']['items'][number];
type SendBatchResult = RouteReply<'sendBatch'>['body']['results'][number];

/**
 * The body a batch item would have had as a single `send` (`{"operation":…,"payload":…}`): its
 * keyed hash tells a retry from a reused key, the same whether the key came by `send` or in a
 * batch.
 */
function itemBody(item: SendBatchItem): Uint8Array {
  return Buffer.from(JSON.stringify({ operation: item.operation, payload: item.payload }));
}

/**
 * A batch item's outcome as `send` would have answered it: `delivered`, `unavailable` (a
 * retryable 503: try again later) or `rejected` (anything final: 404, 409, 422).
 */
function batchResult(
  key: string,
  outcome: ForwardOutcome,
  upstream: string,
  traceId: string,
): SendBatchResult {
  const answer = sendAnswer(outcome, upstream);
  if ('body' in answer)
    return { idempotencyKey: key, httpStatus: 200, ...answer.body, status: 'delivered' };
  const { status, title, extra } = answer.problem;
  return {
    idempotencyKey: key,
    status: extra.retryable === true ? 'unavailable' : 'rejected',
    httpStatus: status,
    ...(typeof extra.upstreamStatus === 'number' ? { upstreamStatus: extra.upstreamStatus } : {}),
    problem: { type: 'about:blank', title, status, traceId, ...extra },
  };
}

/** The handlers of the agent API. */
export function agentHandlers(deps: AgentApiDeps): AgentHandlers {
  const { authority, vault, mailbox, forwarder, record } = deps;
  return {
    async activate({ body }, { request }) {
      const tokens = await authority.activate({ licenseKey: body.licenseKey, request });
      return { status: 201, body: tokensBody(tokens, authority) };
    },

    async refreshToken(_input, { request }) {
      return { status: 200, body: tokensBody(await authority.refresh(request), authority) };
    },

    async putCredentials({ params: { connection }, body }, { req, owner, actor }) {
      await vault.put(owner, connection, body);
      await record({
        tenant: owner.tenant,
        actor,
        action: 'credentials.put',
        target: { type: 'connection', id: connection },
        outcome: 'success',
        requestId: req.id,
        data: { license: owner.licenseId, kind: body.kind, fields: Object.keys(body.fields) },
      });
      return { status: 204, body: undefined };
    },

    async deleteCredentials({ params: { connection } }, { req, owner, actor }) {
      const existed = await vault.delete(owner, connection);
      await record({
        tenant: owner.tenant,
        actor,
        action: 'credentials.delete',
        target: { type: 'connection', id: connection },
        outcome: existed ? 'success' : 'failure',
        requestId: req.id,
        data: { license: owner.licenseId },
      });
      if (!existed) throw new HttpProblem(404, 'no credentials stored for this connection');
      return { status: 204, body: undefined };
    },

    async send(
      { params: { connection }, body, idempotencyKey },
      { req, reply, raw, verified, owner, actor },
    ) {
      const outcome = await forwarder.send({
        owner,
        connection,
        operation: body.operation,
        payload: body.payload,
        idempotencyKey,
        body: raw,
        bodyDigest: verified.proof.bodyDigest,
        actor,
        requestId: req.id,
      });
      return sendReply(outcome, reply, forwarder.upstream);
    },

    async sendBatch({ body: { items } }, { req, reply, owner, actor }) {
      // The license's rate limit counts sends, not requests: the registration loop counted
      // this request as one send; every further item counts as one more. Past the limit the
      // whole batch is refused (429) before anything is forwarded. One counter update.
      if (items.length > 1) await deps.limitLicense(owner.licenseId, reply, items.length - 1);
      // Each item is a send of its own (own idempotency key, own outcome, own audit record);
      // they run at once, so the ledger's group commit merges their claims and completions.
      const settled = await Promise.allSettled(
        items.map((item) =>
          forwarder.send({
            owner,
            connection: item.connection,
            operation: item.operation,
            payload: item.payload,
            idempotencyKey: item.idempotencyKey,
            body: itemBody(item),
            actor,
            requestId: req.id,
          }),
        ),
      );
      // A failure of the relay itself (storage, an erased tenant) fails the request as it
      // would fail a single send; the items that did go through are replayed on a retry.
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const results = settled.map((s, index) =>
        batchResult(
          items[index]?.idempotencyKey ?? '',
          (s as PromiseFulfilledResult<ForwardOutcome>).value,
          forwarder.upstream,
          req.id,
        ),
      );
      return { status: 200, body: { results } };
    },

    async pickup({ query: { wait, limit } }, { req, reply, owner, actor }) {
      // Waits (woken by arrivals, see mailbox-wait.ts) until events are there, the wait is
      // over, the client is gone or the relay closes; refused past the license's cap of
      // waiting polls.
      const gone = new AbortController();
      const onGone = () => gone.abort();
      reply.raw.once('close', onGone);
      let events: Awaited<ReturnType<Mailbox['pending']>>;
      try {
        events = await mailbox.waitForArrival(
          owner,
          wait * 1000,
          limit,
          AbortSignal.any([gone.signal, deps.shutdown]),
        );
      } catch (error) {
        if (!(error instanceof MailboxPollsExceeded)) throw error;
        reply.header('retry-after', String(error.retryAfter));
        throw new HttpProblem(429, 'too many mailbox long-polls of this license', {
          code: error.code,
          detail: `at most ${error.limit} may wait at once; wait for one to return before starting another`,
          retryable: true,
          retryAfter: error.retryAfter,
        });
      } finally {
        reply.raw.off('close', onGone);
      }
      if (events.length > 0)
        await record({
          tenant: owner.tenant,
          actor,
          action: 'mailbox.pickup',
          outcome: 'success',
          requestId: req.id,
          data: { license: owner.licenseId, ids: events.map((e) => e.id) },
        });
      return { status: 200, body: { events } };
    },

    async ack({ body: { ids } }, { req, owner, actor }) {
      const acked = await mailbox.ack(owner, ids);
      await record({
        tenant: owner.tenant,
        actor,
        action: 'mailbox.ack',
        outcome: 'success',
        requestId: req.id,
        data: { license: owner.licenseId, ids: acked },
      });
      return { status: 200, body: { acked: acked.length } };
    },

    async reRequest({ params: { connection }, body, idempotencyKey }, { req, owner, actor }) {
      const requestId = `rr_${createHash('sha256').update(`${owner.licenseId}/${idempotencyKey}`).digest('base64url').slice(0, 22)}`;
      await record({
        tenant: owner.tenant,
        actor,
        action: 'mailbox.re-request',
        target: { type: 'connection', id: connection },
        outcome: 'success',
        requestId: req.id,
        data: { license: owner.licenseId, ...body, requestId },
      });
      return { status: 202, body: { requestId, status: 'requested' } };
    },

    async status(_input, { verified, owner }) {
      const pending = await mailbox.count(owner);
      const license = verified.license;
      return {
        status: 200,
        body: {
          license: {
            id: license.id,
            status: license.status,
            product: license.product,
            entitlements: [...license.entitlements],
            expiresAt: license.expiresAt?.toISOString() ?? null,
          },
          device: { jkt: verified.proof.jkt },
          mailbox: { pending },
          connections: await vault.list(owner),
          relay: { version: deps.version, time: new Date().toISOString() },
        },
      };
    },

    async webhookEndpoint({ params: { connection } }, { owner }) {
      const endpoint = await vault.webhookEndpoint(owner, connection);
      if (!endpoint)
        throw new HttpProblem(404, 'no webhook secret stored for this connection', {
          code: 'ERR_NO_WEBHOOK_SECRET',
          detail:
            "store the connection's credentials with a webhookSecret field; its webhook URL exists from then on",
        });
      return {
        status: 200,
        body: {
          connection,
          ...endpoint,
          ...(deps.legacyWebhooks ? {} : { legacyUrl: null }),
        },
      };
    },
  };
}

/** A handler as the registration loop calls it, once the request matched its route. */
type AnyHandler = (
  input: unknown,
  ctx: ProofContext | DeviceContext,
) => Promise<{ readonly status: number; readonly body: unknown }>;

/** Registers every route of the contract with its handler. */
export function registerAgentApi(
  app: RelayHttpServer,
  deps: AgentApiDeps,
  handlers: AgentHandlers = agentHandlers(deps),
): void {
  const { authority } = deps;
  for (const name of Object.keys(relayContract) as RouteName[]) {
    const route: RouteDefinition = relayContract[name];
    // The map is typed per route by the contract; here the loop checks each request against
    // that same route's schemas before calling its handler, which is what makes this safe.
    const handler = handlers[name] as AnyHandler;
    app.route({
      method: route.method,
      url: route.path.replace(/\{(\w+)\}/g, ':$1'),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const nonce = authority.nonce();
        if (nonce) reply.header('dpop-nonce', nonce);
        // The body as received (a Buffer is a Uint8Array: no copy).
        const raw = req.body instanceof Buffer ? req.body : undefined;
        const json = parseJsonBody(raw);
        if (!route.body && raw?.length)
          throw new HttpProblem(400, 'this route takes no body', { code: 'ERR_VALIDATION' });
        const input = {
          params: parse(route.params, req.params, 'params'),
          query: parse(route.query, req.query, 'query'),
          body: parse(route.body, json, 'body'),
        };
        const request = authorityRequest(deps.baseUrl(), req, raw);
        let answer: Awaited<ReturnType<AnyHandler>>;
        if (route.auth === 'proof') {
          try {
            answer = await handler(input, { req, reply, request });
          } catch (error) {
            throw licenseProblem(error, reply);
          }
        } else {
          let verified: VerifiedRequest;
          try {
            verified = await authority.verifyRequest(request);
          } catch (error) {
            throw licenseProblem(error, reply);
          }
          const owner: Owner = { licenseId: verified.license.id, tenant: verified.license.tenant };
          await deps.limitLicense(owner.licenseId, reply);
          let idempotencyKey: { idempotencyKey?: string } = {};
          if (route.idempotencyKey) {
            const key = IdempotencyKey.safeParse(header(req, 'idempotency-key'));
            if (!key.success) throw invalid('header.idempotency-key', key.error);
            idempotencyKey = { idempotencyKey: key.data };
          }
          answer = await handler(
            { ...input, ...idempotencyKey },
            {
              req,
              reply,
              raw: raw ?? new Uint8Array(),
              verified,
              owner,
              actor: deviceActor(verified, req),
            },
          );
        }
        return reply.code(answer.status).send(answer.body);
      },
    });
  }
}
