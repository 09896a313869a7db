/**
 * A stand-in third party for the Fluxel relay: a marketplace (order status, shipments) and a
 * payment provider (signed webhooks). It keeps an effect log of everything it accepted, with
 * the idempotency key it was sent, so tests can count deliveries; it can be switched "down"
 * (every business call answers 503) to play an outage, or to answer late (after executing).
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { signWebhook } from '@fluxel-example/kit/webhooks';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Agent, request } from 'undici';
import { z } from 'zod';

/** Standard Webhooks, as the relay verifies them (the kit's one implementation). */
export {
  newWebhookSecret as generateWebhookSecret,
  signWebhook,
  webhookKey,
} from '@fluxel-example/kit/webhooks';

/** One accepted business call. */
export interface Effect {
  readonly seq: number;
  readonly operation: 'order.status' | 'shipment.create';
  readonly idempotencyKey: string | null;
  readonly body: unknown;
  readonly at: string;
}

export interface WebhookTarget {
  /**
   * The connection's own hook URL at the relay, `https://<relay>/v1/hooks/<connection>/<hookId>`
   * (the agent prints it after `credentials put` with a `webhookSecret`; changeable later with
   * {@link Counterpart.setWebhookUrl} or `PUT /admin/webhook-target`).
   */
  readonly url: string;
  /** The `whsec_` secret shared with the relay. */
  readonly secret: string;
  /**
   * PEM of the CA that issued the relay's certificate (trusted explicitly; verification stays
   * on), or a function read at each send (the relay may create its CA after we start).
   */
  readonly ca?: string | (() => string | undefined);
}

export interface CounterpartOptions {
  /** The API key callers present as `Authorization: Bearer <key>`. */
  readonly apiKey: string;
  /** Key for `/admin/*`; default the API key. */
  readonly adminKey?: string;
  /** Default 0 (any free port). Always bound to 127.0.0.1. */
  readonly port?: number;
  /** Start in an outage. */
  readonly down?: boolean;
  /** Where payment webhooks go. */
  readonly webhook?: WebhookTarget;
  /** Clock in ms (webhook timestamps). */
  readonly now?: () => number;
  /** Log requests (Fastify logger). Default false. */
  readonly logger?: boolean;
  /**
   * Deduplicate by `Idempotency-Key`, as payment providers do: a repeated key with the same
   * operation and body gets the first answer again (header `idempotent-replayed: true`) and no
   * new effect; the same key with another request gets `422`. Default false, so tests that
   * count the relay's re-forwards see every call.
   */
  readonly idempotent?: boolean;
  /**
   * Answer business calls this late (ms), after executing them: the effect is recorded at
   * once, the answer follows. Plays a third party slower than its caller's timeout, whose
   * caller cannot tell whether the call was executed. Default 0; see also `setAnswerDelay`.
   */
  readonly answerDelayMs?: number;
}

export interface SendWebhookInput {
  readonly type?: string;
  readonly payload?: unknown;
  readonly id?: string;
  /** Seconds since the epoch; default now (override to play an old or forged message). */
  readonly timestamp?: number;
  /** Sign with this secret instead of the configured one (to play a forger). */
  readonly secret?: string;
  /** Send to this URL instead of the configured one. */
  readonly url?: string;
}

export interface WebhookResult {
  readonly id: string;
  readonly status: number;
  readonly body: unknown;
}

export interface Counterpart {
  readonly url: string;
  /** Accepted calls, in order. */
  readonly effects: readonly Effect[];
  /** Every call that reached a business route while down (answered 503). */
  readonly refused: number;
  /** Calls answered from the idempotency store (`idempotent: true`) without a new effect. */
  readonly replayed: number;
  isDown(): boolean;
  setDown(down: boolean): void;
  /** Answer business calls `ms` late from now on (like `answerDelayMs`; 0 answers at once). */
  setAnswerDelay(ms: number): void;
  sendPaymentWebhook(input?: SendWebhookInput): Promise<WebhookResult>;
  /** Where payment webhooks go from now on (a provider's "endpoint URL" setting). */
  setWebhookUrl(url: string): void;
  close(): Promise<void>;
}

const OrderStatus = z.strictObject({
  status: z.enum(['accepted', 'packed', 'shipped', 'delivered', 'cancelled']),
  note: z.string().max(500).optional(),
});
const Shipment = z.strictObject({
  order: z.string().min(1).max(64),
  carrier: z.string().min(1).max(64),
  tracking: z.string().min(1).max(128),
});
const OrderParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) });
const Outage = z.strictObject({ down: z.boolean() });
const AnswerDelay = z.strictObject({ ms: z.number().int().min(0).max(600_000) });
const WebhookTargetRequest = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048),
});
const WebhookRequest = z.strictObject({
  type: z.string().min(1).max(128).optional(),
  payload: z.unknown().optional(),
});

function problem(reply: FastifyReply, status: number, title: string): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status });
}

function bearerMatches(req: FastifyRequest, key: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1] as string);
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Starts the counterpart on 127.0.0.1. */
export async function createCounterpart(options: CounterpartOptions): Promise<Counterpart> {
  if (options.apiKey.length < 8) throw new Error('the API key must have at least 8 characters');
  const adminKey = options.adminKey ?? options.apiKey;
  const now = options.now ?? Date.now;
  const effects: Effect[] = [];
  let webhookUrl = options.webhook?.url;
  let down = options.down ?? false;
  let answerDelayMs = options.answerDelayMs ?? 0;
  let refused = 0;
  let replayed = 0;
  // Idempotency store: `operation key` → the request it came with and the first answer.
  const answered = new Map<string, { request: string; status: number; body: unknown }>();
  const ANSWERED_MAX = 100_000;
  let agent: { ca: string | undefined; dispatcher: Agent } | undefined;
  const dispatcherFor = async (): Promise<Agent> => {
    const source = options.webhook?.ca;
    const ca = typeof source === 'function' ? source() : source;
    if (agent && agent.ca === ca) return agent.dispatcher;
    await agent?.dispatcher.close();
    agent = { ca, dispatcher: new Agent(ca ? { connect: { ca } } : {}) };
    return agent.dispatcher;
  };

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 });
  app.setErrorHandler((error: { statusCode?: number }, _req, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    return problem(reply, status, status === 500 ? 'internal error' : 'bad request');
  });
  app.setNotFoundHandler((_req, reply) => problem(reply, 404, 'not found'));

  const business = (
    operation: Effect['operation'],
    parse: (req: FastifyRequest) => { ok: true; body: unknown } | { ok: false },
    answer: (effect: Effect) => { status: number; body: unknown },
  ) => {
    return async (req: FastifyRequest, reply: FastifyReply) => {
      if (!bearerMatches(req, options.apiKey)) return problem(reply, 401, 'invalid API key');
      if (down) {
        refused++;
        reply.header('retry-after', '30');
        return problem(reply, 503, 'service unavailable');
      }
      const parsed = parse(req);
      if (!parsed.ok) return problem(reply, 400, 'invalid request');
      const key = req.headers['idempotency-key'];
      const slot =
        options.idempotent && typeof key === 'string' ? `${operation} ${key}` : undefined;
      const requestText = JSON.stringify(parsed.body);
      const previous = slot ? answered.get(slot) : undefined;
      if (previous) {
        if (previous.request !== requestText)
          return problem(reply, 422, 'idempotency key reused with another request');
        replayed++;
        return reply
          .code(previous.status)
          .header('idempotent-replayed', 'true')
          .send(previous.body);
      }
      const effect: Effect = {
        seq: effects.length + 1,
        operation,
        idempotencyKey: typeof key === 'string' ? key : null,
        body: parsed.body,
        at: new Date(now()).toISOString(),
      };
      effects.push(effect);
      const { status, body } = answer(effect);
      if (slot) {
        if (answered.size >= ANSWERED_MAX) answered.delete(answered.keys().next().value as string);
        answered.set(slot, { request: requestText, status, body });
      }
      // Executed; the answer comes late (the caller may have given up by then).
      const delay = answerDelayMs;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      return reply.code(status).send(body);
    };
  };

  app.post(
    '/orders/:id/status',
    business(
      'order.status',
      (req) => {
        const params = OrderParams.safeParse(req.params);
        const body = OrderStatus.safeParse(req.body);
        return params.success && body.success
          ? { ok: true, body: { order: params.data.id, ...body.data } }
          : { ok: false };
      },
      (effect) => ({ status: 200, body: { ok: true, seq: effect.seq } }),
    ),
  );
  app.post(
    '/shipments',
    business(
      'shipment.create',
      (req) => {
        const body = Shipment.safeParse(req.body);
        return body.success ? { ok: true, body: body.data } : { ok: false };
      },
      (effect) => ({ status: 201, body: { shipmentId: `shp-${effect.seq}` } }),
    ),
  );

  async function sendPaymentWebhook(input: SendWebhookInput = {}): Promise<WebhookResult> {
    const target = options.webhook;
    const url = input.url ?? webhookUrl;
    const secret = input.secret ?? target?.secret;
    if (!url || !secret) throw new Error('no webhook target configured');
    const id = input.id ?? `msg_${randomUUID()}`;
    const timestamp = input.timestamp ?? Math.floor(now() / 1000);
    const body = JSON.stringify({
      type: input.type ?? 'payment.received',
      timestamp: new Date(timestamp * 1000).toISOString(),
      data: input.payload ?? { paymentId: `pay_${randomUUID()}`, amount: 1999, currency: 'EUR' },
    });
    const res = await request(url, {
      method: 'POST',
      dispatcher: await dispatcherFor(),
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, id, timestamp, body),
      },
      body,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { id, status: res.statusCode, body: parsed };
  }

  const admin = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (bearerMatches(req, adminKey)) return true;
    void problem(reply, 401, 'invalid admin key');
    return false;
  };
  app.post('/admin/outage', async (req, reply) => {
    if (!admin(req, reply)) return reply;
    const body = Outage.safeParse(req.body);
    if (!body.success) return problem(reply, 400, 'invalid request');
    down = body.data.down;
    return { down };
  });
  app.post('/admin/answer-delay', async (req, reply) => {
    if (!admin(req, reply)) return reply;
    const body = AnswerDelay.safeParse(req.body);
    if (!body.success) return problem(reply, 400, 'invalid request: {"ms": 0…600000}');
    answerDelayMs = body.data.ms;
    return { ms: answerDelayMs };
  });
  app.get('/admin/effects', async (req, reply) => {
    if (!admin(req, reply)) return reply;
    return { down, refused, replayed, effects };
  });
  // The endpoint URL webhooks go to: each license's connection has its own at the relay.
  app.put('/admin/webhook-target', async (req, reply) => {
    if (!admin(req, reply)) return reply;
    const body = WebhookTargetRequest.safeParse(req.body ?? {});
    if (!body.success) return problem(reply, 400, 'invalid request');
    webhookUrl = body.data.url;
    return { url: webhookUrl };
  });
  app.post('/admin/webhook', async (req, reply) => {
    if (!admin(req, reply)) return reply;
    const body = WebhookRequest.safeParse(req.body ?? {});
    if (!body.success) return problem(reply, 400, 'invalid request');
    try {
      const result = await sendPaymentWebhook({
        ...(body.data.type ? { type: body.data.type } : {}),
        ...(body.data.payload !== undefined ? { payload: body.data.payload } : {}),
      });
      return { id: result.id, relayStatus: result.status };
    } catch {
      return problem(reply, 502, 'webhook delivery failed');
    }
  });

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- the stand-in third party listens on loopback only (test and demo peer)
    url: `http://127.0.0.1:${port}`,
    effects,
    get refused() {
      return refused;
    },
    get replayed() {
      return replayed;
    },
    isDown: () => down,
    setWebhookUrl: (url) => {
      webhookUrl = url;
    },
    setDown: (value) => {
      down = value;
    },
    setAnswerDelay: (ms) => {
      if (!Number.isSafeInteger(ms) || ms < 0)
        throw new RangeError(`the answer delay must be whole milliseconds ≥ 0, got ${ms}`);
      answerDelayMs = ms;
    },
    sendPaymentWebhook,
    close: async () => {
      await app.close();
      await agent?.dispatcher.close();
    },
  };
}
